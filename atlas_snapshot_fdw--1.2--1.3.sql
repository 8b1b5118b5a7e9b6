/* atlas_snapshot_fdw--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION atlas_snapshot_fdw UPDATE TO '1.3'" to load this file. \quit

-- Version 1.3: cluster lists include the deleted clusters that still hold
-- backups (server and table option include_deleted_clusters), and new
-- resources: collection_restore_jobs, snapshot_databases,
-- snapshot_collections, events, organizations and rate_limits, all in the
-- shared library; foreign tables made by an earlier IMPORT FOREIGN SCHEMA
-- keep working; import again (LIMIT TO the new names) to create the new
-- tables.  The API's calendar is a new function.
CREATE FUNCTION atlas_snapshot_fdw_endpoints(
    OUT method text,
    OUT path text,
    OUT api_version text,
    OUT resources text[],
    OUT deprecated boolean,
    OUT deprecation_date date,
    OUT sunset_date date,
    OUT removed_date date,
    OUT deprecation_header text,
    OUT sunset_header text,
    OUT deprecation_header_at timestamptz,
    OUT sunset_header_at timestamptz,
    OUT headers_seen_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION atlas_snapshot_fdw_endpoints()
  IS 'every Atlas endpoint atlas_snapshot_fdw calls, with the deprecation and sunset dates Atlas announced and the Deprecation and Sunset headers last seen in this backend';

-- With shared memory (the library in shared_preload_libraries, or
-- PostgreSQL 17+), atlas_snapshot_fdw_stats() shows the instance's
-- figures; its new column scope says whose figures a row holds
-- ('instance', or 'backend' without shared memory).
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
    OUT peak_in_flight integer,
    OUT scope text)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION atlas_snapshot_fdw_stats()
  IS 'requests, pages, bytes, retries, tokens, errors and rate limits of atlas_snapshot_fdw in the instance (or this backend), per user mapping';

-- the statistics since now: the instance's with shared memory, else this
-- backend's; for superusers unless granted, as pg_stat_statements_reset()
CREATE FUNCTION atlas_snapshot_fdw_stats_reset()
RETURNS timestamptz
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION atlas_snapshot_fdw_stats_reset()
  IS 'reset the statistics of atlas_snapshot_fdw_stats()';

REVOKE ALL ON FUNCTION atlas_snapshot_fdw_stats_reset() FROM PUBLIC;
