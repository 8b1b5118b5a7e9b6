-- reports/retained_backups.sql: deleted clusters that still hold backups.
--
-- Answers: which deleted clusters still keep snapshots, how many, how much
-- storage they take, since when, and until when they are kept.
-- Atlas lists these clusters only when asked (includeDeletedWithRetainedBackups,
-- which the foreign tables send unless include_deleted_clusters is off) and
-- marks them retainBackups (the clusters table's retain_backups).  One line
-- per deleted cluster: its snapshots (replica-set or sharded, whatever their
-- status), their total size, the oldest, and when the last of them expires.
-- Variables: now (default the current time).
-- Example:   psql -f reports/retained_backups.sql
\ir _defaults.sql
DROP TABLE IF EXISTS pg_temp.atlas_retained CASCADE;
CREATE TEMP TABLE atlas_retained AS
SELECT p.name AS project, c.group_id, c.name AS cluster,
       CASE WHEN c.cluster_type IN ('SHARDED', 'GEOSHARDED') THEN 'sharded'
            ELSE 'replica set' END AS kind
  FROM atlas.projects p
  JOIN atlas.clusters c ON c.group_id = p.id
 WHERE c.group_id = ANY (ARRAY(SELECT id FROM atlas.projects))
   AND c.retain_backups;
ANALYZE atlas_retained;
\pset title 'Deleted clusters that still hold backups'
-- each snapshot table read by one scan of the projects that have deleted
-- clusters (enumeration reads a deleted cluster's snapshots from the table
-- of its type), fenced by OFFSET 0 as in _snapshots.sql
SELECT r.project, r.cluster, r.kind,
       count(s.id) AS snapshots,
       pg_size_pretty(sum(s.storage_size_bytes)) AS size,
       to_char(min(s.created_at), 'YYYY-MM-DD HH24:MI') AS oldest,
       to_char(max(s.expires_at), 'YYYY-MM-DD HH24:MI') AS last_expires,
       max(s.expires_at)::date - :'now'::timestamptz::date AS days_left
  FROM atlas_retained r
  LEFT JOIN (
	(SELECT 'replica set' AS kind, group_id, cluster_name, id, created_at,
	        expires_at, storage_size_bytes
	   FROM atlas.cluster_snapshots
	  WHERE group_id = ANY (ARRAY(SELECT DISTINCT group_id FROM atlas_retained
								   WHERE kind = 'replica set'))
	 OFFSET 0)
	UNION ALL
	(SELECT 'sharded', group_id, cluster_name, id, created_at,
	        expires_at, storage_size_bytes
	   FROM atlas.sharded_cluster_snapshots
	  WHERE group_id = ANY (ARRAY(SELECT DISTINCT group_id FROM atlas_retained
								   WHERE kind = 'sharded'))
	 OFFSET 0)
  ) s ON s.kind = r.kind AND s.group_id = r.group_id AND s.cluster_name = r.cluster
 GROUP BY r.project, r.cluster, r.kind
 ORDER BY 1, 2;
\pset title
