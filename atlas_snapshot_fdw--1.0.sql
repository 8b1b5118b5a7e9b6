/* atlas_snapshot_fdw--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION atlas_snapshot_fdw" to load this file. \quit

CREATE FUNCTION atlas_snapshot_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION atlas_snapshot_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER atlas_snapshot_fdw
  HANDLER atlas_snapshot_fdw_handler
  VALIDATOR atlas_snapshot_fdw_validator;

COMMENT ON FOREIGN DATA WRAPPER atlas_snapshot_fdw
  IS 'MongoDB Atlas backup snapshots and inventory through the Atlas Administration API v2';
