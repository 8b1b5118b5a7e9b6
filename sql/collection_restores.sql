--
-- collection_restores: collection restore jobs and what a snapshot holds
-- (its databases and their collections), resources added in 1.3 and read
-- with API version 2025-03-12 (the mock answers 406 to any other)
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER cr_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER cr_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
\set g1 '''32b6e34b3d91647abb20e7b8'''
\set s1 '''6a1f00000000000000000001'''
\set s2 '''6a1f00000000000000000002'''
\set s3 '''6a1f00000000000000000003'''

-- IMPORT FOREIGN SCHEMA creates the tables, typed, every field of the schemas
CREATE SCHEMA atlas;
IMPORT FOREIGN SCHEMA atlas LIMIT TO (collection_restore_jobs,
	snapshot_databases, snapshot_collections, cluster_snapshots)
	FROM SERVER cr_srv INTO atlas;
SELECT attrelid::regclass AS table_name,
       string_agg(attname || ' ' || format_type(atttypid, atttypmod) ||
                  CASE WHEN attnotnull THEN ' not null' ELSE '' END,
                  ', ' ORDER BY attnum) AS columns
  FROM pg_attribute
 WHERE attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'atlas'::regnamespace
                      AND relname <> 'cluster_snapshots')
   AND attnum > 0
 GROUP BY 1 ORDER BY 1::text;

-- collection restore jobs: the list of a cluster, keys in the path
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT * FROM atlas.collection_restore_jobs WHERE group_id = :g1 AND cluster_name = 'prod-1';
SELECT cluster_name, id, state, created_at, finished_at, snapshot_id,
       point_in_time_utc_seconds, oplog_ts, oplog_inc, target_cluster_name,
       target_group_id, error_message
  FROM atlas.collection_restore_jobs
 WHERE group_id = :g1 AND cluster_name IN ('prod-1', 'prod-2', 'shard-1')
 ORDER BY created_at;
SELECT id, collections, databases, collection_suffix, database_suffix,
       index_strategy, write_strategy, index_status, restored_documents,
       total_documents
  FROM atlas.collection_restore_jobs
 WHERE group_id = :g1 AND cluster_name IN ('prod-1', 'prod-2')
 ORDER BY id;
\! python3 test/mockctl.py log --authorized | sort

-- paging: two jobs a page
\! python3 test/mockctl.py reset
ALTER FOREIGN TABLE atlas.collection_restore_jobs OPTIONS (ADD items_per_page '2');
SELECT id, state FROM atlas.collection_restore_jobs
 WHERE group_id = :g1 AND cluster_name = 'prod-1' ORDER BY id;
\! python3 test/mockctl.py log --authorized | sort
ALTER FOREIGN TABLE atlas.collection_restore_jobs OPTIONS (DROP items_per_page);

-- by id, and IN lists of ids; a missing job is no row
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT * FROM atlas.collection_restore_jobs
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND id = '6b4e00000000000000000002';
SELECT id, state, restored_documents, total_documents,
       round(100.0 * restored_documents / total_documents) AS pct
  FROM atlas.collection_restore_jobs
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND id = '6b4e00000000000000000002';
SELECT id, state FROM atlas.collection_restore_jobs
 WHERE group_id = :g1 AND cluster_name = 'prod-1'
   AND id IN ('6b4e00000000000000000003', 'ffffffffffffffffffffffff')
 ORDER BY id;
\! python3 test/mockctl.py log --authorized | sort
-- by id, only a missing job is zero rows: a missing cluster is an error
SELECT id FROM atlas.collection_restore_jobs
 WHERE group_id = :g1 AND cluster_name = 'nosuch' AND id = '6b4e00000000000000000002';
SELECT count(*) FROM atlas.collection_restore_jobs
 WHERE group_id = 'ffffffffffffffffffffffff' AND cluster_name = 'prod-1';
-- the namespaces a job restored, one row each
SELECT j.id, j.state, ns->>'sourceNamespace' AS source,
       coalesce(ns->>'targetNamespace',
                ns->>'sourceNamespace' || coalesce(j.collection_suffix, j.database_suffix, '')) AS target
  FROM atlas.collection_restore_jobs j,
       jsonb_array_elements(j.collections || j.databases) ns
 WHERE j.group_id = :g1 AND j.cluster_name IN ('prod-1', 'prod-2')
 ORDER BY 1, 3;
