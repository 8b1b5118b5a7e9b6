#!/usr/bin/env bash
# bench/joins.sh: joins with the inventory against a mock with 50 ms added
# to every request (issue 17).  A project of 100 clusters (the mock's
# "wide" fleet: n1 .. n100 in project 6b8cd3c1e8f0b0a1d2c3d4e5, nK with K
# snapshots); each query runs RUNS (5) times cold and warm, and the medians
# are printed.  Not a
# test: it prints timings.  Needs the extension installed and a server to
# connect to (PGHOST/PGPORT/PGUSER, or a throwaway cluster around it):
#
#   flock /tmp/atlas-fdw-test.lock bash -c '. scripts/common.sh; throwaway_cluster bash bench/joins.sh'
#
# LATENCY_MS (50) changes the added latency.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
start_mock wide --latency-ms "${LATENCY_MS:-50}"
DB=atlas_bench_joins
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -d $DB -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
\i bench/setup.sql
CREATE SCHEMA atlas;
IMPORT FOREIGN SCHEMA atlas FROM SERVER b INTO atlas;
-- the same endpoint with enumeration off: the plans of before issue 17
CREATE FOREIGN TABLE atlas.cs_noenum (group_id text, cluster_name text, id text)
	SERVER b OPTIONS (resource 'cluster_snapshots', enumerate 'false');
-- the same through a service account (OAuth: no Digest challenge)
\getenv client_id ATLAS_MOCK_CLIENT_ID
\getenv client_secret ATLAS_MOCK_CLIENT_SECRET
CREATE SERVER bo FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER bo OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE SCHEMA atlas_sa;
IMPORT FOREIGN SCHEMA atlas LIMIT TO (clusters, cluster_snapshots) FROM SERVER bo INTO atlas_sa;
CREATE TABLE my_clusters (g text, c text);
INSERT INTO my_clusters SELECT '6b8cd3c1e8f0b0a1d2c3d4e5', 'n' || i FROM generate_series(1, 100) i;
ANALYZE my_clusters;
SQL

G="'6b8cd3c1e8f0b0a1d2c3d4e5'"
IN_LIST=$(seq 1 100 | sed "s/.*/'n&'/" | paste -sd, -)
# name|query
QUERIES=(
"IN list of 100 names|SELECT count(*) FROM atlas.cluster_snapshots WHERE group_id = $G AND cluster_name IN ($IN_LIST)"
"project-wide scan|SELECT count(*) FROM atlas.cluster_snapshots WHERE group_id = $G"
"inventory JOIN|SELECT count(*) FROM atlas.clusters c JOIN atlas.cluster_snapshots s ON s.group_id = c.group_id AND s.cluster_name = c.name WHERE c.group_id = $G"
"inventory LEFT JOIN|SELECT count(s.id) FROM atlas.clusters c LEFT JOIN atlas.cluster_snapshots s ON s.group_id = c.group_id AND s.cluster_name = c.name WHERE c.group_id = $G"
"inventory JOIN, enumerate off (nested loop)|SELECT count(*) FROM atlas.clusters c JOIN atlas.cs_noenum s ON s.group_id = c.group_id AND s.cluster_name = c.name WHERE c.group_id = $G"
"inventory LEFT JOIN, enumerate off (nested loop)|SELECT count(s.id) FROM atlas.clusters c LEFT JOIN atlas.cs_noenum s ON s.group_id = c.group_id AND s.cluster_name = c.name WHERE c.group_id = $G"
"local my_clusters JOIN (nested loop)|SELECT count(*) FROM my_clusters m JOIN atlas.cluster_snapshots s ON s.group_id = m.g AND s.cluster_name = m.c"
"local my_clusters, ANY (ARRAY(SELECT ...))|SELECT count(*) FROM atlas.cluster_snapshots WHERE group_id = $G AND cluster_name = ANY (ARRAY(SELECT c FROM my_clusters))"
"organization-wide scan (3 projects, 103 clusters)|SELECT count(*) FROM atlas.cluster_snapshots"
"service account: IN list of 100 names|SELECT count(*) FROM atlas_sa.cluster_snapshots WHERE group_id = $G AND cluster_name IN ($IN_LIST)"
"service account: inventory JOIN|SELECT count(*) FROM atlas_sa.clusters c JOIN atlas_sa.cluster_snapshots s ON s.group_id = c.group_id AND s.cluster_name = c.name WHERE c.group_id = $G"
)
# cold: a new backend for each run (its pool handles meet Atlas's Digest
# challenge first: one more round trip on each); warm: one backend runs the
# query once, then RUNS timed runs (handles already past the challenge,
# as in a session that runs several reports)
RUNS=${RUNS:-5}
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
printf '%-52s %9s %9s\n' "query (median of $RUNS runs)" "cold" "warm"
for entry in "${QUERIES[@]}"; do
	name=${entry%%|*}
	query=${entry#*|}
	cold=()
	for _ in $(seq "$RUNS"); do
		t=$(psql -X -q -d $DB -v ON_ERROR_STOP=1 -c '\timing on' -c "$query" 2>&1 |
			sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
		cold+=("$t")
	done
	args=(-c "$query" -c '\timing on')
	for _ in $(seq "$RUNS"); do args+=(-c "$query"); done
	mapfile -t warm < <(psql -X -q -d $DB -v ON_ERROR_STOP=1 "${args[@]}" 2>&1 |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
	printf '%-52s %6.0f ms %6.0f ms   (cold: %s; warm: %s)\n' "$name" \
		"$(median "${cold[@]}")" "$(median "${warm[@]}")" "${cold[*]}" "${warm[*]}"
done
psql -X -q -d $DB -c "EXPLAIN (COSTS OFF) SELECT count(*) FROM atlas.clusters c JOIN atlas.cluster_snapshots s ON s.group_id = c.group_id AND s.cluster_name = c.name WHERE c.group_id = $G" \
	-c "EXPLAIN (COSTS OFF) SELECT count(s.id) FROM atlas.clusters c LEFT JOIN atlas.cluster_snapshots s ON s.group_id = c.group_id AND s.cluster_name = c.name WHERE c.group_id = $G"
psql -X -q -d postgres -c "DROP DATABASE $DB"
