--
-- enumerate: project-wide and organization-wide snapshot scans, which find
-- the clusters themselves, and joins with the inventory that use them
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER enum_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER enum_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE SCHEMA atlas;
IMPORT FOREIGN SCHEMA atlas FROM SERVER enum_srv INTO atlas;
-- the lines of a plan that say how the snapshots are read: a nested loop
-- if there is one, and the snapshot scan (the join method, the order of
-- its inputs and the InitPlan line vary between PostgreSQL versions)
CREATE FUNCTION strategy(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || query LOOP
		IF line ~ 'Nested Loop|Atlas Enumeration|snapshots' AND line !~ 'Output:|Key:' THEN
			RETURN NEXT btrim(line, ' ->');
		END IF;
	END LOOP;
END $$;

-- project-wide: that project's REPLICASET clusters with backup enabled
-- (prod-1, prod-2), no request for shard-1 or nobackup-1
EXPLAIN (VERBOSE, COSTS OFF)
SELECT cluster_name, id FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8';
\! python3 test/mockctl.py reset
SELECT cluster_name, id, status FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' ORDER BY 1, 2;
\! python3 test/mockctl.py log --authorized | sort

-- organization-wide: GET /groups, then each project's clusters
EXPLAIN (VERBOSE, COSTS OFF)
SELECT group_id, cluster_name, id FROM atlas.cluster_snapshots WHERE status = 'failed';
\! python3 test/mockctl.py reset
SELECT group_id, cluster_name, id FROM atlas.cluster_snapshots WHERE status = 'failed';
\! python3 test/mockctl.py log --authorized | sort
SELECT group_id, cluster_name, count(*) FROM atlas.cluster_snapshots GROUP BY 1, 2 ORDER BY 1, 2;

-- a cluster name without a project is looked for in every project
\! python3 test/mockctl.py reset
SELECT group_id, cluster_name, count(*) FROM atlas.cluster_snapshots
 WHERE cluster_name IN ('prod-1', 'stage-1', 'nobackup-1', 'shard-1', 'nowhere')
 GROUP BY 1, 2 ORDER BY 1, 2;
\! python3 test/mockctl.py log --authorized | sort

-- each table its own kind: sharded clusters, Flex clusters, serverless
-- instances
\! python3 test/mockctl.py reset
SELECT cluster_name, id FROM atlas.sharded_cluster_snapshots ORDER BY 1, 2;
\! python3 test/mockctl.py log --authorized | sort
\! python3 test/mockctl.py reset
SELECT cluster_name, id, status FROM atlas.flex_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' ORDER BY 1, 2;
\! python3 test/mockctl.py log --authorized | sort
SELECT cluster_name, id FROM atlas.serverless_snapshots
 WHERE cluster_name = 'serverless-1' ORDER BY 1, 2;
-- serverless-gone's snapshots are retired (410), and so is an empty list
-- of this deprecated kind: an error, as when the instance is named
\set VERBOSITY terse
SELECT count(*) FROM atlas.serverless_snapshots WHERE group_id = '32b6e34b3d91647abb20e7b8';
\set VERBOSITY default
-- the retired shared tier is not enumerated
SELECT count(*) FROM atlas.tenant_snapshots WHERE group_id = '32b6e34b3d91647abb20e7b8';

-- a project with no cluster makes one request, and no rows
\! python3 test/mockctl.py reset
SELECT count(*) FROM atlas.cluster_snapshots WHERE group_id = '6b8cd3c1e8f0b0a1d2c3d4e5';
\! python3 test/mockctl.py log --authorized | sort

-- max_request_chains bounds every level of an enumeration, each before
-- the requests it would cost, and the error names the level and the
-- count.  Projects: more projects than that is an ERROR before any
-- cluster list is asked for (3 projects here)
ALTER SERVER enum_srv OPTIONS (ADD max_request_chains '2');
\! python3 test/mockctl.py reset
SELECT count(*) FROM atlas.cluster_snapshots;
\! python3 test/mockctl.py log --authorized | sort
-- ... whether GET /groups lists them (1,000 more projects: its three
-- pages are read and counted, no cluster list), or group_id names them
ALTER SERVER enum_srv OPTIONS (SET max_request_chains '5');
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py variant '{"projects": 1000}'
SELECT count(*) FROM atlas.cluster_snapshots WHERE cluster_name = 'prod-1';
\! python3 test/mockctl.py log --authorized | sed 's/pageNum=[0-9]*&//' | sort | uniq -c
\! python3 test/mockctl.py reset
SELECT count(*) FROM atlas.cluster_snapshots
 WHERE group_id IN ('32b6e34b3d91647abb20e7b8', '5e2211c17a3e5a48f5497de3',
					'6b8cd3c1e8f0b0a1d2c3d4e5', 'bf0000000000000000000001',
					'bf0000000000000000000002', 'bf0000000000000000000003');
\! python3 test/mockctl.py log --authorized | grep -c . || true
-- clusters: more than that is an ERROR before any snapshot request (the
-- cluster lists are read to the end, to count them)
ALTER SERVER enum_srv OPTIONS (SET max_request_chains '1');
\! python3 test/mockctl.py reset
SELECT count(*) FROM atlas.cluster_snapshots WHERE group_id = '32b6e34b3d91647abb20e7b8';
\! python3 test/mockctl.py log --authorized | grep -c /backup/ || true
-- as many as allowed is fine
ALTER SERVER enum_srv OPTIONS (SET max_request_chains '3');
SELECT count(*) FROM atlas.cluster_snapshots;
ALTER SERVER enum_srv OPTIONS (DROP max_request_chains);

-- inventory failures: retried, then reported with the request
\! python3 test/mockctl.py fault '{"match": "groups/32b6e34b3d91647abb20e7b8/clusters\\?", "kind": "status", "status": 503}'
SELECT count(*) FROM atlas.cluster_snapshots WHERE group_id = '32b6e34b3d91647abb20e7b8';
\! python3 test/mockctl.py fault '{"match": "groups/32b6e34b3d91647abb20e7b8/clusters\\?", "kind": "status", "status": 503, "count": -1}'
ALTER SERVER enum_srv OPTIONS (ADD max_retries '1', max_retry_wait_ms '10');
SELECT count(*) FROM atlas.cluster_snapshots WHERE group_id = '32b6e34b3d91647abb20e7b8';
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "^/api/atlas/v2/groups\\?", "kind": "wrong_shape", "count": -1}'
SELECT count(*) FROM atlas.cluster_snapshots;
\! python3 test/mockctl.py reset
ALTER SERVER enum_srv OPTIONS (DROP max_retries, DROP max_retry_wait_ms);

