/* atlas_snapshot_fdw--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION atlas_snapshot_fdw UPDATE TO '1.3'" to load this file. \quit

-- Version 1.3: cluster lists include the deleted clusters that still hold
-- backups (server and table option include_deleted_clusters), and new
-- resources: collection_restore_jobs, snapshot_databases and
-- snapshot_collections (Atlas API version 2025-03-12), all in the shared
-- library; foreign tables made by an earlier IMPORT FOREIGN SCHEMA keep
-- working; import again (LIMIT TO the new names) to create the new
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
