--
-- trust_net: every repeated request has a bound; a transfer completed for
-- another scan cannot fail the wrong query; server text is untrusted;
-- Retry-After dates; token lifetimes; changed mappings dropped at
-- transaction end
--
SET TIME ZONE 'UTC';
SET statement_timeout = '20s';
\getenv mock_url ATLAS_MOCK_URL
\getenv client_id ATLAS_MOCK_CLIENT_ID
\getenv client_secret ATLAS_MOCK_CLIENT_SECRET
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER tn_oauth FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '2', max_retry_wait_ms '20',
			 max_concurrency '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER tn_oauth
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE FOREIGN TABLE tn_osnaps (group_id text, cluster_name text, id text)
	SERVER tn_oauth OPTIONS (resource 'cluster_snapshots');
CREATE SERVER tn_key FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '2', max_retry_wait_ms '20');
CREATE USER MAPPING FOR CURRENT_USER SERVER tn_key
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE tn_ksnaps (group_id text, cluster_name text, id text)
	SERVER tn_key OPTIONS (resource 'cluster_snapshots');
CREATE VIEW tn_ocheck AS
	SELECT count(*) AS n FROM tn_osnaps
	 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('prod-1', 'n2');
CREATE VIEW tn_kcheck AS
	SELECT count(*) AS n FROM tn_ksnaps
	 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
\set VERBOSITY default

-- 1. access revoked while the token endpoint still works (every API
-- request answers 401): the cached token is renewed once, and a 401 to the
-- new token is final, with Atlas's errorCode
\! python3 test/mockctl.py reset
SELECT * FROM tn_ocheck;
\! python3 test/mockctl.py fault '{"match": "/clusters/", "kind": "status", "status": 401, "errorCode": "USER_UNAUTHORIZED", "detail": "Access revoked.", "count": -1}'
SELECT * FROM tn_ocheck;
\! python3 test/mockctl.py log
-- a token obtained during the scan: its 401 is final at once
ALTER SERVER tn_oauth OPTIONS (SET max_retries '3');
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "/clusters/", "kind": "status", "status": 401, "errorCode": "USER_UNAUTHORIZED", "detail": "Access revoked.", "count": -1}'
SELECT * FROM tn_ocheck;
\! python3 test/mockctl.py log
-- with transfers in flight together: still one token request at most
ALTER SERVER tn_oauth OPTIONS (SET max_concurrency '4');
\! python3 test/mockctl.py reset
SELECT * FROM tn_ocheck;
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "/clusters/", "kind": "status", "status": 401, "errorCode": "USER_UNAUTHORIZED", "detail": "Access revoked.", "count": -1}'
\set VERBOSITY terse
SELECT * FROM tn_ocheck;
\! python3 test/mockctl.py log --grep oauth
-- an API key whose valid Digest response is refused: final as well (a new
-- handle: the challenge, then the refused answer; libcurl tries no more)
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "/clusters/", "kind": "status", "status": 401, "errorCode": "USER_UNAUTHORIZED", "detail": "Access revoked.", "count": -1}'
SELECT * FROM tn_kcheck;
\! python3 test/mockctl.py log
\! python3 test/mockctl.py reset
SELECT * FROM tn_ocheck;
SELECT * FROM tn_kcheck;

-- 5. a cursor's page fetched ahead completes while another query waits
-- (the other query is slow on purpose): its failure (a 401, and a token
-- endpoint that is down) is reported by the cursor, and nothing is left
-- in flight
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "clusters/n2/", "kind": "status", "status": 401, "wait_ms": 300}'
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "status", "status": 503, "count": -1}'
\! python3 test/mockctl.py fault '{"match": "clusters/prod-1/", "kind": "stall", "seconds": 1.5}'
BEGIN;
DECLARE c CURSOR FOR
	SELECT cluster_name, id FROM tn_osnaps
	 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n3', 'n2');
FETCH 1 FROM c;
SAVEPOINT s;
SELECT * FROM tn_kcheck;
ROLLBACK TO s;
FETCH ALL FROM c;
COMMIT;
\! python3 test/mockctl.py reset
SELECT * FROM tn_ocheck;
SELECT * FROM tn_kcheck;
\set VERBOSITY default

-- 6. server text in messages: bounded (about 1 kB) and control
-- characters escaped
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 400, "errorCode": "BAD\nCODE", "detail": "Line one.\nLOG:  forged line\r\t\u0007", "repeat": 1}'
SELECT * FROM tn_kcheck;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 400, "errorCode": "INVALID_PARAMETER", "detail": "Too long. ", "repeat": 10000}'
SELECT * FROM tn_kcheck;
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "status", "status": 401, "errorCode": "invalid_client\nforged", "detail": "x", "repeat": 100000}'
ALTER SERVER tn_oauth OPTIONS (SET max_concurrency '1');
SELECT * FROM tn_ocheck;
-- response headers over 64 kB: a transfer error, not retried
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "huge_headers", "bytes": 100000}'
SELECT * FROM tn_kcheck;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "huge_headers", "bytes": 60000}'
SELECT * FROM tn_kcheck;
\! python3 test/mockctl.py log --authorized
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "huge_headers", "bytes": 100000}'
SELECT * FROM tn_ocheck;

-- 7. Retry-After as an HTTP-date (an hour ahead: the wait is cut to
-- max_retry_wait_ms, less jitter of a tenth)
ALTER SERVER tn_key OPTIONS (SET max_retry_wait_ms '1000');
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 503, "retry_after_date": 3600}'
SELECT clock_timestamp() AS t0 \gset
SELECT * FROM tn_kcheck;
SELECT clock_timestamp() - :'t0' >= interval '850 ms' AS waited_for_the_date;
ALTER SERVER tn_key OPTIONS (SET max_retry_wait_ms '20');
-- token lifetimes that are missing, not a number, or not positive are
-- errors, not one token request per API request
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "raw", "body": "{\"access_token\": \"abc\", \"token_type\": \"Bearer\"}"}'
SELECT * FROM tn_ocheck;
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "raw", "body": "{\"access_token\": \"abc\", \"expires_in\": \"3600\"}"}'
SELECT * FROM tn_ocheck;
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "raw", "body": "{\"access_token\": \"abc\", \"expires_in\": 0}"}'
SELECT * FROM tn_ocheck;
\! python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "raw", "body": "{\"access_token\": \"abc\", \"expires_in\": -5}"}'
SELECT * FROM tn_ocheck;
\! python3 test/mockctl.py log --grep oauth

-- 9. a changed user mapping's connection (and token) is closed at the end
-- of the transaction that sees the change, not at its next use (also when
-- the change is rolled back: the connection is simply made again)
SELECT * FROM tn_kcheck;
SET client_min_messages = debug3;
BEGIN;
ALTER USER MAPPING FOR CURRENT_USER SERVER tn_oauth
	OPTIONS (SET client_secret :'client_secret');
SELECT 1 AS changed;
COMMIT;
BEGIN;
DROP USER MAPPING FOR CURRENT_USER SERVER tn_key;
ROLLBACK;
RESET client_min_messages;
\! python3 test/mockctl.py reset
SELECT * FROM tn_ocheck;
SELECT * FROM tn_kcheck;
\! python3 test/mockctl.py log --grep oauth

RESET statement_timeout;
DROP SERVER tn_oauth, tn_key CASCADE;
