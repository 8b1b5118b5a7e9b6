--
-- joins: parameterized scans (one request chain per outer row), joins
-- with the inventory tables, LIMIT, and EXPLAIN ANALYZE counters
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER join_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER join_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE SCHEMA atlas;
IMPORT FOREIGN SCHEMA atlas FROM SERVER join_srv INTO atlas;

-- a local inventory: 20 production clusters, 5 others
CREATE TABLE my_clusters (group_id text, name text, owner text, env text);
INSERT INTO my_clusters
SELECT CASE WHEN i % 2 = 0 THEN '32b6e34b3d91647abb20e7b8' ELSE '5e2211c17a3e5a48f5497de3' END,
       'n' || i, 'team-' || (i % 4), 'prod'
  FROM generate_series(1, 20) i;
INSERT INTO my_clusters VALUES
	('32b6e34b3d91647abb20e7b8', 'n100', 'team-x', 'dev'),
	('32b6e34b3d91647abb20e7b8', 'n101', 'team-x', 'dev'),
	('32b6e34b3d91647abb20e7b8', 'n102', 'team-x', 'dev'),
	('32b6e34b3d91647abb20e7b8', 'n103', 'team-x', 'dev'),
	('32b6e34b3d91647abb20e7b8', 'n104', 'team-x', 'dev');
ANALYZE my_clusters;

-- the join of the README: a nested loop whose inner scan gets the keys of
-- each outer row
EXPLAIN (VERBOSE, COSTS OFF)
SELECT c.owner, s.cluster_name, max(s.created_at) AS last_snapshot, count(*)
  FROM my_clusters c JOIN atlas.cluster_snapshots s
    ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.env = 'prod' AND s.status = 'completed'
 GROUP BY 1, 2;
\! python3 test/mockctl.py reset
SELECT c.owner, s.cluster_name, max(s.created_at) AS last_snapshot, count(*)
  FROM my_clusters c JOIN atlas.cluster_snapshots s
    ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.env = 'prod' AND s.status = 'completed'
 GROUP BY 1, 2 ORDER BY 1, 2;
\! python3 test/mockctl.py log --authorized | wc -l
\! python3 test/mockctl.py log --authorized | sort | head -3

-- with the inventory foreign tables: projects -> clusters -> snapshots
EXPLAIN (VERBOSE, COSTS OFF)
SELECT p.name, c.name, count(s.id)
  FROM atlas.projects p
  JOIN atlas.clusters c ON c.group_id = p.id
  LEFT JOIN atlas.cluster_snapshots s ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.backup_enabled AND c.cluster_type = 'REPLICASET'
 GROUP BY 1, 2;
\! python3 test/mockctl.py reset
SELECT p.name, c.name, count(s.id)
  FROM atlas.projects p
  JOIN atlas.clusters c ON c.group_id = p.id
  LEFT JOIN atlas.cluster_snapshots s ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.backup_enabled AND c.cluster_type = 'REPLICASET'
 GROUP BY 1, 2 ORDER BY 1, 2;
\! python3 test/mockctl.py log --authorized | sort

-- USING, and a CTE on the outer side
\! python3 test/mockctl.py reset
WITH wanted(group_id, cluster_name) AS (
	VALUES ('32b6e34b3d91647abb20e7b8', 'prod-1'), ('32b6e34b3d91647abb20e7b8', 'n3')
)
SELECT w.cluster_name, s.id FROM wanted w JOIN atlas.cluster_snapshots s USING (group_id, cluster_name)
 ORDER BY 2;
\! python3 test/mockctl.py log --authorized | sort

-- scans inside functions called by another scan share its connection; an
-- error caught inside the function leaves the outer scan intact
CREATE FUNCTION safe_count(g text, c text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
	RETURN (SELECT count(*) FROM atlas.cluster_snapshots WHERE group_id = g AND cluster_name = c);
EXCEPTION WHEN OTHERS THEN
	RETURN -1;
END $$;
\! python3 test/mockctl.py fault '{"match": "clusters/prod-2/backup", "kind": "status", "status": 404, "errorCode": "CLUSTER_NOT_FOUND"}'
SELECT c.group_id, c.name, safe_count(c.group_id, c.name)
  FROM atlas.clusters c
 WHERE c.group_id IN ('32b6e34b3d91647abb20e7b8', '5e2211c17a3e5a48f5497de3', '6b8cd3c1e8f0b0a1d2c3d4e5')
 ORDER BY 1, 2;
DROP FUNCTION safe_count;

-- a join on only one key: the other one is found by enumeration, the
-- organization's REPLICASET clusters with backup enabled (prod-1's three
-- snapshots for each of the 15 rows of group 1)
SELECT count(*) FROM my_clusters c JOIN atlas.cluster_snapshots s ON s.group_id = c.group_id;
-- ... which a constant can give
SELECT c.name, count(s.id)
  FROM my_clusters c JOIN atlas.cluster_snapshots s ON s.group_id = c.group_id
 WHERE s.cluster_name = 'n2' AND c.env = 'prod' AND c.name IN ('n2', 'n4')
 GROUP BY 1 ORDER BY 1;

