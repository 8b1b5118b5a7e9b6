-- reports/backup_enabled_no_snapshots.sql: clusters with backup enabled
-- that have no snapshot at all.
--
-- Example:   psql -f reports/backup_enabled_no_snapshots.sql
\ir _defaults.sql
\ir _snapshots.sql
\pset title 'Clusters with backup enabled and no snapshot'
SELECT i.project, i.cluster, i.kind
  FROM atlas_inventory i
 WHERE i.backup_enabled
   AND NOT EXISTS (SELECT FROM atlas_snapshots s
					WHERE s.group_id = i.group_id AND s.cluster = i.cluster)
 ORDER BY i.project, i.cluster;
\pset title
