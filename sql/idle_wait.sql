--
-- idle_wait: a scan that waits does not spin.  A retry whose time has come
-- but that may not start yet (the adaptive limit, cut by a 429, is taken
-- by a transfer in flight) waits for that transfer, not in a busy loop.
-- The check is on the backend's CPU time (from /proc/self/stat, in clock
-- ticks) against a wait of 3 s: a spin uses about all of it, a wait next
-- to nothing; the bound, a third of the wait, leaves room for slow
-- machines.
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER idle_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_concurrency '2', max_retries '3',
			 max_retry_wait_ms '50');
CREATE USER MAPPING FOR CURRENT_USER SERVER idle_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE idle_snaps (group_id text, cluster_name text, id text)
	SERVER idle_srv OPTIONS (resource 'cluster_snapshots');
CREATE FUNCTION idle_cpu_ticks() RETURNS bigint LANGUAGE sql AS $$
	SELECT split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint
	  FROM pg_read_file('/proc/self/stat') AS s
$$;
\! python3 test/mockctl.py reset
-- warm up the connections (Digest nonces), outside the measurement
SELECT count(*) FROM idle_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name IN ('n1', 'n2');

-- n1 is answered 429 once (the limit goes from 2 to 1, its retry is due
-- within 50 ms), while n2's request, in flight, takes 3 s
\! python3 test/mockctl.py fault '{"match": "clusters/n1/", "kind": "status", "status": 429, "errorCode": "RATE_LIMITED", "retry_after": 0, "count": 1}'
\! python3 test/mockctl.py fault '{"match": "clusters/n2/", "kind": "stall", "seconds": 3}'
SELECT idle_cpu_ticks() AS before \gset
SELECT count(*) FROM idle_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name IN ('n1', 'n2');
SELECT idle_cpu_ticks() - :before < 100 AS idle;
\! python3 test/mockctl.py reset

DROP SERVER idle_srv CASCADE;
DROP FUNCTION idle_cpu_ticks();
