--
-- memory: what one scan holds for pages stays within max_scan_memory, a
-- hostile page (30 MB of empty objects, valid JSON, whose json-c tree
-- would take gigabytes) is a clear error, and the backend's peak RSS
-- (VmHWM) grows by less than max_scan_memory.  Not run under valgrind,
-- whose own memory hides the backend's.
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY

-- max_page_bytes may be at most half of max_scan_memory
CREATE SERVER mem_bad FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (max_page_bytes '33554432', max_scan_memory '33554432');
CREATE SERVER mem_bad FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (max_page_bytes '8388608');
ALTER SERVER mem_bad OPTIONS (ADD max_scan_memory '8388608');
ALTER SERVER mem_bad OPTIONS (DROP max_page_bytes);
ALTER SERVER mem_bad OPTIONS (ADD max_scan_memory '1000');
DROP SERVER mem_bad;

-- 80 MB: 40 MB for bodies, 40 MB for the tree of the page being read
CREATE SERVER mem_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '0',
			 max_page_bytes '33554432', max_scan_memory '83886080');
CREATE USER MAPPING FOR CURRENT_USER SERVER mem_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE mem_snaps (
	group_id text NOT NULL, cluster_name text NOT NULL, id text, status text
) SERVER mem_srv OPTIONS (resource 'cluster_snapshots');
CREATE FUNCTION backend_hwm_kb() RETURNS bigint LANGUAGE sql AS $$
	SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'),
						 'VmHWM:\s+(\d+) kB'))[1]::bigint $$;
\! python3 test/mockctl.py reset

-- warm up (libcurl, the connection, the catalog caches)
SELECT count(*) FROM mem_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
SELECT backend_hwm_kb() AS hwm_before \gset

-- a page of 20,000 empty objects (60 kB, a tree of some 16 MB) gives its rows
\! python3 test/mockctl.py fault '{"match": "/clusters/n0/", "kind": "many_items", "items": 20000}'
SELECT count(*), count(id) FROM mem_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n0';

-- 10,000,000 of them (30 MB) would need some 8 GB: a clear error
\! python3 test/mockctl.py fault '{"match": "/clusters/n0/", "kind": "many_items", "items": 10000000, "count": -1}'
\set VERBOSITY terse
SELECT count(*) FROM mem_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n0';
\set VERBOSITY default

-- the backend's peak grew by less than max_scan_memory
SELECT backend_hwm_kb() - :hwm_before < 83886080 / 1024 AS within_budget;

-- the session still works
\! python3 test/mockctl.py reset
SELECT count(*) FROM mem_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';

-- the body of an answer that is to be retried is not kept: a 500 of 24 MB
-- (retried in 30 s) followed by an ERROR of another cluster leaves the
-- backend holding no more than before, whatever handle the 500 came on
-- (with 256 MB, both clusters' first pages are asked for at once)
\c
CREATE FUNCTION backend_rss_kb() RETURNS bigint LANGUAGE sql AS $$
	SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'),
						 'VmRSS:\s+(\d+) kB'))[1]::bigint $$;
ALTER SERVER mem_srv OPTIONS (SET max_retries '2', ADD max_retry_wait_ms '60000',
	SET max_scan_memory '268435456');
SELECT count(*) FROM mem_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1', 'n2');
SELECT backend_rss_kb() AS rss_before \gset
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "/clusters/n2/", "kind": "status", "status": 500, "retry_after": 30, "detail": "x", "repeat": 24000000}'
\! python3 test/mockctl.py fault '{"match": "/clusters/n1/", "kind": "status", "status": 404, "errorCode": "CLUSTER_NOT_FOUND", "wait_ms": 3000}'
\set VERBOSITY terse
SELECT count(*) FROM mem_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1', 'n2');
\set VERBOSITY default
\! python3 test/mockctl.py log --authorized | cut -c1-3 | sort
SELECT backend_rss_kb() - :rss_before < 8192 AS body_released;
DROP FUNCTION backend_rss_kb();
\! python3 test/mockctl.py reset

DROP FUNCTION backend_hwm_kb();
DROP SERVER mem_srv CASCADE;
\! python3 test/mockctl.py reset
