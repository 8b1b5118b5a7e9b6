/* atlas_snapshot_fdw--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION atlas_snapshot_fdw UPDATE TO '1.1'" to load this file. \quit

-- what the FDW has done in this backend, per user mapping
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
    OUT last_error_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION atlas_snapshot_fdw_stats()
  IS 'requests, pages, bytes, retries, tokens and errors of atlas_snapshot_fdw in this backend, per user mapping';
