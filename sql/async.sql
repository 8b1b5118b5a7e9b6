--
-- async: the partitions of a partitioned table (one server and user
-- mapping per organization) and the branches of a UNION ALL are scanned
-- concurrently when async_capable is on: the Append waits for all of them
-- on the one event loop.  In the mock every credential sees the same
-- projects, so each partition's bound (FOR VALUES IN its organization's
-- project ids) is what keeps the partitions apart: it becomes the
-- partition's group_id key.  The evidence of concurrency is the mock's
-- request log (which requests arrived while another was held), never a
-- timing.
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
\getenv client_id ATLAS_MOCK_CLIENT_ID
\getenv client_secret ATLAS_MOCK_CLIENT_SECRET

-- the option: boolean, on servers and tables
CREATE SERVER async_bad FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', async_capable 'maybe');
CREATE SERVER async_a FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', async_capable 'true', max_retries '0');
CREATE SERVER async_b FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', async_capable 'true', max_retries '0');
-- a service account's organization
CREATE SERVER async_c FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', async_capable 'true', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER async_a
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE USER MAPPING FOR CURRENT_USER SERVER async_b
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE USER MAPPING FOR CURRENT_USER SERVER async_c
	OPTIONS (client_id :'client_id', client_secret :'client_secret');

-- one partition per organization, its projects as its bound
CREATE TABLE org_snaps (group_id text, cluster_name text, id text,
						storage_size_bytes bigint, created_at timestamptz)
	PARTITION BY LIST (group_id);
CREATE FOREIGN TABLE org_a PARTITION OF org_snaps
	FOR VALUES IN ('32b6e34b3d91647abb20e7b8')
	SERVER async_a OPTIONS (resource 'cluster_snapshots', items_per_page '5');
CREATE FOREIGN TABLE org_b PARTITION OF org_snaps
	FOR VALUES IN ('5e2211c17a3e5a48f5497de3')
	SERVER async_b OPTIONS (resource 'cluster_snapshots', items_per_page '5');
CREATE FOREIGN TABLE org_c PARTITION OF org_snaps
	FOR VALUES IN ('6b8cd3c1e8f0b0a1d2c3d4e5')
	SERVER async_c OPTIONS (resource 'cluster_snapshots', items_per_page '5');
ALTER FOREIGN TABLE org_c OPTIONS (ADD async_capable 'maybe');
ALTER FOREIGN TABLE org_c OPTIONS (ADD async_capable 'true');

-- the rows of one query, as a digest (order-independent)
CREATE FUNCTION async_digest(q text, OUT n bigint, OUT digest text)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('SELECT count(*), md5(string_agg(r::text, %L ORDER BY r::text)) FROM (%s) r', ',', q)
		INTO n, digest;
END $$;

-- EXPLAIN: every partition an Async Foreign Scan, its bound a key
EXPLAIN (VERBOSE, COSTS OFF)
SELECT * FROM org_snaps WHERE cluster_name IN ('n12', 'n7');
-- a partition queried by itself keeps its bound too
EXPLAIN (VERBOSE, COSTS OFF)
SELECT * FROM org_b WHERE cluster_name = 'n7';
-- pruning: one partition, no Append to run it asynchronously
EXPLAIN (COSTS OFF)
SELECT * FROM org_snaps WHERE group_id = '5e2211c17a3e5a48f5497de3' AND cluster_name = 'n7';

-- the rows: the same asynchronously, synchronously and through UNION ALL
\! python3 test/mockctl.py reset
SELECT group_id, cluster_name, count(*), sum(storage_size_bytes), min(created_at)
  FROM org_snaps WHERE cluster_name IN ('n12', 'n7')
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT * FROM async_digest($$SELECT * FROM org_snaps WHERE cluster_name IN ('n12', 'n7')$$) \gset async_on_
SELECT * FROM async_digest($$
	SELECT * FROM org_a WHERE cluster_name IN ('n12', 'n7')
	UNION ALL SELECT * FROM org_b WHERE cluster_name IN ('n12', 'n7')
	UNION ALL SELECT * FROM org_c WHERE cluster_name IN ('n12', 'n7')$$) \gset union_all_
EXPLAIN (COSTS OFF)
SELECT * FROM org_a WHERE cluster_name IN ('n12', 'n7')
UNION ALL SELECT * FROM org_b WHERE cluster_name IN ('n12', 'n7');
ALTER SERVER async_a OPTIONS (SET async_capable 'false');
ALTER SERVER async_b OPTIONS (SET async_capable 'false');
ALTER FOREIGN TABLE org_c OPTIONS (SET async_capable 'false');
EXPLAIN (COSTS OFF)
SELECT * FROM org_snaps WHERE cluster_name IN ('n12', 'n7');
SELECT * FROM async_digest($$SELECT * FROM org_snaps WHERE cluster_name IN ('n12', 'n7')$$) \gset async_off_
SELECT :async_on_n AS n, :'async_on_digest' = :'async_off_digest' AS same_off,
	   :'async_on_digest' = :'union_all_digest' AS same_union_all,
	   :async_on_n = :async_off_n AND :async_on_n = :union_all_n AS same_counts;

