-- reports/storage_by_project_month.sql: snapshot count and total storage
-- per project and month (Flex snapshots have no size: counted only).
--
-- Variables: now (default the current time; months up to it are shown).
-- Example:   psql -f reports/storage_by_project_month.sql
\ir _defaults.sql
\ir _snapshots.sql
\pset title 'Snapshots and storage per project and month'
SELECT project, to_char(date_trunc('month', taken_at), 'YYYY-MM') AS month,
       count(*) AS snapshots,
       count(*) FILTER (WHERE failed) AS failed,
       pg_size_pretty(sum(storage_size_bytes)) AS storage,
       sum(storage_size_bytes) AS storage_bytes
  FROM atlas_snapshots
 WHERE taken_at <= :'now'::timestamptz
 GROUP BY project, date_trunc('month', taken_at)
 ORDER BY project, month;
\pset title
