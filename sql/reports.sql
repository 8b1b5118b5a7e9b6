--
-- reports: every script of reports/ against the test fleet, at a fixed
-- moment ("now" = 2026-11-02 00:00 UTC)
--
SET TIME ZONE 'UTC';
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER rep_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER rep_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE SCHEMA atlas;
IMPORT FOREIGN SCHEMA atlas FROM SERVER rep_srv INTO atlas;
\set now '2026-11-02 00:00+00'
-- the scripts themselves are not echoed
\set ECHO none

\i reports/fleet_summary.sql
\set hours 12
\i reports/overdue_clusters.sql
\i reports/storage_by_project_month.sql
\set days 7
\i reports/expiring_snapshots.sql
\set days 3
\i reports/failed_snapshots.sql
\i reports/backup_enabled_no_snapshots.sql
\set days 7
\i reports/retention_below.sql
\set days 30
\i reports/restore_tests.sql
\i reports/compliance_status.sql
\set days 7
\i reports/backup_audit.sql
\set days 30

-- fleet_summary.sql's output as a table, to compare the calendar with
\pset format csv
\o results/reports_fleet_summary.csv
\i reports/fleet_summary.sql
\o
\pset format aligned
CREATE TEMP TABLE fleet_summary_out (project text, cluster text, kind text,
	last_completed text, age text, days7 text, failed text, size text, status text);
\copy fleet_summary_out FROM 'results/reports_fleet_summary.csv' (FORMAT csv, HEADER)
\i reports/backup_calendar.sql

\set ECHO all
-- the calendar agrees with fleet_summary.sql for every cluster: the same
-- clusters; blank every day exactly when BACKUP OFF; its last completed
-- day is the date of last_completed (none when that is older than the
-- window); no snapshot on any day of a cluster with NO SNAPSHOTS
SELECT coalesce(f.cluster, c.cluster) AS cluster, f.status, f.last_completed,
       to_char(c.last_completed_day, 'YYYY-MM-DD') AS last_completed_day, c.days_off, c.days_with_snapshots,
       f.cluster IS NOT NULL AND c.cluster IS NOT NULL
       AND (f.status = 'BACKUP OFF') = (c.days_off = :days)
       AND c.last_completed_day IS NOT DISTINCT FROM
           (SELECT d FROM (SELECT left(f.last_completed, 10)::date AS d
                            WHERE f.last_completed ~ '^\d{4}-') x
             WHERE d > :'now'::timestamptz::date - :days)
       AND (f.status <> 'NO SNAPSHOTS' OR c.days_with_snapshots = 0) AS agrees
  FROM fleet_summary_out f
  FULL JOIN (SELECT project, cluster,
                    max(day) FILTER (WHERE state = 'completed') AS last_completed_day,
                    count(*) FILTER (WHERE state = 'off') AS days_off,
                    count(*) FILTER (WHERE state IN ('completed', 'failed')) AS days_with_snapshots
               FROM atlas_calendar GROUP BY project, cluster) c
    ON c.project = f.project AND c.cluster = f.cluster
 ORDER BY 1;
-- the ASCII calendar, over a shorter window
\set ECHO none
\set ascii 1
\set days 5
\i reports/backup_calendar.sql
\unset ascii
\set ECHO all
-- every snapshot table was read by one organization-wide scan, hash joined
\set QUIET off
EXPLAIN (COSTS OFF)
SELECT count(*) FROM atlas_snapshots;

-- deleted clusters that still hold backups: none in the test fleet, two
-- in its variant "retained" (retired-project)
\set ECHO none
\i reports/retained_backups.sql
\! python3 test/mockctl.py variant '{"retained": true}'
\i reports/retained_backups.sql
\! python3 test/mockctl.py reset
\set ECHO all
\set QUIET off

RESET client_min_messages;
DROP TABLE atlas_retained;
DROP VIEW atlas_calendar;
DROP TABLE fleet_summary_out;
DROP TABLE atlas_inventory CASCADE;
DROP SCHEMA atlas CASCADE;
DROP SERVER rep_srv CASCADE;
