-- reports/schedule/materialized_view.sql: a backup status table that
-- pg_cron keeps up to date.
--
-- Creates the materialized view atlas_backup_status (one row per cluster:
-- last completed snapshot, snapshots and failures of the last 7 days,
-- status) and a pg_cron job that refreshes it every 15 minutes.  Dashboards
-- and alerts then read a local table and never wait for Atlas.
--
-- Requires: the foreign tables of schema "atlas" (IMPORT FOREIGN SCHEMA),
-- the pg_cron extension (shared_preload_libraries = 'pg_cron', run this in
-- the database named by cron.database_name), and a user mapping for the
-- role that schedules the job (pg_cron runs it as that role).
-- Example:   psql -d postgres -f reports/schedule/materialized_view.sql

CREATE EXTENSION IF NOT EXISTS pg_cron;

CREATE MATERIALIZED VIEW atlas_backup_status AS
WITH inventory AS MATERIALIZED (
	SELECT c.group_id, c.name AS cluster,
		   CASE WHEN c.cluster_type IN ('SHARDED', 'GEOSHARDED') THEN 'sharded'
				ELSE 'replica set' END AS kind,
		   coalesce(c.backup_enabled, false) AS backup_enabled
	  FROM atlas.projects p JOIN atlas.clusters c ON c.group_id = p.id
	 WHERE c.retain_backups IS NOT TRUE	-- live clusters (retained_backups.sql)
	UNION ALL
	SELECT f.group_id, f.name, 'flex',
		   coalesce((f.backup_settings->>'enabled')::boolean, true)
	  FROM atlas.projects p JOIN atlas.flex_clusters f ON f.group_id = p.id
), snapshots AS (
	SELECT i.group_id, i.cluster, s.created_at AS taken_at, s.status = 'completed' AS completed,
		   s.status = 'failed' AS failed
	  FROM inventory i JOIN atlas.cluster_snapshots s
		ON s.group_id = i.group_id AND s.cluster_name = i.cluster
	 WHERE i.kind = 'replica set' AND i.backup_enabled
	UNION ALL
	SELECT i.group_id, i.cluster, s.created_at, s.status = 'completed', s.status = 'failed'
	  FROM inventory i JOIN atlas.sharded_cluster_snapshots s
		ON s.group_id = i.group_id AND s.cluster_name = i.cluster
	 WHERE i.kind = 'sharded' AND i.backup_enabled
	UNION ALL
	SELECT i.group_id, i.cluster, coalesce(s.finish_time, s.start_time, s.scheduled_time),
		   s.status = 'COMPLETED', s.status = 'FAILED'
	  FROM inventory i JOIN atlas.flex_snapshots s
		ON s.group_id = i.group_id AND s.cluster_name = i.cluster
	 WHERE i.kind = 'flex' AND i.backup_enabled
)
SELECT i.group_id, i.cluster, i.kind, i.backup_enabled,
	   max(s.taken_at) FILTER (WHERE s.completed) AS last_completed,
	   count(s.taken_at) FILTER (WHERE s.taken_at > now() - interval '7 days') AS snapshots_7_days,
	   count(s.taken_at) FILTER (WHERE s.failed AND s.taken_at > now() - interval '7 days') AS failed_7_days,
	   now() AS refreshed_at
  FROM inventory i
  LEFT JOIN snapshots s ON s.group_id = i.group_id AND s.cluster = i.cluster
 GROUP BY i.group_id, i.cluster, i.kind, i.backup_enabled;

-- REFRESH ... CONCURRENTLY needs a unique index; readers never block
CREATE UNIQUE INDEX atlas_backup_status_key ON atlas_backup_status (group_id, cluster);

SELECT cron.schedule('atlas-backup-status', '*/15 * * * *',
					 'REFRESH MATERIALIZED VIEW CONCURRENTLY atlas_backup_status');

-- Then, e.g.:
--   SELECT cluster, last_completed FROM atlas_backup_status
--    WHERE backup_enabled AND coalesce(last_completed, '-infinity') < now() - interval '24 hours';
--   SELECT * FROM cron.job_run_details ORDER BY start_time DESC LIMIT 5;
