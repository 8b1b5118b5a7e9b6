-- reports/retention_below.sql: dedicated clusters with backup enabled whose
-- backup schedule keeps daily snapshots fewer than :days days, or has no
-- daily policy item at all.
--
-- Variables: days (default 7).
-- Example:   psql -v days=30 -f reports/retention_below.sql
-- Reads backup_policy_items (one schedule request per cluster; role
-- Project Read Only).
\ir _defaults.sql
\ir _snapshots.sql
\set title 'Clusters keeping daily snapshots fewer than ' :days ' days'
\pset title :title
SELECT i.project, i.cluster, i.kind,
       coalesce(max(p.retention_value || ' ' || p.retention_unit), 'no daily item') AS daily_kept,
       (SELECT string_agg(a.frequency_type || ' ' || a.retention_value || ' ' || a.retention_unit,
                          ', ' ORDER BY a.frequency_type)
          FROM atlas.backup_policy_items a
         WHERE a.group_id = i.group_id AND a.cluster_name = i.cluster) AS policy
  FROM atlas_inventory i
  LEFT JOIN atlas.backup_policy_items p
    ON p.group_id = i.group_id AND p.cluster_name = i.cluster AND p.frequency_type = 'daily'
 WHERE i.kind <> 'flex' AND i.backup_enabled
 GROUP BY i.project, i.group_id, i.cluster, i.kind
HAVING coalesce(max(make_interval(
			days => CASE p.retention_unit WHEN 'days' THEN p.retention_value ELSE 0 END,
			weeks => CASE p.retention_unit WHEN 'weeks' THEN p.retention_value ELSE 0 END,
			months => CASE p.retention_unit WHEN 'months' THEN p.retention_value ELSE 0 END,
			years => CASE p.retention_unit WHEN 'years' THEN p.retention_value ELSE 0 END)),
			'0'::interval) < make_interval(days => :days)
 ORDER BY i.project, i.cluster;
\pset title
