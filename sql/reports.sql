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

\set ECHO all
-- every snapshot table was read by one organization-wide scan, hash joined
\set QUIET off
EXPLAIN (COSTS OFF)
SELECT count(*) FROM atlas_snapshots;

RESET client_min_messages;
DROP TABLE atlas_inventory CASCADE;
DROP SCHEMA atlas CASCADE;
DROP SERVER rep_srv CASCADE;
