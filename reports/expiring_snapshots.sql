-- reports/expiring_snapshots.sql: completed snapshots that expire in the
-- next :days days.
--
-- Variables: days (default 7), now (default the current time).
-- Example:   psql -v days=3 -f reports/expiring_snapshots.sql
\ir _defaults.sql
\ir _snapshots.sql
\set title 'Snapshots expiring in the next ' :days ' days'
\pset title :title
SELECT project, cluster, kind, id, snapshot_type,
       to_char(taken_at, 'YYYY-MM-DD HH24:MI') AS taken,
       to_char(expires_at, 'YYYY-MM-DD HH24:MI') AS expires,
       pg_size_pretty(storage_size_bytes) AS size
  FROM atlas_snapshots
 WHERE completed
   AND expires_at > :'now'::timestamptz
   AND expires_at <= :'now'::timestamptz + make_interval(days => :days)
 ORDER BY expires_at, project, cluster, id;
\pset title
