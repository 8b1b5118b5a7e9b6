--
-- oauth: service accounts (OAuth 2.0 client credentials) instead of API keys
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv client_id ATLAS_MOCK_CLIENT_ID
\getenv client_secret ATLAS_MOCK_CLIENT_SECRET
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER oauth_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '2', max_retry_wait_ms '20',
			 max_concurrency '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER oauth_srv
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE FOREIGN TABLE oauth_snaps (group_id text, cluster_name text, id text)
	SERVER oauth_srv OPTIONS (resource 'cluster_snapshots');
CREATE VIEW oauth_check AS
	SELECT count(*) AS n FROM oauth_snaps
	 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('prod-1', 'n2');

-- one token, then bearer requests; the token is cached for later queries
\! python3 test/mockctl.py reset
SELECT * FROM oauth_check;
SELECT * FROM oauth_check;
\! python3 test/mockctl.py log

-- a revoked (or expired) token: one 401, a new token, the same request again
\! python3 test/mockctl.py revoke-tokens
\! python3 test/mockctl.py reset
SELECT * FROM oauth_check;
\! python3 test/mockctl.py log

-- the token endpoint is retried like any request
\! python3 test/mockctl.py revoke-tokens
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "status", "status": 503, "errorCode": "SERVICE_UNAVAILABLE", "detail": "Try later."}'
SELECT * FROM oauth_check;
\! python3 test/mockctl.py log --grep oauth

-- wrong credentials: a clear error, no secret in it
\set VERBOSITY default
ALTER USER MAPPING FOR CURRENT_USER SERVER oauth_srv OPTIONS (SET client_secret 'wrong-secret');
SELECT * FROM oauth_check;
ALTER USER MAPPING FOR CURRENT_USER SERVER oauth_srv OPTIONS (SET client_id 'mdb_sa_id_nobody');
SELECT * FROM oauth_check;
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "status", "status": 503, "count": 3}'
ALTER USER MAPPING FOR CURRENT_USER SERVER oauth_srv
	OPTIONS (SET client_id :'client_id', SET client_secret :'client_secret');
SELECT * FROM oauth_check;

-- changing the user mapping drops the cached token
\! python3 test/mockctl.py reset
SELECT * FROM oauth_check;
ALTER SERVER oauth_srv OPTIONS (ADD items_per_page '100');
SELECT * FROM oauth_check;
\! python3 test/mockctl.py log --grep oauth

-- a token must go into a header as it is: one that would smuggle a line
-- break into our requests is no token, nor is an answer that is not JSON
ALTER SERVER oauth_srv OPTIONS (SET items_per_page '99');
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "raw", "body": "{\"access_token\": \"abc\\r\\nX-Injected: 1\", \"expires_in\": 3600}"}'
SELECT * FROM oauth_check;
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "raw", "body": "<html>Service account tokens are down</html>"}'
SELECT * FROM oauth_check;
SELECT * FROM oauth_check;

-- the same mapping can move to an API key
ALTER USER MAPPING FOR CURRENT_USER SERVER oauth_srv
	OPTIONS (DROP client_id, DROP client_secret, ADD public_key :'public_key', ADD private_key :'private_key');
\! python3 test/mockctl.py reset
SELECT * FROM oauth_check;
\! python3 test/mockctl.py log

DROP SERVER oauth_srv CASCADE;