-- each job's snapshot, looked up by id (a point-in-time restore has none,
-- and the snapshot of the September job has expired since)
SELECT j.id, j.snapshot_id, s.created_at AS snapshot_taken, s.frequency_type
  FROM atlas.collection_restore_jobs j
  LEFT JOIN atlas.cluster_snapshots s
    ON s.group_id = j.group_id AND s.cluster_name = j.cluster_name AND s.id = j.snapshot_id
 WHERE j.group_id = :g1 AND j.cluster_name IN ('prod-1', 'prod-2')
 ORDER BY j.id;

-- a snapshot's databases: group, cluster and snapshot in the path
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT * FROM atlas.snapshot_databases
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id = :s1;
SELECT group_id, cluster_name, snapshot_id, name, links->0->>'rel' AS rel,
       links->0->>'href' LIKE '%/snapshots/' || snapshot_id || '/databases/%' AS self_link
  FROM atlas.snapshot_databases
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id IN (:s1, :s2, :s3)
 ORDER BY snapshot_id, name;
-- paging: three databases a page
ALTER FOREIGN TABLE atlas.snapshot_databases OPTIONS (ADD items_per_page '3');
SELECT name FROM atlas.snapshot_databases
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id = :s1 ORDER BY name;
ALTER FOREIGN TABLE atlas.snapshot_databases OPTIONS (DROP items_per_page);
\! python3 test/mockctl.py log --authorized | sort

-- one database by name (escaped in the path; the name is checked again on
-- the row that comes back); a missing database or snapshot is no row
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT name FROM atlas.snapshot_databases
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id = :s1 AND name = 'café';
SELECT name FROM atlas.snapshot_databases
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id = :s1 AND name = 'café';
SELECT name FROM atlas.snapshot_databases
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id = :s1
   AND name IN ('sales', 'nosuch') ORDER BY name;
SELECT count(*) FROM atlas.snapshot_databases
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id = 'ffffffffffffffffffffffff';
\! python3 test/mockctl.py log --authorized | sort
-- a missing cluster or project is an error
SELECT count(*) FROM atlas.snapshot_databases
 WHERE group_id = :g1 AND cluster_name = 'nosuch' AND snapshot_id = :s1;
SELECT count(*) FROM atlas.snapshot_databases
 WHERE group_id = 'ffffffffffffffffffffffff' AND cluster_name = 'prod-1' AND snapshot_id = :s1;

-- a database's collections: the database is in the path too
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT * FROM atlas.snapshot_collections
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id = :s1
   AND database_name = 'sales';
ALTER FOREIGN TABLE atlas.snapshot_collections OPTIONS (ADD items_per_page '3');
SELECT snapshot_id, database_name, name FROM atlas.snapshot_collections
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id IN (:s1, :s2)
   AND database_name IN ('sales', 'café', 'nosuch')
 ORDER BY 1, 2, 3;
ALTER FOREIGN TABLE atlas.snapshot_collections OPTIONS (DROP items_per_page);
\! python3 test/mockctl.py log --authorized | sort
-- one collection by name
\! python3 test/mockctl.py reset
SELECT database_name, name, links->0->>'href' LIKE '%/collections/events%202026.archive' AS escaped
  FROM atlas.snapshot_collections
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id = :s1
   AND database_name = 'sales' AND name IN ('events 2026.archive', 'q9');
\! python3 test/mockctl.py log --authorized | sort

-- what each snapshot of a cluster holds: snapshots, then their databases,
-- then the collections of each (one request per snapshot and per database)
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT s.id, s.created_at, d.name AS database, c.name AS collection
  FROM atlas.cluster_snapshots s
  JOIN atlas.snapshot_databases d
    ON d.group_id = s.group_id AND d.cluster_name = s.cluster_name AND d.snapshot_id = s.id
  JOIN atlas.snapshot_collections c
    ON c.group_id = d.group_id AND c.cluster_name = d.cluster_name
   AND c.snapshot_id = d.snapshot_id AND c.database_name = d.name
 WHERE s.group_id = :g1 AND s.cluster_name = 'prod-1';
