--
-- pagination: empty lists, exactly full pages, many pages, small pages,
-- rescans; the mock's request log shows exactly what was asked
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER page_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER page_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE page_snaps (
	group_id text NOT NULL, cluster_name text NOT NULL, id text,
	created_at timestamptz, status text, storage_size_bytes bigint
) SERVER page_srv OPTIONS (resource 'cluster_snapshots');

-- no snapshots: one request, no rows
\! python3 test/mockctl.py reset
SELECT count(*) FROM page_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n0';
\! python3 test/mockctl.py log --authorized | sort

-- one snapshot
SELECT id, created_at FROM page_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n1';

-- exactly one full page: a second, empty page ends the list
\! python3 test/mockctl.py reset
SELECT count(*), sum(storage_size_bytes), min(created_at), max(created_at)
  FROM page_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n500';
\! python3 test/mockctl.py log --authorized | sort

-- many pages: 1234 = 500 + 500 + 234
\! python3 test/mockctl.py reset
SELECT count(*), count(DISTINCT id), sum(storage_size_bytes),
       sum(storage_size_bytes) = 1234 * 1000000 + 1234 * 1233 / 2 AS sum_ok
  FROM page_snaps
 WHERE group_id = '5e2211c17a3e5a48f5497de3' AND cluster_name = 'n1234';
\! python3 test/mockctl.py log --authorized | sort

-- rows arrive in the API's order, page after page
SELECT id, created_at, status FROM page_snaps
 WHERE group_id = '5e2211c17a3e5a48f5497de3' AND cluster_name = 'n1234'
OFFSET 497 LIMIT 6;

-- the page size comes from the table, then the server
ALTER FOREIGN TABLE page_snaps OPTIONS (ADD items_per_page '7');
\! python3 test/mockctl.py reset
SELECT count(*), count(DISTINCT id) FROM page_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n20';
\! python3 test/mockctl.py log --authorized | sort
ALTER FOREIGN TABLE page_snaps OPTIONS (DROP items_per_page);
ALTER SERVER page_srv OPTIONS (ADD items_per_page '250');
\! python3 test/mockctl.py reset
SELECT count(*) FROM page_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n501';
\! python3 test/mockctl.py log --authorized | sort
ALTER SERVER page_srv OPTIONS (DROP items_per_page);

-- a large list streams: memory is bounded by one page
SELECT count(*), sum(storage_size_bytes) = 20000 * 1000000::bigint + 20000 * 19999 / 2 AS sum_ok
  FROM page_snaps
 WHERE group_id = '6b8cd3c1e8f0b0a1d2c3d4e5' AND cluster_name = 'n20000';

-- rescans: the inner side of a nested loop is read again for each outer row
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
\! python3 test/mockctl.py reset
SELECT v.n, count(s.id)
  FROM (VALUES (1), (2), (3)) v(n)
  LEFT JOIN page_snaps s ON s.storage_size_bytes = 1000000 + v.n
   AND s.group_id = '32b6e34b3d91647abb20e7b8' AND s.cluster_name = 'n5'
 GROUP BY v.n ORDER BY v.n;
\! python3 test/mockctl.py log --authorized | sort
\! python3 test/mockctl.py reset
SELECT v.n, count(s.id)
  FROM (VALUES (1), (2)) v(n)
  LEFT JOIN page_snaps s ON s.storage_size_bytes > 1000000 + v.n
   AND s.group_id = '32b6e34b3d91647abb20e7b8' AND s.cluster_name = 'n600'
 GROUP BY v.n ORDER BY v.n;
\! python3 test/mockctl.py log --authorized | sort
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;

-- a cursor can stop early: with max_concurrency 1 (sequential, nothing
-- fetched ahead) only the pages read are fetched
ALTER SERVER page_srv OPTIONS (ADD max_concurrency '1');
\! python3 test/mockctl.py reset
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM page_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n1234';
FETCH 2 FROM c;
CLOSE c;
COMMIT;
\! python3 test/mockctl.py log --authorized | sort

-- concurrency changes neither the rows, nor the order of each cluster's
-- rows, nor the requests; with max_concurrency 1 the clusters come one
-- after another in the order of the IN list, with more their rows may
-- interleave (a cluster whose pages arrive first is read first)
\! python3 test/mockctl.py reset
CREATE TABLE page_results AS
SELECT 1 AS max_concurrency, row_number() OVER () AS n, cluster_name, id FROM page_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1234', 'n0', 'n501', 'n3', 'n1000');
\! python3 test/mockctl.py log --authorized | sort > results/atlas_requests_1.txt
ALTER SERVER page_srv OPTIONS (SET max_concurrency '8');
\! python3 test/mockctl.py reset
INSERT INTO page_results
SELECT 8, row_number() OVER (), cluster_name, id FROM page_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1234', 'n0', 'n501', 'n3', 'n1000');
\! python3 test/mockctl.py log --authorized | sort > results/atlas_requests_8.txt
SELECT cluster_name, min(n), max(n) FROM page_results
 WHERE max_concurrency = 1 GROUP BY cluster_name ORDER BY min(n);
