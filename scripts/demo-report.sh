#!/usr/bin/env bash
# scripts/demo-report.sh: the part of demo.sh that runs inside the
# throwaway cluster (PG* environment set by throwaway_cluster).  Credentials
# arrive in DEMO_ID/DEMO_SECRET and reach PostgreSQL as psql variables
# (\getenv), never on a command line.  Ends by writing the HTML report
# (scripts/report-html.sh) to $ATLAS_REPORT_HTML (default
# atlas-backup-report.html in the clone) and saying where.
set -euo pipefail
cd "$(dirname "$0")/.."

psql -X -q -v ON_ERROR_STOP=1 -v hours="$DEMO_HOURS" <<'SQL'
\getenv base_url DEMO_BASE_URL
\getenv auth DEMO_AUTH
\getenv id DEMO_ID
\getenv secret DEMO_SECRET
\getenv source DEMO_SOURCE
SET client_min_messages = warning;
CREATE EXTENSION atlas_snapshot_fdw;
SELECT :'base_url' = '' AS real_atlas \gset
\if :real_atlas
CREATE SERVER atlas FOREIGN DATA WRAPPER atlas_snapshot_fdw;
\else
CREATE SERVER atlas FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'base_url');
\endif
SELECT :'auth' = 'oauth' AS oauth \gset
\if :oauth
CREATE USER MAPPING FOR CURRENT_USER SERVER atlas OPTIONS (client_id :'id', client_secret :'secret');
\else
CREATE USER MAPPING FOR CURRENT_USER SERVER atlas OPTIONS (public_key :'id', private_key :'secret');
\endif
CREATE SCHEMA atlas;
IMPORT FOREIGN SCHEMA atlas FROM SERVER atlas INTO atlas;

\echo
\echo 'atlas_snapshot_fdw demo: backups of every project, read from' :source
\echo
\i reports/fleet_summary.sql
\echo
\i reports/overdue_clusters.sql
\echo
\i reports/failed_snapshots.sql
\echo
\set days 30
\i reports/backup_audit.sql
\echo
\set days 30
\i reports/backup_calendar.sql
\echo
\i reports/retention_below.sql
\echo
\i reports/retained_backups.sql
\echo
\if :real_atlas
\echo 'reports/restore_tests.sql and reports/compliance_status.sql need the Project'
\echo 'Backup Manager and Project Owner roles: run them with psql where you have those.'
\else
\set days 90
\i reports/restore_tests.sql
\echo
\i reports/compliance_status.sql
\endif
\echo
\pset title 'What the FDW did'
SELECT requests, pages, pg_size_pretty(bytes) AS received, retries, errors
  FROM atlas_snapshot_fdw_stats();
SQL

html=${ATLAS_REPORT_HTML:-$PWD/atlas-backup-report.html}
bash scripts/report-html.sh -o "$html" -v hours="$DEMO_HOURS"
echo
echo "The HTML report (calendar, storage, overdue and failed snapshots, retained backups, audit trail): $html"