-- enumeration off: today's error, on the server or the table
ALTER SERVER enum_srv OPTIONS (ADD enumerate 'false');
SELECT count(*) FROM atlas.cluster_snapshots WHERE group_id = '32b6e34b3d91647abb20e7b8';
ALTER FOREIGN TABLE atlas.cluster_snapshots OPTIONS (ADD enumerate 'true');
SELECT count(*) FROM atlas.cluster_snapshots WHERE group_id = '32b6e34b3d91647abb20e7b8';
ALTER FOREIGN TABLE atlas.cluster_snapshots OPTIONS (DROP enumerate);
ALTER SERVER enum_srv OPTIONS (DROP enumerate);

-- the inventory join: an enumerating scan of the project and a hash join,
-- rather than one request chain per cluster, one after the other
EXPLAIN (VERBOSE, COSTS OFF)
SELECT c.name, s.id
  FROM atlas.clusters c JOIN atlas.cluster_snapshots s
    ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.group_id = '32b6e34b3d91647abb20e7b8';
\! python3 test/mockctl.py reset
SELECT c.name, s.id
  FROM atlas.clusters c JOIN atlas.cluster_snapshots s
    ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.group_id = '32b6e34b3d91647abb20e7b8' ORDER BY 1, 2;
\! python3 test/mockctl.py log --authorized | sort
-- ... and its LEFT JOIN form, as the reports use it (a hash or merge
-- join, not a nested loop)
SELECT strategy($$SELECT c.name, count(s.id)
  FROM atlas.clusters c LEFT JOIN atlas.cluster_snapshots s
    ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.group_id = '32b6e34b3d91647abb20e7b8'
 GROUP BY 1$$);
SELECT c.name, count(s.id)
  FROM atlas.clusters c LEFT JOIN atlas.cluster_snapshots s
    ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.group_id = '32b6e34b3d91647abb20e7b8'
 GROUP BY 1 ORDER BY 1;

-- a local table of clusters: the array idiom makes one scan whose chains
-- run concurrently
CREATE TABLE my_clusters (name text);
INSERT INTO my_clusters VALUES ('n3'), ('n5'), ('prod-1');
SELECT strategy($$SELECT cluster_name, count(*) FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name = ANY (ARRAY(SELECT name FROM my_clusters))
 GROUP BY 1$$);
SELECT cluster_name, count(*) FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name = ANY (ARRAY(SELECT name FROM my_clusters))
 GROUP BY 1 ORDER BY 1;

-- EXPLAIN ANALYZE counts the inventory requests too
CREATE FUNCTION atlas_counters(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF) ' || query LOOP
		IF line ~ 'Atlas Requests' THEN
			RETURN NEXT line;
		END IF;
	END LOOP;
END $$;
SELECT atlas_counters($$SELECT * FROM atlas.cluster_snapshots$$);
-- ... its pages, and its rate limits: a 429 on the project's cluster list
-- is counted, and so is the wait it cost (shown as wait > 0)
CREATE FUNCTION atlas_counts(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF) ' || query LOOP
		IF line ~ 'Atlas (Requests|Pages|Rate Limited)' THEN
			RETURN NEXT btrim(line);
		ELSIF line ~ 'Atlas Rate Limit Wait' THEN
			RETURN NEXT 'Atlas Rate Limit Wait > 0: ' ||
				(substring(line from ': ([0-9.]+) ms')::numeric > 0)::text;
		END IF;
	END LOOP;
END $$;
ALTER SERVER enum_srv OPTIONS (ADD max_retry_wait_ms '50');
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "groups/32b6e34b3d91647abb20e7b8/clusters\\?", "kind": "status", "status": 429, "retry_after": 1}'
SELECT atlas_counts($$SELECT * FROM atlas.cluster_snapshots WHERE group_id = '32b6e34b3d91647abb20e7b8'$$);
\! python3 test/mockctl.py log --authorized | sort
ALTER SERVER enum_srv OPTIONS (DROP max_retry_wait_ms);

DROP FUNCTION atlas_counters;
DROP FUNCTION atlas_counts;
DROP FUNCTION strategy;
DROP TABLE my_clusters;
SET client_min_messages = warning;
DROP SCHEMA atlas CASCADE;
DROP SERVER enum_srv CASCADE;
RESET client_min_messages;
