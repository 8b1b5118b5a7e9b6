--
-- http_errors: what Atlas and the network can answer, and the error each
-- gives; after every error the next query in the session works
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER err_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', timeout_ms '3000');
CREATE USER MAPPING FOR CURRENT_USER SERVER err_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE err_snaps (
	group_id text NOT NULL, cluster_name text NOT NULL, id text,
	status text, storage_size_bytes bigint
) SERVER err_srv OPTIONS (resource 'cluster_snapshots');
CREATE VIEW err_check AS
	SELECT count(*) AS n FROM err_snaps
	 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
\! python3 test/mockctl.py reset
\set VERBOSITY default

-- 404: no such cluster, no such project
SELECT * FROM err_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'nosuch';
SELECT * FROM err_snaps WHERE group_id = 'aaaaaaaaaaaaaaaaaaaaaaaa' AND cluster_name = 'prod-1';
SELECT * FROM err_check;

-- 500, 503, 429 and 400, with Atlas's error code and detail
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 500, "errorCode": "UNEXPECTED_ERROR", "detail": "Unexpected error."}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 429, "errorCode": "RATE_LIMITED", "detail": "Too many requests.", "retry_after": 1}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 400, "errorCode": "INVALID_PARAMETER", "detail": "Bad page."}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 403, "errorCode": "ACCESS_DENIED", "detail": "No role."}'
SELECT * FROM err_check;
SELECT * FROM err_check;

-- bodies that are not what they should be
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "invalid_json"}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "html"}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "wrong_shape"}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "wrong_type"}'
SELECT id, storage_size_bytes FROM err_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "redirect", "location": "http://127.0.0.2/"}'
SELECT * FROM err_check;
SELECT * FROM err_check;

-- the network: a body cut short, a reset connection, a stall, a closed port
\set VERBOSITY terse
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "truncated"}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "reset"}'
SELECT * FROM err_check;
ALTER SERVER err_srv OPTIONS (SET timeout_ms '500');
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "stall", "seconds": 3}'
SELECT * FROM err_check;
ALTER SERVER err_srv OPTIONS (SET timeout_ms '3000');
SELECT * FROM err_check;
\set VERBOSITY default
CREATE SERVER err_closed FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url 'http://127.0.0.1:9', connect_timeout_ms '2000');
CREATE USER MAPPING FOR CURRENT_USER SERVER err_closed
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE err_closed_snaps (group_id text, cluster_name text, id text)
	SERVER err_closed OPTIONS (resource 'cluster_snapshots');
\set VERBOSITY terse
SELECT * FROM err_closed_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
\set VERBOSITY default

-- a page over max_page_bytes
ALTER SERVER err_srv OPTIONS (ADD max_page_bytes '4096');
SELECT count(*) FROM err_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n100';
ALTER SERVER err_srv OPTIONS (DROP max_page_bytes);
SELECT count(*) FROM err_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n100';

-- 401: wrong key, and a mapping without credentials; no secret is shown
ALTER USER MAPPING FOR CURRENT_USER SERVER err_srv OPTIONS (SET private_key 'wrong-private-key');
SELECT * FROM err_check;
ALTER USER MAPPING FOR CURRENT_USER SERVER err_srv OPTIONS (DROP public_key, DROP private_key);
SELECT * FROM err_check;
ALTER USER MAPPING FOR CURRENT_USER SERVER err_srv
	OPTIONS (ADD public_key :'public_key', ADD private_key :'private_key');
SELECT * FROM err_check;

-- every request of this file reached the mock as one exchange per page
\! python3 test/mockctl.py log --authorized --grep 'nosuch|n100' | sort | uniq -c

DROP SERVER err_srv, err_closed CASCADE;