WITH r AS (
	SELECT *, row_number() OVER (PARTITION BY max_concurrency, cluster_name ORDER BY n) AS k
	  FROM page_results)
SELECT count(*) AS rows_each,
       count(*) FILTER (WHERE a.id = b.id) AS same_order_per_cluster
  FROM r a JOIN r b USING (cluster_name, k)
 WHERE a.max_concurrency = 1 AND b.max_concurrency = 8;
\! wc -l < results/atlas_requests_8.txt; cmp results/atlas_requests_1.txt results/atlas_requests_8.txt && echo "same requests"; rm -f results/atlas_requests_1.txt results/atlas_requests_8.txt
DROP TABLE page_results;

-- reading clusters as their pages arrive, a failure in one cluster leaves
-- the others whole: a passing one is retried, and a lasting one ends the
-- scan naming the very request that failed
ALTER SERVER page_srv OPTIONS (ADD max_retries '1', ADD max_retry_wait_ms '20');
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "clusters/n1000/.*pageNum=2&", "kind": "status", "status": 503}'
SELECT cluster_name, count(*), count(DISTINCT id) FROM page_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1234', 'n501', 'n1000')
 GROUP BY cluster_name ORDER BY cluster_name;
\! python3 test/mockctl.py log --authorized | grep -c '^503 '
\! python3 test/mockctl.py fault '{"match": "clusters/n1000/.*pageNum=2&", "kind": "status", "status": 500, "count": -1}'
SELECT count(*) FROM page_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1234', 'n501', 'n1000');
\! python3 test/mockctl.py reset
SELECT count(*) FROM page_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1234', 'n501', 'n1000');

-- a server that ignores pageNum, or whose pages wrap around after a few,
-- is found out on every resource, within a few pages: one transfer at a
-- time (max_concurrency 1) shows exactly which pages were asked for
CREATE SERVER page_seq FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_concurrency '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER page_seq
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE page_buckets (group_id text NOT NULL, id text, bucket_name text)
	SERVER page_seq OPTIONS (resource 'export_buckets', items_per_page '1');
CREATE FOREIGN TABLE page_seq_snaps (group_id text NOT NULL, cluster_name text NOT NULL, id text)
	SERVER page_seq OPTIONS (resource 'cluster_snapshots', items_per_page '2');
SET statement_timeout = '60s';
-- buckets (whose items carry "_id"): the list of two, read as it should be
\! python3 test/mockctl.py reset
SELECT id, bucket_name FROM page_buckets WHERE group_id = '32b6e34b3d91647abb20e7b8' ORDER BY id;
-- the same page over and over: page 2 repeats page 1
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "exportBuckets", "kind": "ignore_page_num", "count": -1}'
SELECT id FROM page_buckets WHERE group_id = '32b6e34b3d91647abb20e7b8';
\! python3 test/mockctl.py log --authorized
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "exportBuckets", "kind": "ignore_page_num", "count": -1}'
SELECT id FROM page_buckets WHERE group_id = '32b6e34b3d91647abb20e7b8' LIMIT 5;
\! python3 test/mockctl.py log --authorized | wc -l
-- pages 1, 2, 1, 2, ...: page 3 repeats page 1
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "exportBuckets", "kind": "ignore_page_num", "cycle": 2, "count": -1}'
SELECT id FROM page_buckets WHERE group_id = '32b6e34b3d91647abb20e7b8';
\! python3 test/mockctl.py log --authorized
-- snapshots, a cycle of 3 pages: found at its first repeated page
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "clusters/n1234/", "kind": "ignore_page_num", "cycle": 3, "count": -1}'
SELECT count(*) FROM page_seq_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n1234';
\! python3 test/mockctl.py log --authorized | wc -l
-- a cycle of 12 pages, longer than the pages remembered one by one: found
-- all the same, one cycle after page 16
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "clusters/n1234/", "kind": "ignore_page_num", "cycle": 12, "count": -1}'
SELECT count(*) FROM page_seq_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n1234';
\! python3 test/mockctl.py log --authorized | wc -l
-- fetching ahead (32 transfers), no more than a window of pages is asked
-- for before the repeated page is read
ALTER SERVER page_seq OPTIONS (SET max_concurrency '32');
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "clusters/n1234/", "kind": "ignore_page_num", "count": -1}'
SELECT count(*) FROM page_seq_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n1234';
\! python3 test/mockctl.py log --authorized | awk 'END { print (NR >= 2 && NR <= 34) ? "at most 34 requests" : NR " requests" }'
\! python3 test/mockctl.py reset
RESET statement_timeout;
DROP SERVER page_seq CASCADE;

DROP SERVER page_srv CASCADE;
