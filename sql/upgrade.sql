--
-- upgrade: install the oldest version and step through ALTER EXTENSION
-- UPDATE, checking each version's objects (as pg_stat_statements'
-- oldextversions test does)
--
DROP EXTENSION atlas_snapshot_fdw;
CREATE EXTENSION atlas_snapshot_fdw VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'atlas_snapshot_fdw';
\dx+ atlas_snapshot_fdw
ALTER EXTENSION atlas_snapshot_fdw UPDATE TO '1.1';
SELECT extversion FROM pg_extension WHERE extname = 'atlas_snapshot_fdw';
\dx+ atlas_snapshot_fdw
SELECT * FROM atlas_snapshot_fdw_stats() WHERE false;
-- 1.2: new resources (no SQL object), and the stats function's new columns
ALTER EXTENSION atlas_snapshot_fdw UPDATE TO '1.2';
SELECT extversion FROM pg_extension WHERE extname = 'atlas_snapshot_fdw';
\dx+ atlas_snapshot_fdw
SELECT * FROM atlas_snapshot_fdw_stats() WHERE false;
-- 1.3: the API's calendar, new resources, the stats function's scope
-- column, and atlas_snapshot_fdw_stats_reset(), not for PUBLIC
ALTER EXTENSION atlas_snapshot_fdw UPDATE TO '1.3';
SELECT extversion FROM pg_extension WHERE extname = 'atlas_snapshot_fdw';
\dx+ atlas_snapshot_fdw
SELECT * FROM atlas_snapshot_fdw_endpoints() WHERE false;
SELECT * FROM atlas_snapshot_fdw_stats() WHERE false;
SELECT has_function_privilege('public', 'atlas_snapshot_fdw_stats_reset()', 'EXECUTE') AS public_may_reset;
-- a fresh install lands on the default version directly
DROP EXTENSION atlas_snapshot_fdw;
CREATE EXTENSION atlas_snapshot_fdw;
SELECT extversion FROM pg_extension WHERE extname = 'atlas_snapshot_fdw';
SELECT * FROM pg_extension_update_paths('atlas_snapshot_fdw') ORDER BY 1, 2;
