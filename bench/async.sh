#!/usr/bin/env bash
# bench/async.sh: many organizations in one query.  A partitioned table of
# PARTS (4) partitions, each a foreign table on a server of its own (one
# server and user mapping per organization), each partition bounded to
# CLUSTERS/PARTS (250) projects of one cluster each, against one server
# reading all CLUSTERS (1000), with LATENCY_MS (50) added to every request
# of the mock (test fleet with --extra-groups CLUSTERS: empty projects
# be00..01 upwards, in each of which the synthetic cluster n2 has 2
# snapshots: one small page a cluster, so that the mock's CPU is not what
# is measured).  Each
# query runs RUNS (5) times in one backend after a warm-up run, and the
# medians are printed: asynchronous (async_capable on), the partitions one
# after another (off), and the one server; then the mock's request log of
# one asynchronous run.  Not a test: it prints timings.  It needs the
# extension installed and a server to connect to:
#
#   flock /tmp/atlas-fdw-test.lock bash -c '. scripts/common.sh;
#       build_and_install && throwaway_cluster bash bench/async.sh'
#
# MAXC (32) is max_concurrency, on every server.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
PARTS=${PARTS:-4}
CLUSTERS=${CLUSTERS:-1000}
RUNS=${RUNS:-5}
MAXC=${MAXC:-32}
start_mock test --latency-ms "${LATENCY_MS:-50}" --extra-groups "$CLUSTERS"
DB=atlas_bench_async
# the project ids of the mock's extra groups, 1 .. N
groups() { for i in "$@"; do printf "'be%022x'\n" "$i"; done | paste -sd, -; }
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
{
	echo "CREATE EXTENSION atlas_snapshot_fdw;"
	echo "\\getenv mock_url ATLAS_MOCK_URL"
	echo "\\getenv public_key ATLAS_MOCK_PUBLIC_KEY"
	echo "\\getenv private_key ATLAS_MOCK_PRIVATE_KEY"
	echo "CREATE SERVER one FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url', max_concurrency '$MAXC');"
	echo "CREATE USER MAPPING FOR CURRENT_USER SERVER one OPTIONS (public_key :'public_key', private_key :'private_key');"
	echo "CREATE FOREIGN TABLE one_snaps (group_id text, cluster_name text, id text, storage_size_bytes bigint) SERVER one OPTIONS (resource 'cluster_snapshots');"
	echo "CREATE TABLE org_snaps (group_id text, cluster_name text, id text, storage_size_bytes bigint) PARTITION BY LIST (group_id);"
	for p in $(seq 1 "$PARTS"); do
		names=$(groups $(seq "$p" "$PARTS" "$CLUSTERS"))
		echo "CREATE SERVER org$p FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url', max_concurrency '$MAXC', async_capable 'true');"
		echo "CREATE USER MAPPING FOR CURRENT_USER SERVER org$p OPTIONS (public_key :'public_key', private_key :'private_key');"
		echo "CREATE FOREIGN TABLE org$p PARTITION OF org_snaps FOR VALUES IN ($names) SERVER org$p OPTIONS (resource 'cluster_snapshots');"
	done
} | psql -X -q -d $DB -v ON_ERROR_STOP=1 >/dev/null

ALL=$(groups $(seq 1 "$CLUSTERS"))
Q_PARTS="SELECT count(*), sum(storage_size_bytes) FROM org_snaps WHERE cluster_name = 'n2'"
Q_ONE="SELECT count(*), sum(storage_size_bytes) FROM one_snaps WHERE group_id IN ($ALL) AND cluster_name = 'n2'"
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
# timed QUERY [SETUP]: RUNS timings in one backend, after one warm-up run
timed() {
	local args=(-c "${2:-SELECT 1}" -c "$1" -c '\timing on')
	for _ in $(seq "$RUNS"); do args+=(-c "$1"); done
	psql -X -q -d $DB -v ON_ERROR_STOP=1 "${args[@]}" 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}
set_async() {
	for p in $(seq 1 "$PARTS"); do
		psql -X -q -d $DB -c "ALTER SERVER org$p OPTIONS (SET async_capable '$1')"
	done
}
expect=$(psql -X -qAt -d $DB -c "$Q_ONE")
for q in "$Q_PARTS"; do
	got=$(psql -X -qAt -d $DB -c "$q")
	[ "$got" = "$expect" ] || { echo "wrong result: $got, expected $expect" >&2; exit 1; }
done
printf 'rows|sum: %s; %s partitions x %s clusters; max_concurrency %s; +%s ms a request\n' \
	"$expect" "$PARTS" "$((CLUSTERS / PARTS))" "$MAXC" "${LATENCY_MS:-50}"
printf '%-44s %9s   %s\n' "query (median of $RUNS warm runs)" "time" "runs"
mapfile -t t < <(timed "$Q_ONE")
printf '%-44s %6.0f ms   %s\n' "one server, $CLUSTERS clusters" "$(median "${t[@]}")" "${t[*]}"
set_async true
mapfile -t t < <(timed "$Q_PARTS")
printf '%-44s %6.0f ms   %s\n' "$PARTS servers, async_capable on" "$(median "${t[@]}")" "${t[*]}"
set_async false
mapfile -t t < <(timed "$Q_PARTS")
printf '%-44s %6.0f ms   %s\n' "$PARTS servers, async_capable off (serial)" "$(median "${t[@]}")" "${t[*]}"
set_async true
psql -X -q -d $DB -c "EXPLAIN (COSTS OFF) $Q_PARTS"
# the request log of one asynchronous run (after a warm-up)
psql -X -q -d $DB -c "$Q_PARTS" -c "SELECT pg_sleep(0)" -c '\! python3 test/mockctl.py reset' -c "$Q_PARTS" >/dev/null
echo "most requests in flight at once: $(python3 test/mockctl.py in-flight)"
echo "the first 16 requests (arrived ms, answered ms, status, request) of one run:"
python3 test/mockctl.py log --times --authorized | head -16
# cancel latency while the Append waits: one partition's request held 5 s,
# statement_timeout 300 ms
python3 test/mockctl.py reset >/dev/null || true
python3 test/mockctl.py fault '{"match": "groups/be0+3/", "kind": "stall", "seconds": 5}' >/dev/null || true
t=$(psql -X -q -d $DB -c '\timing on' -c "SET statement_timeout = 300" -c "$Q_PARTS" 2>&1 |
	sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
echo "statement_timeout 300 ms while a partition's request is held 5 s: canceled after $t ms"
python3 test/mockctl.py reset >/dev/null || true
psql -X -q -d postgres -c "DROP DATABASE $DB"