-- concurrency: the first page of n12 in the first organization is held
-- for 1.5 s.  Synchronously, only the first request of each other
-- partition (armed when the executor starts them) arrives meanwhile;
-- asynchronously, all the other partitions' requests do (2 clusters, 5
-- pages each).  A run before each (the options changed: new connections)
-- meets the Digest challenges, so that the held request is the first of
-- its cluster in the log.
SELECT count(*) FROM org_snaps WHERE cluster_name IN ('n12', 'n7');
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "groups/32b6e34b3d91647abb20e7b8/clusters/n12/backup/snapshots[?].*pageNum=1&", "kind": "stall", "seconds": 1.5}'
SELECT count(*) FROM org_snaps WHERE cluster_name IN ('n12', 'n7');
\! python3 test/mockctl.py log --times --authorized | awk '{ a[NR] = $1; b[NR] = $2; t[NR] = $0 } END { for (i = 1; i <= NR; i++) if (t[i] ~ /32b6e34b3d91647abb20e7b8\/clusters\/n12\/.*pageNum=1&/) { end = b[i]; break } for (i = 1; i <= NR; i++) if (t[i] ~ /groups\/(5e2211c1|6b8cd3c1)/) { m++; if (a[i] < end) n++ } print n + 0 " of the other partitions\047 " m " requests arrived while it was held" }'
ALTER SERVER async_a OPTIONS (SET async_capable 'true');
ALTER SERVER async_b OPTIONS (SET async_capable 'true');
ALTER FOREIGN TABLE org_c OPTIONS (SET async_capable 'true');
SELECT count(*) FROM org_snaps WHERE cluster_name IN ('n12', 'n7');
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "groups/32b6e34b3d91647abb20e7b8/clusters/n12/backup/snapshots[?].*pageNum=1&", "kind": "stall", "seconds": 1.5}'
SELECT count(*) FROM org_snaps WHERE cluster_name IN ('n12', 'n7');
\! python3 test/mockctl.py log --times --authorized | awk '{ a[NR] = $1; b[NR] = $2; t[NR] = $0 } END { for (i = 1; i <= NR; i++) if (t[i] ~ /32b6e34b3d91647abb20e7b8\/clusters\/n12\/.*pageNum=1&/) { end = b[i]; break } for (i = 1; i <= NR; i++) if (t[i] ~ /groups\/(5e2211c1|6b8cd3c1)/) { m++; if (a[i] < end) n++ } print n + 0 " of the other partitions\047 " m " requests arrived while it was held" }'

-- LIMIT: the Append stops early; the scans' transfers are dropped, and
-- the session goes on
SELECT count(*) FROM (SELECT * FROM org_snaps WHERE cluster_name IN ('n12', 'n7') LIMIT 3) s;
SELECT count(*) FROM (SELECT * FROM org_snaps WHERE cluster_name = 'n40' LIMIT 12) s;
SELECT count(*) FROM org_snaps WHERE cluster_name IN ('n12', 'n7');

-- a fault in one partition is the query's error; the other partitions'
-- transfers are let go, and the next query reads everything
\set VERBOSITY terse
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "groups/5e2211c17a3e5a48f5497de3/clusters/n7/", "kind": "status", "status": 500}'
SELECT count(*) FROM org_snaps WHERE cluster_name IN ('n12', 'n7');
SELECT count(*) FROM org_snaps WHERE cluster_name IN ('n12', 'n7');
-- in a cursor (rows interleave as they arrive: none are shown)
BEGIN;
\! python3 test/mockctl.py fault '{"match": "groups/6b8cd3c1e8f0b0a1d2c3d4e5/clusters/n12/backup/snapshots[?].*pageNum=2&", "kind": "status", "status": 404, "errorCode": "CLUSTER_NOT_FOUND"}'
DECLARE c CURSOR FOR SELECT * FROM org_snaps WHERE cluster_name IN ('n12', 'n7');
FETCH ALL FROM c;
ROLLBACK;
SELECT count(*) FROM org_snaps WHERE cluster_name IN ('n12', 'n7');

-- cancel: statement_timeout while the Append waits
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "groups/6b8cd3c1e8f0b0a1d2c3d4e5/clusters/n7/", "kind": "stall", "seconds": 4}'
SET statement_timeout = '500ms';
SELECT count(*) FROM org_snaps WHERE cluster_name IN ('n12', 'n7');
RESET statement_timeout;
SELECT count(*) FROM org_snaps WHERE cluster_name IN ('n12', 'n7');
\set VERBOSITY default
\! python3 test/mockctl.py reset

DROP TABLE org_snaps;
DROP FUNCTION async_digest(text);
DROP SERVER async_a CASCADE;
DROP SERVER async_b CASCADE;
DROP SERVER async_c CASCADE;
