/* atlas_snapshot_fdw--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION atlas_snapshot_fdw UPDATE TO '1.3'" to load this file. \quit

-- Version 1.3 adds the resource rate_limits (in the shared library: import
-- it with IMPORT FOREIGN SCHEMA ... LIMIT TO (rate_limits)).
--
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
