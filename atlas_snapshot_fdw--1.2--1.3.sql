/* atlas_snapshot_fdw--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION atlas_snapshot_fdw UPDATE TO '1.3'" to load this file. \quit

-- Version 1.3 adds resources, all in the shared library:
-- collection_restore_jobs, snapshot_databases and snapshot_collections
-- (Atlas API version 2025-03-12).  Foreign tables made by an earlier IMPORT
-- FOREIGN SCHEMA keep working; import again (LIMIT TO the new names) to
-- create the new tables.
