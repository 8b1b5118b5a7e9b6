--
-- retained: deleted clusters that still hold backups.  Cluster lists ask
-- for them (includeDeletedWithRetainedBackups=true) unless
-- include_deleted_clusters is off; the clusters table marks them
-- (retain_backups), and project- and organization-wide snapshot scans read
-- their retained snapshots from the table of their type.  The mock's
-- variant "retained" adds retired-project: live-rs (live), gone-rs
-- (deleted replica set) and gone-sh (deleted sharded cluster).
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER ret_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER ret_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE SCHEMA atlas;
IMPORT FOREIGN SCHEMA atlas FROM SERVER ret_srv INTO atlas;
\! python3 test/mockctl.py variant '{"retained": true}'

-- the clusters table: the deleted clusters too, retain_backups says which
EXPLAIN (VERBOSE, COSTS OFF)
SELECT name FROM atlas.clusters WHERE group_id = '8d5f2e3b0c4a6f7e8b9c0d1e';
SELECT name, cluster_type, backup_enabled, retain_backups, state_name
  FROM atlas.clusters WHERE group_id = '8d5f2e3b0c4a6f7e8b9c0d1e' ORDER BY name;

-- project-wide: the live cluster's snapshots and the deleted replica set's
-- (whose backupEnabled is false); the deleted sharded cluster is read by
-- the sharded table only
EXPLAIN (VERBOSE, COSTS OFF)
SELECT cluster_name, id FROM atlas.cluster_snapshots
 WHERE group_id = '8d5f2e3b0c4a6f7e8b9c0d1e';
\! python3 test/mockctl.py reset && python3 test/mockctl.py variant '{"retained": true}'
SELECT cluster_name, id, created_at, expires_at, storage_size_bytes
  FROM atlas.cluster_snapshots
 WHERE group_id = '8d5f2e3b0c4a6f7e8b9c0d1e' ORDER BY 1, 2;
\! python3 test/mockctl.py log --authorized | sort
SELECT cluster_name, id, storage_size_bytes FROM atlas.sharded_cluster_snapshots
 WHERE group_id = '8d5f2e3b0c4a6f7e8b9c0d1e' ORDER BY 1, 2;

-- organization-wide: the same clusters among every project's
SELECT cluster_name, count(*) FROM atlas.cluster_snapshots
 WHERE cluster_name IN ('live-rs', 'gone-rs', 'gone-sh') GROUP BY 1 ORDER BY 1;
SELECT group_id, cluster_name, count(*) FROM atlas.sharded_cluster_snapshots
 GROUP BY 1, 2 ORDER BY 1, 2;

-- a deleted cluster named in the WHERE clause
SELECT id, status FROM atlas.cluster_snapshots
 WHERE group_id = '8d5f2e3b0c4a6f7e8b9c0d1e' AND cluster_name = 'gone-rs'
 ORDER BY id;

-- include_deleted_clusters off (server): the live clusters only, and no
-- parameter in the requests
ALTER SERVER ret_srv OPTIONS (ADD include_deleted_clusters 'false');
EXPLAIN (VERBOSE, COSTS OFF)
SELECT name FROM atlas.clusters WHERE group_id = '8d5f2e3b0c4a6f7e8b9c0d1e';
SELECT name, retain_backups FROM atlas.clusters
 WHERE group_id = '8d5f2e3b0c4a6f7e8b9c0d1e' ORDER BY name;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT cluster_name, id FROM atlas.cluster_snapshots
 WHERE group_id = '8d5f2e3b0c4a6f7e8b9c0d1e';
\! python3 test/mockctl.py reset && python3 test/mockctl.py variant '{"retained": true}'
SELECT cluster_name, id FROM atlas.cluster_snapshots
 WHERE group_id = '8d5f2e3b0c4a6f7e8b9c0d1e' ORDER BY 1, 2;
SELECT cluster_name, id FROM atlas.sharded_cluster_snapshots
 WHERE group_id = '8d5f2e3b0c4a6f7e8b9c0d1e' ORDER BY 1, 2;
\! python3 test/mockctl.py log --authorized | sort

-- a table's option overrides the server's
ALTER FOREIGN TABLE atlas.sharded_cluster_snapshots
	OPTIONS (ADD include_deleted_clusters 'true');
SELECT cluster_name, id FROM atlas.sharded_cluster_snapshots
 WHERE group_id = '8d5f2e3b0c4a6f7e8b9c0d1e' ORDER BY 1, 2;
ALTER FOREIGN TABLE atlas.sharded_cluster_snapshots
	OPTIONS (DROP include_deleted_clusters);
ALTER SERVER ret_srv OPTIONS (DROP include_deleted_clusters);

-- the option is a boolean, on servers and foreign tables only
ALTER SERVER ret_srv OPTIONS (ADD include_deleted_clusters 'maybe');
ALTER USER MAPPING FOR CURRENT_USER SERVER ret_srv
	OPTIONS (ADD include_deleted_clusters 'true');

-- the report: per deleted cluster, its snapshots, their size, the oldest,
-- and when the last one expires
\set now '2026-11-02 00:00+00'
\set ECHO none
\i reports/retained_backups.sql
\set ECHO all

\! python3 test/mockctl.py reset
DROP SCHEMA atlas CASCADE;
DROP SERVER ret_srv CASCADE;
