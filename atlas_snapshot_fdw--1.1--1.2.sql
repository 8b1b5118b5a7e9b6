/* atlas_snapshot_fdw--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION atlas_snapshot_fdw UPDATE TO '1.2'" to load this file. \quit

-- Version 1.2 adds resources, all in the shared library: backup_schedules,
-- backup_policy_items, restore_jobs, flex_restore_jobs, export_jobs,
-- export_buckets and backup_compliance_policies.  Foreign tables made by an
-- earlier IMPORT FOREIGN SCHEMA keep working; import again (LIMIT TO the
-- new names) to create the new tables.
--
-- atlas_snapshot_fdw_stats() gains columns telling how scans were paced
-- (rate limits, waits, peak in flight).
DROP FUNCTION atlas_snapshot_fdw_stats();
CREATE FUNCTION atlas_snapshot_fdw_stats(
    OUT server_name text,
    OUT user_name text,
    OUT auth text,
    OUT requests bigint,
    OUT pages bigint,
    OUT bytes bigint,
    OUT retries bigint,
    OUT tokens bigint,
    OUT errors bigint,
    OUT last_error text,
    OUT last_error_at timestamptz,
    OUT rate_limited bigint,
    OUT concurrency_cuts bigint,
    OUT rate_limit_wait_ms double precision,
    OUT peak_in_flight integer)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION atlas_snapshot_fdw_stats()
  IS 'requests, pages, bytes, retries, tokens, errors and rate limits of atlas_snapshot_fdw in this backend, per user mapping';
