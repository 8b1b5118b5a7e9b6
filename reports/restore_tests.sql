-- reports/restore_tests.sql: clusters with backup enabled that have no
-- successful restore job in the last :days days (restores that were never
-- tested).  A dedicated cluster's restore job succeeded when it finished
-- without failing or being cancelled; a Flex one when its status is
-- COMPLETED.
--
-- Variables: days (default 7), now (default the current time).
-- Example:   psql -v days=90 -f reports/restore_tests.sql
-- Reads restore_jobs (role Project Backup Manager) and flex_restore_jobs.
\ir _defaults.sql
\ir _snapshots.sql
\set title 'Clusters without a successful restore in the last ' :days ' days'
\pset title :title
WITH restores AS (
	SELECT i.group_id, i.cluster, r.finished_at AS restored_at
	  FROM atlas_inventory i
	  JOIN atlas.restore_jobs r ON r.group_id = i.group_id AND r.cluster_name = i.cluster
	 WHERE i.kind <> 'flex' AND i.backup_enabled
	   AND r.finished_at IS NOT NULL AND NOT coalesce(r.failed, false)
	   AND NOT coalesce(r.cancelled, false)
	UNION ALL
	SELECT i.group_id, i.cluster, coalesce(r.restore_finished_date, r.restore_scheduled_date)
	  FROM atlas_inventory i
	  JOIN atlas.flex_restore_jobs r ON r.group_id = i.group_id AND r.cluster_name = i.cluster
	 WHERE i.kind = 'flex' AND i.backup_enabled AND r.status = 'COMPLETED'
)
SELECT i.project, i.cluster, i.kind,
       coalesce(to_char(max(r.restored_at), 'YYYY-MM-DD HH24:MI'), 'never') AS last_restore
  FROM atlas_inventory i
  LEFT JOIN restores r ON r.group_id = i.group_id AND r.cluster = i.cluster
                      AND r.restored_at <= :'now'::timestamptz
 WHERE i.backup_enabled
 GROUP BY i.project, i.cluster, i.kind
HAVING coalesce(max(r.restored_at), '-infinity')
	   < :'now'::timestamptz - make_interval(days => :days)
 ORDER BY max(r.restored_at) NULLS FIRST, i.project, i.cluster;
\pset title
