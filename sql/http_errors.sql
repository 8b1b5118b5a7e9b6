--
-- http_errors: what Atlas and the network can answer, and the error each
-- gives; after every error the next query in the session works
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER err_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', timeout_ms '3000', max_retries '2', max_retry_wait_ms '20');
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

-- transient failures are retried (here at most twice, 20 ms apart at most);
-- when they persist, the error carries Atlas's code and detail
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 500, "errorCode": "UNEXPECTED_ERROR", "detail": "Unexpected error."}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 429, "errorCode": "RATE_LIMITED", "detail": "Too many requests.", "retry_after": 1}'
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 503, "errorCode": "SERVICE_UNAVAILABLE", "detail": "Try later."}'
SELECT * FROM err_check;
\! python3 test/mockctl.py log --authorized
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 500, "errorCode": "UNEXPECTED_ERROR", "detail": "Unexpected error.", "count": 3}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 429, "errorCode": "RATE_LIMITED", "detail": "Too many requests.", "retry_after": 1, "count": 3}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 503, "errorCode": "SERVICE_UNAVAILABLE", "detail": "Try later.", "count": 3}'
ALTER SERVER err_srv OPTIONS (SET max_retries '0');
SELECT * FROM err_check;
ALTER SERVER err_srv OPTIONS (SET max_retries '2');
\! python3 test/mockctl.py reset
-- client errors are not retried
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 400, "errorCode": "INVALID_PARAMETER", "detail": "Bad page."}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "status", "status": 403, "errorCode": "ACCESS_DENIED", "detail": "No role."}'
SELECT * FROM err_check;
\! python3 test/mockctl.py log --authorized
SELECT * FROM err_check;

-- bodies that are not what they should be
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "invalid_json"}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "html", "status": 404}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "wrong_shape"}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "wrong_type"}'
SELECT id, storage_size_bytes FROM err_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "redirect", "location": "http://127.0.0.2/"}'
SELECT * FROM err_check;
SELECT * FROM err_check;

-- the network: a body cut short, a reset connection (retried, then given
-- up), a stall (timeouts are not retried), a closed port
\set VERBOSITY terse
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "truncated"}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "truncated", "count": 3}'
SELECT * FROM err_check;
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "reset", "count": 4}'
SELECT * FROM err_check;
\! python3 test/mockctl.py reset
ALTER SERVER err_srv OPTIONS (SET timeout_ms '500');
\! python3 test/mockctl.py fault '{"match": "prod-1", "kind": "stall", "seconds": 3}'
SELECT * FROM err_check;
ALTER SERVER err_srv OPTIONS (SET timeout_ms '3000');
SELECT * FROM err_check;
CREATE SERVER err_closed FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url 'http://127.0.0.1:9', connect_timeout_ms '2000',
			 max_retries '1', max_retry_wait_ms '10');
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

-- 401: a wrong key is not retried; no secret is shown
ALTER USER MAPPING FOR CURRENT_USER SERVER err_srv OPTIONS (SET private_key 'wrong-private-key');
SELECT * FROM err_check;
ALTER USER MAPPING FOR CURRENT_USER SERVER err_srv OPTIONS (SET private_key :'private_key');
SELECT * FROM err_check;

-- the oversized page was asked for once, and once more after the limit was raised
\! python3 test/mockctl.py log --authorized --grep 'n100' | sort | uniq -c

DROP SERVER err_srv, err_closed CASCADE;
