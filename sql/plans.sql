--
-- plans: a query gives the same rows whatever plan the planner picks (a
-- hash, merge or nested-loop join, enumerating the clusters or naming
-- them one outer row at a time).  The mock's variant "untyped" adds
-- legacy-project, whose clusters leave out clusterType (optional in the
-- spec) or backupEnabled, or have a clusterType unknown here: an
-- enumeration reads them, as naming them does.
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER plans_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER plans_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE SCHEMA atlas;
IMPORT FOREIGN SCHEMA atlas
	LIMIT TO (clusters, cluster_snapshots, sharded_cluster_snapshots)
	FROM SERVER plans_srv INTO atlas;
ALTER FOREIGN TABLE atlas.cluster_snapshots OPTIONS (ADD enumerate 'true');
ALTER FOREIGN TABLE atlas.sharded_cluster_snapshots OPTIONS (ADD enumerate 'true');
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py variant '{"untyped": true}'

-- legacy-project's inventory, as the clusters table shows it
SELECT name, cluster_type, backup_enabled FROM atlas.clusters
 WHERE group_id = '7c4e1d2a9b3f5e6d7a8b9c0d' ORDER BY 1;

-- a project-wide scan reads every cluster the inventory does not rule out
\! python3 test/mockctl.py reset
\! python3 test/mockctl.py variant '{"untyped": true}'
SELECT cluster_name, id FROM atlas.cluster_snapshots
 WHERE group_id = '7c4e1d2a9b3f5e6d7a8b9c0d' ORDER BY 1, 2;
SELECT cluster_name, id FROM atlas.sharded_cluster_snapshots
 WHERE group_id = '7c4e1d2a9b3f5e6d7a8b9c0d' ORDER BY 1, 2;
\! python3 test/mockctl.py log --authorized | sort

-- run a query as a hash, merge or nested-loop join (the other two
-- methods disabled), with the snapshot tables enumerating or not; return
-- the join method of the plan (its topmost join), the rows, and a digest
-- of the rows in order
CREATE FUNCTION run_as(query text, method text, enumerate boolean,
					   OUT plan text, OUT nrows bigint, OUT digest text)
LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	PERFORM set_config('enable_hashjoin', (method = 'hash')::text, true);
	PERFORM set_config('enable_mergejoin', (method = 'merge')::text, true);
	PERFORM set_config('enable_nestloop', (method = 'nested loop')::text, true);
	EXECUTE format('ALTER FOREIGN TABLE atlas.cluster_snapshots OPTIONS (SET enumerate %L)',
				   enumerate::text);
	EXECUTE format('ALTER FOREIGN TABLE atlas.sharded_cluster_snapshots OPTIONS (SET enumerate %L)',
				   enumerate::text);
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

CREATE TABLE queries (name text PRIMARY KEY, query text);
INSERT INTO queries VALUES
 ('left join, one project', $$SELECT c.name, s.id, s.status
  FROM atlas.clusters c LEFT JOIN atlas.cluster_snapshots s
    ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.group_id = '7c4e1d2a9b3f5e6d7a8b9c0d'$$),
 ('left join, sharded', $$SELECT c.name, s.id, s.storage_size_bytes
  FROM atlas.clusters c LEFT JOIN atlas.sharded_cluster_snapshots s
    ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.group_id = '7c4e1d2a9b3f5e6d7a8b9c0d'$$),
 ('join, every project', $$SELECT c.group_id, c.name, s.id
  FROM atlas.clusters c JOIN atlas.cluster_snapshots s
    ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.group_id IN ('32b6e34b3d91647abb20e7b8', '5e2211c17a3e5a48f5497de3',
					  '6b8cd3c1e8f0b0a1d2c3d4e5', '7c4e1d2a9b3f5e6d7a8b9c0d')$$),
 ('the README''s report', $$SELECT c.name, max(s.created_at) FILTER (WHERE s.status = 'completed') AS last_completed
  FROM atlas.clusters c
  LEFT JOIN atlas.cluster_snapshots s ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.group_id = '7c4e1d2a9b3f5e6d7a8b9c0d' AND c.backup_enabled
 GROUP BY c.name$$);

-- without enumeration only a nested loop can run: it names each cluster
CREATE TABLE runs AS
SELECT q.name, m.method, e.enumerate, r.*
  FROM queries q
 CROSS JOIN (VALUES ('hash'), ('merge'), ('nested loop')) m(method)
 CROSS JOIN (VALUES (true), (false)) e(enumerate)
 CROSS JOIN LATERAL run_as(q.query, m.method, e.enumerate) r
 WHERE e.enumerate OR m.method = 'nested loop';

-- each run used the join method asked for, and every run of a query gave
-- the rows of the nested loop without enumeration
SELECT name, method, enumerate, plan = method AS planned_so, nrows,
	   digest = first_value(digest) OVER (PARTITION BY name ORDER BY enumerate, method) AS same_rows
  FROM runs ORDER BY name, enumerate, method;

-- the rows themselves, once
SELECT c.name, s.id, s.status
  FROM atlas.clusters c LEFT JOIN atlas.cluster_snapshots s
    ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.group_id = '7c4e1d2a9b3f5e6d7a8b9c0d' ORDER BY 1, 2;
SELECT c.name, s.id
  FROM atlas.clusters c LEFT JOIN atlas.sharded_cluster_snapshots s
    ON s.group_id = c.group_id AND s.cluster_name = c.name
 WHERE c.group_id = '7c4e1d2a9b3f5e6d7a8b9c0d' ORDER BY 1, 2;

\! python3 test/mockctl.py reset
DROP TABLE runs, queries;
DROP FUNCTION run_as(text, text, boolean);
SET client_min_messages = warning;
DROP SCHEMA atlas CASCADE;
DROP SERVER plans_srv CASCADE;
RESET client_min_messages;
