-- reports/overdue_clusters.sql: clusters with backup enabled whose last
-- completed snapshot is older than :hours hours, or that have none.
--
-- Variables: hours (default 24), now (default the current time).
-- Example:   psql -v hours=24 -f reports/overdue_clusters.sql
\ir _defaults.sql
\ir _snapshots.sql
\set title 'Clusters without a completed snapshot in the last ' :hours ' hours'
\pset title :title
SELECT i.project, i.cluster, i.kind,
       to_char(max(s.taken_at) FILTER (WHERE s.completed), 'YYYY-MM-DD HH24:MI') AS last_completed,
       justify_hours(date_trunc('minute', :'now'::timestamptz
			- max(s.taken_at) FILTER (WHERE s.completed)))::text AS age
  FROM atlas_inventory i
  LEFT JOIN atlas_snapshots s ON s.group_id = i.group_id AND s.cluster = i.cluster
 WHERE i.backup_enabled
 GROUP BY i.project, i.cluster, i.kind
HAVING coalesce(max(s.taken_at) FILTER (WHERE s.completed), '-infinity')
	   < :'now'::timestamptz - make_interval(hours => :hours)
 ORDER BY max(s.taken_at) FILTER (WHERE s.completed) NULLS FIRST, i.project, i.cluster;
\pset title
