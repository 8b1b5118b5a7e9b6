#!/usr/bin/env bash
# test_budget.sh: what the backends of one instance share through the
# extension's shared memory, on the server of PG_CONFIG (15: with and
# without shared_preload_libraries):
#   - the rate-limit budget: BACKENDS backends read the wide fleet's
#     analytics project (100 clusters) at once from a small token bucket
#     (the mock's --token-bucket CAPACITY --refill-per-sec REFILL); with
#     the library preloaded the mock answers at most MAX_429 of their
#     requests 429, and fewer than without (counts from the mock's
#     statistics, never timings);
#   - the instance's statistics: a backend that exits (in an open
#     transaction) leaves its requests in atlas_snapshot_fdw_stats() of
#     the others (scope 'instance'), as many as the mock answered it;
#     atlas_snapshot_fdw_stats_reset() empties them; without preloading
#     the rows are each backend's own (scope 'backend').
#
# Starts its own mock (start_mock wide) and a throwaway cluster per case;
# needs the extension installed (hold /tmp/atlas-fdw-test.lock).  Prints
# the 429 counts, then "budget: N passed, M failed"; exits non-zero on
# any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

BACKENDS=${BACKENDS:-4}
CAPACITY=${CAPACITY:-20}
REFILL=${REFILL:-40}
MAX_429=${MAX_429:-60}
G1=32b6e34b3d91647abb20e7b8
G3=6b8cd3c1e8f0b0a1d2c3d4e5

# the part that runs inside a throwaway cluster: prints "key value" lines
if [ "${1:-}" = --inner ]; then
	mode=$2
	psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || exit 1
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
SET client_min_messages = warning;
CREATE EXTENSION atlas_snapshot_fdw;
CREATE SERVER budget_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_retries '10');
CREATE USER MAPPING FOR PUBLIC SERVER budget_srv
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE budget_snaps (group_id text, cluster_name text, id text)
	SERVER budget_srv OPTIONS (resource 'cluster_snapshots');
SQL
	# the budget: BACKENDS scans at once, from a full bucket
	python3 test/mockctl.py reset >/dev/null
	sleep "$(python3 -c "print($CAPACITY / $REFILL + 0.5)")"
	pids=()
	for i in $(seq 1 "$BACKENDS"); do
		psql -X -At -c "SELECT count(*) FROM budget_snaps WHERE group_id = '$G3'" \
			>"$TMPOUT.$i" 2>&1 &
		pids+=($!)
	done
	failures=0
	for p in "${pids[@]}"; do wait "$p" || failures=$((failures + 1)); done
	echo "failures $failures"
	echo "counts $(cat "$TMPOUT".* | sort -u | tr '\n' ' ')"
	rm -f "$TMPOUT".*
	python3 -c '
import json, sys, urllib.request
s = json.load(urllib.request.urlopen(sys.argv[1] + "/_mock/stats"))
print("ok", s.get("bucket_ok", 0))
print("429", s.get("bucket_429", 0))' "$ATLAS_MOCK_URL"

	# the statistics of a backend that exits in an open transaction
	psql -X -q -At -c "SELECT atlas_snapshot_fdw_stats_reset()" >/dev/null
	python3 test/mockctl.py reset >/dev/null
	sleep "$(python3 -c "print($CAPACITY / $REFILL + 0.5)")"
	psql -X -q -At >/dev/null <<SQL
BEGIN;
SELECT count(*) FROM budget_snaps WHERE group_id = '$G1' AND cluster_name IN ('n3', 'n700');
SQL
	echo "mock_requests $(python3 test/mockctl.py log --authorized | grep -c ' /api/atlas/')"
	echo "stats $(psql -X -At -c "SELECT requests || ' ' || pages || ' ' || scope FROM atlas_snapshot_fdw_stats() WHERE server_name = 'budget_srv'")"
	psql -X -q -At -c "SELECT atlas_snapshot_fdw_stats_reset()" >/dev/null
	echo "after_reset $(psql -X -At -c "SELECT count(*) FROM atlas_snapshot_fdw_stats() WHERE server_name = 'budget_srv'")"
	exit 0
fi

passed=0
failed=0
clear_pg_env
start_mock wide --token-bucket "$CAPACITY" --refill-per-sec "$REFILL" --latency-ms 20
export TMPOUT
TMPOUT=$(mktemp "${TMPDIR:-/tmp}/atlas-budget.XXXXXX")
chmod 644 "$TMPOUT"

run_case() {
	local opts=()
	[ "$1" = preload ] && opts=(-o shared_preload_libraries=atlas_snapshot_fdw)
	throwaway_cluster "${opts[@]}" bash "$0" --inner "$1"
}

preload=$(run_case preload)
alone=$(run_case none)
rm -f "$TMPOUT"
get() { sed -n "s/^$2 //p" <<<"$1"; }

echo "429s of $BACKENDS backends, bucket $CAPACITY refilled $REFILL/s:" \
	"preloaded $(get "$preload" 429) of $(( $(get "$preload" 429) + $(get "$preload" ok) ))," \
	"not preloaded $(get "$alone" 429) of $(( $(get "$alone" 429) + $(get "$alone" ok) ))"
check_eq "preloaded: every scan ends" "$(get "$preload" failures)" 0
check_eq "not preloaded: every scan ends" "$(get "$alone" failures)" 0
check_eq "preloaded: every scan's count" "$(get "$preload" counts)" "5050 "
check_eq "preloaded: at most $MAX_429 answers 429" \
	"$([ "$(get "$preload" 429)" -le "$MAX_429" ] && echo yes || echo "no: $(get "$preload" 429)")" yes
check_eq "preloaded: fewer 429s than each backend alone" \
	"$([ "$(get "$preload" 429)" -lt "$(get "$alone" 429)" ] && echo yes || echo "no: $(get "$preload" 429) vs $(get "$alone" 429)")" yes

# the exited backend's requests are in the instance's statistics, as
# many as the mock answered (a Digest challenge and its answer count once)
check_eq "preloaded: an exited backend's requests and pages stay" \
	"$(get "$preload" stats)" "$(get "$preload" mock_requests) 3 instance"
check_eq "preloaded: the reset empties the statistics" "$(get "$preload" after_reset)" 0
check_eq "not preloaded: another backend's figures are not seen" "$(get "$alone" stats)" ""

echo "budget: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
