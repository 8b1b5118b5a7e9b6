-- reports/_snapshots.sql: shared by the report scripts (not a report).
--
-- Over the foreign tables of schema "atlas" (created by IMPORT FOREIGN
-- SCHEMA atlas FROM SERVER ... INTO atlas) it makes, for this session only:
--   atlas_inventory  (temporary table) every dedicated and Flex cluster of
--                    every project (project, group_id, cluster, kind,
--                    backup_enabled, created), read from Atlas once per report (the
--                    projects' cluster lists concurrently: "= ANY (ARRAY(
--                    SELECT ...))" makes them one scan of several request
--                    chains rather than a nested loop of one at a time)
--                    Deleted clusters that still hold backups are left out
--                    (retained_backups.sql reports them).
--   atlas_snapshots  (temporary view) every snapshot of those clusters,
--                    one shape for all kinds (replica set, sharded, Flex)
-- Each snapshot table is read by one organization-wide scan (no group_id
-- or cluster_name: the scan finds the clusters with backup enabled itself
-- and reads their snapshots concurrently), fenced by OFFSET 0 so that the
-- planner does not turn the join with the inventory into a nested loop of
-- one request chain per cluster, one after the other.  Nothing outside
-- the session changes.

DROP TABLE IF EXISTS pg_temp.atlas_inventory CASCADE;
CREATE TEMP TABLE atlas_inventory AS
SELECT p.name AS project, c.group_id, c.name AS cluster,
       CASE WHEN c.cluster_type IN ('SHARDED', 'GEOSHARDED') THEN 'sharded'
            ELSE 'replica set' END AS kind,
       coalesce(c.backup_enabled, false) AS backup_enabled,
       c.create_date AS created
  FROM atlas.projects p
  JOIN atlas.clusters c ON c.group_id = p.id
 WHERE c.group_id = ANY (ARRAY(SELECT id FROM atlas.projects))
   AND c.retain_backups IS NOT TRUE
UNION ALL
SELECT p.name, f.group_id, f.name, 'flex',
       coalesce((f.backup_settings->>'enabled')::boolean, true),
       f.create_date
  FROM atlas.projects p
  JOIN atlas.flex_clusters f ON f.group_id = p.id
 WHERE f.group_id = ANY (ARRAY(SELECT id FROM atlas.projects));
ANALYZE atlas_inventory;

CREATE TEMP VIEW atlas_snapshots AS
SELECT i.project, i.group_id, i.cluster, i.kind, s.id,
       s.created_at AS taken_at, s.expires_at,
       s.status = 'completed' AS completed, s.status = 'failed' AS failed,
       s.snapshot_type, s.storage_size_bytes
  FROM atlas_inventory i
  JOIN (SELECT * FROM atlas.cluster_snapshots OFFSET 0) s
    ON s.group_id = i.group_id AND s.cluster_name = i.cluster
 WHERE i.kind = 'replica set' AND i.backup_enabled
UNION ALL
SELECT i.project, i.group_id, i.cluster, i.kind, s.id,
       s.created_at, s.expires_at,
       s.status = 'completed', s.status = 'failed',
       s.snapshot_type, s.storage_size_bytes
  FROM atlas_inventory i
  JOIN (SELECT * FROM atlas.sharded_cluster_snapshots OFFSET 0) s
    ON s.group_id = i.group_id AND s.cluster_name = i.cluster
 WHERE i.kind = 'sharded' AND i.backup_enabled
UNION ALL
SELECT i.project, i.group_id, i.cluster, i.kind, s.id,
       coalesce(s.finish_time, s.start_time, s.scheduled_time), s.expiration,
       s.status = 'COMPLETED', s.status = 'FAILED',
       'scheduled', NULL::bigint
  FROM atlas_inventory i
  JOIN (SELECT * FROM atlas.flex_snapshots OFFSET 0) s
    ON s.group_id = i.group_id AND s.cluster_name = i.cluster
 WHERE i.kind = 'flex' AND i.backup_enabled;
