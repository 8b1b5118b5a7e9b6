-- reports/failed_snapshots.sql: failed snapshots of the last :days days.
--
-- Variables: days (default 7), now (default the current time).
-- Example:   psql -v days=30 -f reports/failed_snapshots.sql
\ir _defaults.sql
\ir _snapshots.sql
\set title 'Failed snapshots of the last ' :days ' days'
\pset title :title
SELECT project, cluster, kind, id, to_char(taken_at, 'YYYY-MM-DD HH24:MI') AS taken
  FROM atlas_snapshots
 WHERE failed
   AND taken_at > :'now'::timestamptz - make_interval(days => :days)
   AND taken_at <= :'now'::timestamptz
 ORDER BY taken_at DESC, project, cluster, id;
\pset title
