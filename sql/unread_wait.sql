--
-- unread_wait: timeout_ms bounds how long Atlas takes to answer, never how
-- long the executor takes to come back.  Transfers of a scan that is not
-- waiting (pages a cursor fetched ahead, the first request armed by another
-- scan, the next page of a slow consumer) may sit answered and unread for
-- longer than timeout_ms: they give their rows.  A server that stalls while
-- the backend waits is still an error.  No assertion on time: rows, the
-- mock's log, the error.
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER unread_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', timeout_ms '1000', connect_timeout_ms '1000',
			 items_per_page '5', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER unread_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE unread_snaps (group_id text, cluster_name text, id text)
	SERVER unread_srv OPTIONS (resource 'cluster_snapshots');
CREATE FOREIGN TABLE unread_long (group_id text, cluster_name text, id text)
	SERVER unread_srv OPTIONS (resource 'cluster_snapshots', items_per_page '60');
\! python3 test/mockctl.py reset
\set VERBOSITY terse

-- a slow plan step between two scans: n6's first request (armed, sent
-- while n5's scan waits; its answer 0.2 s late) is answered while pg_sleep
-- runs.  First in the file: the handles are new, so the Digest exchange of
-- n6 (a challenge, then the request) is left half done too.
\! python3 test/mockctl.py fault '{"match": "clusters/n6/", "kind": "stall", "seconds": 0.2}'
SELECT a.n, c.n
  FROM (SELECT count(*) AS n FROM unread_snaps
		 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n5') a,
	   (SELECT pg_sleep(1.2)) b,
	   (SELECT count(*) AS n FROM unread_snaps
		 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n6') c;

-- a cursor: its first page read, the pages fetched ahead (n40 has 8 of
-- 5 rows) wait unread while the session idles past timeout_ms
BEGIN;
DECLARE c CURSOR FOR
	SELECT id FROM unread_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8'
	   AND cluster_name = 'n40';
FETCH 1 FROM c;
SELECT pg_sleep(1.2);
MOVE 36 IN c;
FETCH ALL FROM c;
COMMIT;

-- a slow consumer over two clusters: n1's page (its answer 0.1 s late)
-- waits while the 60 rows of n60 are consumed, at 0.025 s a row
\! python3 test/mockctl.py fault '{"match": "clusters/n1/", "kind": "stall", "seconds": 0.1}'
SELECT cluster_name, count(*)
  FROM (SELECT cluster_name, pg_sleep(0.025) AS z
		  FROM unread_long WHERE group_id = '32b6e34b3d91647abb20e7b8'
		   AND cluster_name IN ('n60', 'n1')) s
 GROUP BY cluster_name ORDER BY cluster_name;

-- each page was asked for once: nothing timed out, nothing was sent again
\! python3 test/mockctl.py log --authorized | sort | uniq -d

-- a server that stalls while a cursor waits for a page fetched ahead: the
-- timeout, as before
\! python3 test/mockctl.py fault '{"match": "clusters/n12/.*pageNum=3", "kind": "stall", "seconds": 3}'
BEGIN;
DECLARE c CURSOR FOR
	SELECT id FROM unread_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8'
	   AND cluster_name = 'n12';
FETCH 1 FROM c;
MOVE ALL IN c;
ROLLBACK;
\! python3 test/mockctl.py reset
\set VERBOSITY default

DROP SERVER unread_srv CASCADE;