-- LIMIT: the page size shrinks to the limit and no further page is asked
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n1234' LIMIT 10;
\! python3 test/mockctl.py reset
SELECT id FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n1234' LIMIT 10 OFFSET 5;
\! python3 test/mockctl.py log --authorized | sort
-- but not when rows are filtered locally, or sorted first
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n1234' AND status = 'failed' LIMIT 10;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n1234' ORDER BY created_at LIMIT 10;
\! python3 test/mockctl.py reset
SELECT group_id, cluster_name, count(*) FROM (
	SELECT * FROM atlas.cluster_snapshots
	 WHERE group_id = ANY ('{32b6e34b3d91647abb20e7b8,5e2211c17a3e5a48f5497de3}')
	   AND cluster_name = ANY ('{n3,n700}') LIMIT 10) s
 GROUP BY 1, 2 ORDER BY 1, 2;
\! python3 test/mockctl.py log --authorized | sort

-- EXPLAIN ANALYZE counts requests and pages (shown with COSTS only)
CREATE FUNCTION atlas_counters(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF) ' || query LOOP
		IF line ~ 'Atlas|Foreign Scan' AND line !~ 'Peak In Flight' THEN
			RETURN NEXT regexp_replace(line, '\(cost=.*\)', '');
		END IF;
	END LOOP;
END $$;
SELECT atlas_counters($$SELECT * FROM atlas.cluster_snapshots
	WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1000', 'n3')$$);
-- ... and not under COSTS OFF.  explain_stable shows a plan the same way
-- on PostgreSQL 15 to 18: 18 prints actual rows with two decimals
-- ("rows=1003.00"), 17 stopped printing "(returns $0)" after an InitPlan
CREATE FUNCTION explain_stable(options text, query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (' || options || ') ' || query LOOP
		RETURN NEXT regexp_replace(regexp_replace(line, 'rows=(\d+)\.00 ', 'rows=\1 '),
								   ' \(returns \$\d+\)', '');
	END LOOP;
END $$;
SELECT explain_stable('ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF', $$SELECT * FROM atlas.cluster_snapshots
	WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n1000', 'n3')$$);

-- the two sides of an inventory join read their cluster lists together:
-- each scan arms its first request at executor start, and it goes out as
-- soon as the first scan waits, so with both lists held back 300 ms the
-- second request reaches Atlas before the first is answered (issue 17)
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "groups/32b6e34b3d91647abb20e7b8/clusters[?]", "kind": "stall", "seconds": 0.3, "count": 2}'
SELECT count(*) FROM atlas.clusters c JOIN atlas.cluster_snapshots s
    ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.group_id = '32b6e34b3d91647abb20e7b8';
\! python3 test/mockctl.py log --times --authorized --grep 'clusters[?]' | awk '{ arrived[NR] = $1; answered[NR] = $2 } END { print NR " cluster list requests, " (arrived[2] < answered[1] ? "overlapping" : "one after the other") }'
-- the same through a service account whose token the query obtains first:
-- the armed request waits for the token, then goes out with the other
\getenv client_id ATLAS_MOCK_CLIENT_ID
\getenv client_secret ATLAS_MOCK_CLIENT_SECRET
CREATE SERVER join_sa FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER join_sa
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE SCHEMA atlas_sa;
IMPORT FOREIGN SCHEMA atlas LIMIT TO (clusters, cluster_snapshots)
	FROM SERVER join_sa INTO atlas_sa;
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "groups/32b6e34b3d91647abb20e7b8/clusters[?]", "kind": "stall", "seconds": 0.3, "count": 2}'
SELECT count(*) FROM atlas_sa.clusters c JOIN atlas_sa.cluster_snapshots s
    ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.group_id = '32b6e34b3d91647abb20e7b8';
\! python3 test/mockctl.py log --times --authorized --grep 'clusters[?]' | awk '{ arrived[NR] = $1; answered[NR] = $2 } END { print NR " cluster list requests, " (arrived[2] < answered[1] ? "overlapping" : "one after the other") }'
\! python3 test/mockctl.py log --authorized --grep oauth | wc -l
DROP SCHEMA atlas_sa CASCADE;
DROP SERVER join_sa CASCADE;
-- a scan the planner proves empty sends nothing (its armed request too)
\! python3 test/mockctl.py reset
SELECT count(*) FROM atlas.clusters c JOIN atlas.cluster_snapshots s
    ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.group_id = '32b6e34b3d91647abb20e7b8' AND c.group_id = '5e2211c17a3e5a48f5497de3';
\! python3 test/mockctl.py log --authorized | wc -l
-- a key given by an initPlan attached to the scan itself is not armed (the
-- initPlan is not set up yet at executor start): the scan reads it later
-- (a crash when it was armed: the key read an unset parameter)
SELECT explain_stable('COSTS OFF', $$SELECT id FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = (SELECT 'n1')$$);
SELECT id FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = (SELECT 'n1');

DROP SCHEMA atlas CASCADE;
DROP TABLE my_clusters;
DROP FUNCTION atlas_counters;
DROP FUNCTION explain_stable;
DROP SERVER join_srv CASCADE;
