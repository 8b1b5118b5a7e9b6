--
-- resources: every endpoint, IMPORT FOREIGN SCHEMA, lookups by id,
-- point-in-time parameters and retired endpoints
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER res_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER res_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');

-- IMPORT FOREIGN SCHEMA needs no network and creates every table, typed
CREATE SCHEMA atlas;
\! python3 test/mockctl.py reset
IMPORT FOREIGN SCHEMA atlas FROM SERVER res_srv INTO atlas;
\! python3 test/mockctl.py log
SELECT c.relname, ft.ftoptions
  FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid
 WHERE c.relnamespace = 'atlas'::regnamespace ORDER BY 1;
\d atlas.cluster_snapshots
\d atlas.flex_snapshots
SELECT attrelid::regclass AS table_name,
       string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) AS columns
  FROM pg_attribute
 WHERE attrelid IN ('atlas.projects'::regclass, 'atlas.serverless_instances'::regclass,
					'atlas.flex_clusters'::regclass, 'atlas.sharded_cluster_snapshots'::regclass,
					'atlas.serverless_snapshots'::regclass, 'atlas.tenant_snapshots'::regclass)
   AND attnum > 0
 GROUP BY 1 ORDER BY 1::text;
SELECT count(*) AS cluster_columns FROM information_schema.columns
 WHERE table_schema = 'atlas' AND table_name = 'clusters';

-- LIMIT TO, EXCEPT, and only the schema "atlas" exists remotely
CREATE SCHEMA atlas_some;
IMPORT FOREIGN SCHEMA atlas LIMIT TO (clusters, flex_snapshots, nosuch) FROM SERVER res_srv INTO atlas_some;
SELECT relname FROM pg_class WHERE relnamespace = 'atlas_some'::regnamespace ORDER BY 1;
CREATE SCHEMA atlas_most;
IMPORT FOREIGN SCHEMA atlas EXCEPT (tenant_snapshots, serverless_snapshots, serverless_instances)
	FROM SERVER res_srv INTO atlas_most;
SELECT relname FROM pg_class WHERE relnamespace = 'atlas_most'::regnamespace ORDER BY 1;
IMPORT FOREIGN SCHEMA public FROM SERVER res_srv INTO atlas_some;
DROP SCHEMA atlas_some, atlas_most CASCADE;

-- inventory
SELECT id, name, org_id, cluster_count, created FROM atlas.projects ORDER BY created;
SELECT group_id, id, name, cluster_type, backup_enabled, pit_enabled, state_name, mongodb_version,
       jsonb_typeof(replication_specs) AS specs
  FROM atlas.clusters WHERE group_id = '32b6e34b3d91647abb20e7b8' ORDER BY name;
SELECT group_id, name, state_name, jsonb_typeof(serverless_backup_options) AS backup_options
  FROM atlas.serverless_instances WHERE group_id = '32b6e34b3d91647abb20e7b8' ORDER BY name;
SELECT group_id, name, cluster_type, backup_settings->>'enabled' AS backup, mongodb_version
  FROM atlas.flex_clusters WHERE group_id = '32b6e34b3d91647abb20e7b8' ORDER BY name;
SELECT name FROM atlas.clusters WHERE group_id = '6b8cd3c1e8f0b0a1d2c3d4e5';

-- snapshots of every kind
SELECT id, created_at, status, storage_size_bytes, config_server_type, type,
       jsonb_array_length(members) AS members, snapshot_ids
  FROM atlas.sharded_cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'shard-1' ORDER BY id;
SELECT m->>'replicaSetName' AS member, m->>'id' AS member_id
  FROM atlas.sharded_cluster_snapshots s, jsonb_array_elements(s.members) m
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'shard-1'
   AND s.id = '6a2f000000000000000000a1' ORDER BY 1;
SELECT id, scheduled_time, start_time, finish_time, expiration, status, mongodb_version
  FROM atlas.flex_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'flex-1' ORDER BY scheduled_time;
SELECT id, created_at, serverless_instance_name, storage_size_bytes, frequency_type
  FROM atlas.serverless_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'serverless-1' ORDER BY id;
SELECT count(*) FROM atlas.flex_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'flex-2';

-- the wrong kind of cluster for the endpoint
\set VERBOSITY default
SELECT count(*) FROM atlas.flex_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1';
SELECT count(*) FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'flex-1';

-- retired endpoints say so, and name the replacement
SELECT count(*) FROM atlas.serverless_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'serverless-gone';
SELECT count(*) FROM atlas.serverless_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'serverless-empty';
SELECT count(*) FROM atlas.tenant_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'm2-legacy';
\! python3 test/mockctl.py fault '{"match": "/serverless\\?", "kind": "gone"}'
SELECT count(*) FROM atlas.serverless_instances WHERE group_id = '32b6e34b3d91647abb20e7b8';
SELECT count(*) FROM atlas.serverless_instances WHERE group_id = '5e2211c17a3e5a48f5497de3';

-- WHERE id = ... asks the single-snapshot endpoint: one request, 0 or 1 row
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id, status FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1' AND id = '6a1f00000000000000000002';
SELECT id, status, description FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1' AND id = '6a1f00000000000000000002';
SELECT id FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1' AND id = 'ffffffffffffffffffffffff';
SELECT id, members IS NOT NULL AS has_members FROM atlas.sharded_cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'shard-1' AND id = '6a2f000000000000000000a2';
SELECT id, status FROM atlas.flex_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'flex-1'
   AND id IN ('6a3f000000000000000000b3', '6a3f000000000000000000b1', 'eeeeeeeeeeeeeeeeeeeeeeee')
 ORDER BY id;
SELECT id, storage_size_bytes FROM atlas.serverless_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'serverless-1' AND id = '6a4f000000000000000000c2';
SELECT id FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1' AND id = 'not-an-id';
\! python3 test/mockctl.py log --authorized | sort

-- point in time: the closest snapshot created before it; the row echoes
-- the value asked for
\! python3 test/mockctl.py reset
EXPLAIN (VERBOSE, COSTS OFF)
SELECT * FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
   AND point_in_time = '2026-05-01 00:00+00';
SELECT * FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
   AND point_in_time = '2026-05-01 00:00+00';
SELECT id, created_at, point_in_time FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
   AND point_in_time = '2026-10-31 18:00:00.75+00';
SELECT id, created_at, oplog_ts, oplog_inc FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n100'
   AND oplog_ts = 1793487600 AND oplog_inc = 3;
\! python3 test/mockctl.py log --authorized | sort
SELECT id FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1' AND oplog_ts = 1761955200;
SELECT id FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1' AND oplog_inc = 1;
SELECT id FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
   AND point_in_time = now() AND oplog_ts = 1761955200 AND oplog_inc = 1;
SELECT id FROM atlas.cluster_snapshots
 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'prod-1'
   AND point_in_time = 'infinity';

DROP SCHEMA atlas CASCADE;
DROP SERVER res_srv CASCADE;
