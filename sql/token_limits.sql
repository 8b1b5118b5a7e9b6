--
-- token_limits: the token endpoint's own limits (Atlas allows a service
-- account 100 active tokens, and about 10 token requests a minute)
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv client_id ATLAS_MOCK_CLIENT_ID
\getenv client_secret ATLAS_MOCK_CLIENT_SECRET
CREATE SERVER limit_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '2', max_retry_wait_ms '50',
			 max_concurrency '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER limit_srv
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE FOREIGN TABLE limit_snaps (group_id text, cluster_name text, id text)
	SERVER limit_srv OPTIONS (resource 'cluster_snapshots');
CREATE SERVER ratelimit_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '2', max_retry_wait_ms '50',
			 max_concurrency '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER ratelimit_srv
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE FOREIGN TABLE ratelimit_snaps (group_id text, cluster_name text, id text)
	SERVER ratelimit_srv OPTIONS (resource 'cluster_snapshots');
CREATE SERVER exhausted_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '1', max_retry_wait_ms '50',
			 max_concurrency '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER exhausted_srv
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE FOREIGN TABLE exhausted_snaps (group_id text, cluster_name text, id text)
	SERVER exhausted_srv OPTIONS (resource 'cluster_snapshots');

-- the service account has all the active tokens Atlas allows: a clear
-- error at once (retrying cannot help before some expire), with a hint
\set VERBOSITY default
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py token-limit 0
SELECT count(*) FROM limit_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('prod-1', 'n2');
\! python3 test/mockctl.py log --grep oauth
-- once tokens are available again, the next query gets one
\! python3 test/mockctl.py token-limit off
SELECT count(*) FROM limit_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('prod-1', 'n2');
\! python3 test/mockctl.py log --grep oauth

-- a 429 of the token endpoint: retried after its Retry-After (cut to
-- max_retry_wait_ms), within max_retries
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "status", "status": 429, "retry_after": 1}'
SELECT count(*) FROM ratelimit_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('prod-1', 'n2');
\! python3 test/mockctl.py log --grep oauth

-- more 429s than retries: the error says what Atlas said
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "status", "status": 429, "retry_after": 1, "count": 2}'
SELECT count(*) FROM exhausted_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('prod-1', 'n2');
\! python3 test/mockctl.py log --grep oauth
\set VERBOSITY terse

\! python3 test/mockctl.py reset
DROP SERVER limit_srv CASCADE;
DROP SERVER ratelimit_srv CASCADE;
DROP SERVER exhausted_srv CASCADE;