SELECT s.id, s.created_at, d.name AS database, c.name AS collection
  FROM atlas.cluster_snapshots s
  JOIN atlas.snapshot_databases d
    ON d.group_id = s.group_id AND d.cluster_name = s.cluster_name AND d.snapshot_id = s.id
  JOIN atlas.snapshot_collections c
    ON c.group_id = d.group_id AND c.cluster_name = d.cluster_name
   AND c.snapshot_id = d.snapshot_id AND c.database_name = d.name
 WHERE s.group_id = :g1 AND s.cluster_name = 'prod-1'
 ORDER BY 2 DESC, 3, 4;
\! python3 test/mockctl.py log --authorized | sort
-- which snapshots hold a collection (a failed snapshot holds nothing)
SELECT s.id, s.status, count(c.name) FILTER (WHERE c.name = 'q3') AS has_sales_q3
  FROM atlas.cluster_snapshots s
  LEFT JOIN atlas.snapshot_collections c
    ON c.group_id = s.group_id AND c.cluster_name = s.cluster_name AND c.snapshot_id = s.id
   AND c.database_name = 'sales'
 WHERE s.group_id = :g1 AND s.cluster_name = 'prod-1'
 GROUP BY 1, 2 ORDER BY 1;

-- the same rows whatever plan the planner picks: run each query as a
-- hash, merge or nested-loop join (the other two methods disabled) and
-- return the join method of the plan, the rows and a digest.  A snapshot's
-- contents need their keys: a query that gives them only through the join
-- runs as a nested loop only
CREATE FUNCTION run_as(query text, method text,
					   OUT plan text, OUT nrows bigint, OUT digest text)
LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	PERFORM set_config('enable_hashjoin', (method = 'hash')::text, true);
	PERFORM set_config('enable_mergejoin', (method = 'merge')::text, true);
	PERFORM set_config('enable_nestloop', (method = 'nested loop')::text, true);
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
		plan := CASE WHEN line ~ 'Hash.*Join' THEN 'hash'
					 WHEN line ~ 'Merge.*Join' THEN 'merge'
					 WHEN line ~ 'Nested Loop' THEN 'nested loop' END;
		EXIT WHEN plan IS NOT NULL;
	END LOOP;
	EXECUTE format('SELECT count(*), md5(coalesce(string_agg(r::text, %L ORDER BY r::text), %L)) FROM (%s) r',
				   E'\n', '', query)
		INTO nrows, digest;
END $$;
CREATE TABLE queries (name text PRIMARY KEY, query text, nested_loop_only boolean);
INSERT INTO queries VALUES
 ('databases and their collections', $$SELECT d.snapshot_id, d.name, c.name
  FROM atlas.snapshot_databases d
  JOIN atlas.snapshot_collections c
    ON c.group_id = d.group_id AND c.cluster_name = d.cluster_name
   AND c.snapshot_id = d.snapshot_id AND c.database_name = d.name
 WHERE d.group_id = '32b6e34b3d91647abb20e7b8' AND d.cluster_name = 'prod-1'
   AND d.snapshot_id IN ('6a1f00000000000000000001', '6a1f00000000000000000002')
   AND c.snapshot_id IN ('6a1f00000000000000000001', '6a1f00000000000000000002')
   AND c.database_name IN ('café', 'orders', 'sales', 'users')$$, false),
 ('jobs and their snapshots', $$SELECT j.id, s.id, s.status
  FROM atlas.collection_restore_jobs j
  JOIN atlas.cluster_snapshots s
    ON s.group_id = j.group_id AND s.cluster_name = j.cluster_name AND s.id = j.snapshot_id
 WHERE j.group_id = '32b6e34b3d91647abb20e7b8' AND j.cluster_name = 'prod-1'$$, false),
 ('snapshots, databases, collections', $$SELECT s.id, d.name, c.name
  FROM atlas.cluster_snapshots s
  LEFT JOIN atlas.snapshot_databases d
    ON d.group_id = s.group_id AND d.cluster_name = s.cluster_name AND d.snapshot_id = s.id
  LEFT JOIN atlas.snapshot_collections c
    ON c.group_id = d.group_id AND c.cluster_name = d.cluster_name
   AND c.snapshot_id = d.snapshot_id AND c.database_name = d.name
 WHERE s.group_id = '32b6e34b3d91647abb20e7b8' AND s.cluster_name = 'prod-1'$$, true);
