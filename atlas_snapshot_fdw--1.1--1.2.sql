/* atlas_snapshot_fdw--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION atlas_snapshot_fdw UPDATE TO '1.2'" to load this file. \quit

-- Version 1.2 adds resources, all in the shared library: backup_schedules,
-- backup_policy_items, restore_jobs, flex_restore_jobs, export_jobs,
-- export_buckets and backup_compliance_policies.  No SQL object changes;
-- the script exists so that ALTER EXTENSION ... UPDATE records the version
-- whose library is installed.  Foreign tables made by an earlier IMPORT
-- FOREIGN SCHEMA keep working; import again (LIMIT TO the new names) to
-- create the new tables.
