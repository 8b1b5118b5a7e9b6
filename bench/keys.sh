#!/usr/bin/env bash
# bench/keys.sh: how long huge key lists take to expand, and how soon a
# cancel takes effect while they do (issue 13, item 2).  Not a test: it
# prints timings.  Needs the extension installed; starts the mock and a
# throwaway cluster (throwaway_cluster).  On a shared machine, run it under
# flock /tmp/atlas-fdw-test.lock.
#
#   bash bench/keys.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
clear_pg_env
start_mock test
throwaway_cluster bash -s <<'INNER'
psql -X -q -v ON_ERROR_STOP=0 <<'SQL' 2>&1 | grep -E "^(Time|ERROR|--|[ 0-9]+$)"
\i bench/setup.sql
CREATE FOREIGN TABLE s (group_id text, cluster_name text, id text) SERVER b OPTIONS (resource 'cluster_snapshots');
CREATE TABLE a200k AS SELECT array_agg('a' || i) AS v FROM generate_series(1, 200000) i;
CREATE TABLE b200k AS SELECT array_agg('b' || i) AS v FROM generate_series(1, 200000) i;
CREATE TABLE a2m AS SELECT array_agg('a' || i) AS v FROM generate_series(1, 2000000) i;
CREATE TABLE b2m AS SELECT array_agg('b' || i) AS v FROM generate_series(1, 2000000) i;
CREATE TABLE g64k AS SELECT array_agg(lpad(to_hex(i), 24, '0')) AS v FROM generate_series(1, 65536) i;
CREATE TABLE c64k AS SELECT array_agg('c' || i) AS v FROM generate_series(1, 65536) i;
\timing on
\echo -- 200,000 distinct values intersected with 200,000 others (no request)
SELECT count(*) FROM s WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name = ANY ((SELECT v FROM a200k)::text[]) AND cluster_name = ANY ((SELECT v FROM b200k)::text[]);
\echo -- the same with 2,000,000 each
SELECT count(*) FROM s WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name = ANY ((SELECT v FROM a2m)::text[]) AND cluster_name = ANY ((SELECT v FROM b2m)::text[]);
\echo -- 65,536 x 65,536: refused before any request
SELECT count(*) FROM s WHERE group_id = ANY ((SELECT v FROM g64k)::text[]) AND cluster_name = ANY ((SELECT v FROM c64k)::text[]);
\echo -- statement_timeout 100ms (then 300ms) while two lists of 2,000,000 values are deduplicated and intersected: the overshoot is the cancel latency
SET statement_timeout = '100ms';
SELECT count(*) FROM s WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name = ANY ((SELECT v FROM a2m)::text[]) AND cluster_name = ANY ((SELECT v FROM b2m)::text[]);
SET statement_timeout = '300ms';
SELECT count(*) FROM s WHERE group_id = '32b6e34b3d91647abb20e7b8'
   AND cluster_name = ANY ((SELECT v FROM a2m)::text[]) AND cluster_name = ANY ((SELECT v FROM b2m)::text[]);
SQL
INNER