CREATE TABLE runs AS
SELECT q.name, m.method, r.*
  FROM queries q
 CROSS JOIN (VALUES ('hash'), ('merge'), ('nested loop')) m(method)
 CROSS JOIN LATERAL run_as(q.query, m.method) r
 WHERE NOT q.nested_loop_only OR m.method = 'nested loop';
SELECT name, method, plan = method AS planned_so, nrows,
	   digest = first_value(digest) OVER (PARTITION BY name ORDER BY method DESC) AS same_rows
  FROM runs ORDER BY name, method;
DROP TABLE runs, queries;
DROP FUNCTION run_as(text, text);

-- required keys: the error names what is missing; a snapshot's contents
-- are not enumerated (join with cluster_snapshots instead)
SELECT count(*) FROM atlas.collection_restore_jobs WHERE group_id = :g1;
SELECT count(*) FROM atlas.snapshot_databases WHERE group_id = :g1 AND cluster_name = 'prod-1';
SELECT count(*) FROM atlas.snapshot_collections
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id = :s1;
SELECT count(*) FROM atlas.snapshot_collections WHERE database_name = 'sales';
-- key values are checked before any request
SELECT count(*) FROM atlas.snapshot_databases
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id = 'not-an-id';
SELECT count(*) FROM atlas.snapshot_collections
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id = :s1 AND database_name = '';
-- a Flex cluster has none of these
SELECT count(*) FROM atlas.collection_restore_jobs WHERE group_id = :g1 AND cluster_name = 'flex-1';
-- errors name the role the endpoints need
\! python3 test/mockctl.py fault '{"match": "collectionRestoreJobs", "kind": "status", "status": 403, "errorCode": "USER_CANNOT_ACCESS_ORGANIZATION_OR_GROUP", "detail": "The current user is not in the group."}'
SELECT count(*) FROM atlas.collection_restore_jobs WHERE group_id = :g1 AND cluster_name = 'prod-1';
\! python3 test/mockctl.py fault '{"match": "/databases", "kind": "status", "status": 403, "errorCode": "USER_CANNOT_ACCESS_ORGANIZATION_OR_GROUP", "detail": "The current user is not in the group."}'
SELECT count(*) FROM atlas.snapshot_databases
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id = :s1;
\! python3 test/mockctl.py fault '{"match": "/collections", "kind": "status", "status": 403, "errorCode": "USER_CANNOT_ACCESS_ORGANIZATION_OR_GROUP", "detail": "The current user is not in the group."}'
SELECT count(*) FROM atlas.snapshot_collections
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id = :s1 AND database_name = 'sales';
-- a 404 without a code the resource lists is an error, not zero rows
\! python3 test/mockctl.py fault '{"match": "/databases", "kind": "status", "status": 404, "errorCode": "CLUSTER_NOT_FOUND", "detail": "No cluster named prod-1 exists."}'
SELECT count(*) FROM atlas.snapshot_databases
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id = :s1;
-- a lasting server error, after the retries; a page that is not JSON
\set VERBOSITY terse
ALTER SERVER cr_srv OPTIONS (ADD max_retries '2', ADD max_retry_wait_ms '1');
\! python3 test/mockctl.py fault '{"match": "collectionRestoreJobs", "kind": "status", "status": 503, "count": -1}'
SELECT count(*) FROM atlas.collection_restore_jobs WHERE group_id = :g1 AND cluster_name = 'prod-1';
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py fault '{"match": "/collections", "kind": "invalid_json"}'
SELECT count(*) FROM atlas.snapshot_collections
 WHERE group_id = :g1 AND cluster_name = 'prod-1' AND snapshot_id = :s1 AND database_name = 'sales';
\set VERBOSITY default
\! python3 test/mockctl.py reset
-- a field of the wrong type is an error naming the column
\! python3 test/mockctl.py fault '{"match": "collectionRestoreJobs", "kind": "raw", "body": "{\"results\": [{\"id\": \"6b4e00000000000000000009\", \"totalDocuments\": \"many\"}], \"totalCount\": 1}"}'
SELECT id, total_documents FROM atlas.collection_restore_jobs WHERE group_id = :g1 AND cluster_name = 'prod-1';
\! python3 test/mockctl.py reset

DROP SCHEMA atlas CASCADE;
DROP SERVER cr_srv CASCADE;
