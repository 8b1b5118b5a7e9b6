-- reports/fleet_summary.sql: one line per cluster with its backup status.
--
-- Answers: is every cluster of every project backed up, and recently?
-- Status: BACKUP OFF (backup disabled), NO SNAPSHOTS (enabled, none yet),
-- FAILING (the newest snapshot failed), OVERDUE (no completed snapshot in
-- the last :hours hours), OK.
-- Variables: hours (default 24), now (default the current time).
-- Example:   psql -v hours=12 -f reports/fleet_summary.sql
\ir _defaults.sql
\ir _snapshots.sql
\pset title 'Backup status per cluster'
SELECT i.project, i.cluster, i.kind,
       to_char(s.last_completed, 'YYYY-MM-DD HH24:MI') AS last_completed,
       CASE WHEN s.last_completed IS NULL THEN NULL
            ELSE justify_hours(date_trunc('minute', :'now'::timestamptz - s.last_completed))::text
       END AS age,
       coalesce(s.last_7_days, 0) AS "7 days",
       coalesce(s.failed_7_days, 0) AS failed,
       pg_size_pretty(s.total_bytes) AS size,
       CASE WHEN NOT i.backup_enabled THEN 'BACKUP OFF'
            WHEN s.cluster IS NULL THEN 'NO SNAPSHOTS'
            WHEN s.newest_failed THEN 'FAILING'
            WHEN s.last_completed IS NULL
              OR s.last_completed < :'now'::timestamptz - make_interval(hours => :hours) THEN 'OVERDUE'
            ELSE 'OK'
       END AS status
  FROM atlas_inventory i
  LEFT JOIN (
	SELECT group_id, cluster,
		   max(taken_at) FILTER (WHERE completed) AS last_completed,
		   count(*) FILTER (WHERE taken_at > :'now'::timestamptz - interval '7 days') AS last_7_days,
		   count(*) FILTER (WHERE failed AND taken_at > :'now'::timestamptz - interval '7 days') AS failed_7_days,
		   (array_agg(failed ORDER BY taken_at DESC))[1] AS newest_failed,
		   sum(storage_size_bytes) AS total_bytes
	  FROM atlas_snapshots
	 GROUP BY group_id, cluster
  ) s ON s.group_id = i.group_id AND s.cluster = i.cluster
 ORDER BY i.project, i.cluster;
\pset title
