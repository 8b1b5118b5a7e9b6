--
-- pushdown: which WHERE clauses become request keys, what stays local,
-- and what EXPLAIN VERBOSE shows
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER push_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER push_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE push_snaps (
	group_id text NOT NULL, cluster_name text NOT NULL, id text,
	created_at timestamptz, status text, storage_size_bytes bigint
) SERVER push_srv OPTIONS (resource 'cluster_snapshots');

-- constants go into the path; other conditions are filtered locally
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id, status FROM push_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM push_snaps
 WHERE '32b6e34b3d91647abb20e7b8' = group_id AND cluster_name = 'prod-1'
   AND status = 'completed' AND created_at > '2026-10-31 06:00+00';
SELECT id FROM push_snaps
 WHERE '32b6e34b3d91647abb20e7b8' = group_id AND cluster_name = 'prod-1'
   AND status = 'completed' AND created_at > '2026-10-31 06:00+00';

-- conditions the API cannot apply exactly stay local, and then the key
-- is missing (an ERROR with enumeration off; see enumerate.sql)
ALTER FOREIGN TABLE push_snaps OPTIONS (ADD enumerate 'false');
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM push_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND lower(cluster_name) = 'prod-1';
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM push_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1' || random()::text;
-- with enumeration on (the default) the project's clusters are found
-- first, and the condition filters their rows
ALTER FOREIGN TABLE push_snaps OPTIONS (DROP enumerate);
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM push_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND lower(cluster_name) = 'prod-1';
SELECT id FROM push_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND lower(cluster_name) = 'prod-1' ORDER BY id;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM push_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1' COLLATE "C";

-- a stable expression is evaluated once, at execution
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM push_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-' || current_setting('server_version_num')::int / 150000;
SELECT count(*) FROM push_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-' || current_setting('server_version_num')::int / 150000;

-- parameters of prepared statements
PREPARE by_cluster(text, text) AS
	SELECT id, status FROM push_snaps WHERE group_id = $1 AND cluster_name = $2 ORDER BY id;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_cluster('32b6e34b3d91647abb20e7b8', 'prod-1');
EXECUTE by_cluster('32b6e34b3d91647abb20e7b8', 'prod-1');
EXECUTE by_cluster('32b6e34b3d91647abb20e7b8', 'n2');
EXECUTE by_cluster('32b6e34b3d91647abb20e7b8', NULL);
EXECUTE by_cluster('32b6e34b3d91647abb20e7b8', 'no/slash');
DEALLOCATE by_cluster;

-- IN lists and = ANY: one request chain per distinct combination
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT cluster_name, count(*) FROM push_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1', 'n2', 'n3', 'n2')
 GROUP BY 1 ORDER BY 1;
SELECT cluster_name, count(*) FROM push_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1', 'n2', 'n3', 'n2')
 GROUP BY 1 ORDER BY 1;
\! python3 test/mockctl.py log --authorized | sort
\! python3 test/mockctl.py reset
SELECT group_id, cluster_name, count(*) FROM push_snaps
 WHERE group_id = ANY ('{32b6e34b3d91647abb20e7b8,5e2211c17a3e5a48f5497de3}'::text[])
   AND cluster_name = ANY ('{n1,n2,NULL}'::text[])
 GROUP BY 1, 2 ORDER BY 1, 2;
\! python3 test/mockctl.py log --authorized | sort
-- two conditions on one key intersect
\! python3 test/mockctl.py reset
SELECT cluster_name, count(*) FROM push_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name IN ('n1', 'n2', 'n3') AND cluster_name = ANY ('{n3,n4,n1}')
 GROUP BY 1 ORDER BY 1;
SELECT count(*) FROM push_snaps
 WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name = 'n1' AND cluster_name = 'n2';
\! python3 test/mockctl.py log --authorized | sort

DROP SERVER push_srv CASCADE;
