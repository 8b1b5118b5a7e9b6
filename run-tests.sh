#!/usr/bin/env bash
# run-tests.sh: build atlas_snapshot_fdw and run its whole test suite.
#
# On a fresh Debian 12 machine this installs the Debian packages it uses
# (scripts/common.sh: install_build_deps, install_test_deps), builds with
# -Werror and installs the extension.  Every test that needs PostgreSQL
# runs in a throwaway cluster of its own (throwaway_cluster in
# scripts/common.sh: never one of the machine's clusters) against a mock
# Atlas server started for it.
#
# First, alone (they install into the system PostgreSQL): the release
# archive's test and the clusters test (./demo.sh and the throwaway
# clusters leave a cluster 15/regress alone).  Then three lanes at once:
#   A: the mock's self-test, the pg_regress suite, the secrets test, a
#      fault soak (ATLAS_SOAK_SCANS scans, 200 by default), the shared-token
#      test (20 backends, one token request; preloaded), the budget test
#      (one rate-limit budget, the instance's statistics), the scheduling
#      recipes' test, the HTML report test (headless Chromium), the
#      postmaster-death test, the proxy test and a 60 s run of the fuzzer
#      (ATLAS_FUZZ_SECONDS);
#   B: the same source on PostgreSQL 17 (scripts/pg-matrix.sh: the
#      pg_regress suite, the secrets test and the shared-token test, not
#      preloaded: the DSM registry; servers (npm registry) and
#      headers (Debian trixie and sid) fetched once into
#      /var/cache/atlas_snapshot_fdw, nothing installed), then the suite
#      again under valgrind;
#   C: the same on PostgreSQL 18, then the PostgreSQL 15 suite and the
#      fault soak again with the library in shared_preload_libraries (the
#      same expected output).  valgrind runs preloaded too.
# ATLAS_PG_MATRIX names the other versions (default "17 18"; the first
# goes to lane B, the rest to lane C; empty: none).
# Then, alone, the session fuzzer (ATLAS_SESSIONS sessions, 200 by
# default), whose figures must match the mock's log statement by statement.
# Exits non-zero on any failure (printing regression.diffs) and ends with
# the results by PostgreSQL version.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/common.sh

install_build_deps
install_test_deps
build_and_install
clear_pg_env

# The steps that install into the system PostgreSQL run first and alone:
# nothing else uses the installed library meanwhile.
start_mock test
echo "== the release archive: META.json, make dist, built and installed with PGXS"
bash test/test_dist.sh
echo "== ./demo.sh and the throwaway clusters leave a cluster 15/regress they did not create alone"
bash test/test_clusters.sh

# Then three lanes at once, each with a mock Atlas server of its own (tests
# count the requests their mock saw).  Most of a regression run is spent
# waiting (on the mock's latency, on timeouts, on pg_sleep), so three
# lanes keep the two cores busy; valgrind and libFuzzer, which are not
# waiting, are in different lanes.  Lanes B and C write to files, printed
# when they end.
lane_b_log=$(mktemp)
lane_c_log=$(mktemp)
results=$(mktemp)
trap 'kill ${lane_b:-} ${lane_c:-} $MOCK_PID 2>/dev/null || true; rm -f "$MOCK_LOG" "$results" "$lane_b_log" "$lane_c_log"' EXIT
matrix="${ATLAS_PG_MATRIX-17 18}"
# shellcheck disable=SC2086
set -- $matrix
matrix_b=${1:-}
matrix_c=${*:2}
(
	start_mock test
	st=0
	if [ -n "$matrix_b" ]; then
		echo "== the same source on PostgreSQL $matrix_b: pg_regress and the secrets test"
		bash scripts/pg-matrix.sh "$matrix_b" || st=1
	fi
	echo "== the regression suite again, every backend under valgrind memcheck"
	bash test/valgrind/run.sh || st=1
	exit $st
) >"$lane_b_log" 2>&1 &
lane_b=$!
(
	start_mock test
	st=0
	if [ -n "$matrix_c" ]; then
		echo "== the same source on PostgreSQL $matrix_c: pg_regress and the secrets test"
		# shellcheck disable=SC2086
		bash scripts/pg-matrix.sh $matrix_c || st=1
	fi
	echo "== pg_regress and the fault soak again, the library in shared_preload_libraries (the instance-wide segment)"
	# from a copy of the tree: lane A runs the suite at the same time
	out=$(mktemp -d)
	copy_source "$out"
	if throwaway_cluster -o logging_collector=on -o shared_preload_libraries=atlas_snapshot_fdw \
		bash -c 'make -C "$1" installcheck PG_CONFIG="$2" && cd "$1" && python3 test/soak.py "$3"' \
		sh "$out" "$PG_CONFIG" "${ATLAS_SOAK_SCANS:-200}" >"$out/log" 2>&1; then
		sed -n '/^soak: passed/p' "$out/log"
		echo "PG $PG_MAJOR preloaded: regress $(grep -c '^\(ok\|test\) .* \.\.\. ok' "$out/log") passed, 0 failed"
	else
		cat "$out/log"
		[ -f "$out/regression.diffs" ] && cat "$out/regression.diffs"
		echo "pg_regress with shared_preload_libraries failed"
		st=1
	fi
	rm -rf "$out"
	exit $st
) >"$lane_c_log" 2>&1 &
lane_c=$!

status=0
echo "== lane A: the mock self-test, pg_regress, the secrets test, the fault soak, the shell tests, libFuzzer"
echo "== lane B (printed when it ends): PostgreSQL $matrix_b, valgrind"
echo "== lane C (printed when it ends): PostgreSQL $matrix_c, PostgreSQL $PG_MAJOR preloaded"
echo "== mock self-test"
python3 -m unittest test/test_mock.py 2>&1 | tail -n 3

echo "== pg_regress, the secrets test and the fault soak in a throwaway cluster"
throwaway_cluster -o logging_collector=on \
	env ATLAS_SESSIONS=0 bash scripts/cluster-tests.sh 2>&1 | tee "$results" || status=$?
pg15="PG $PG_MAJOR: $(sed -n 's/^regress: /regress /p' "$results"); $(sed -n 's/^secrets: /secrets /p' "$results")"

lane_a_step() {
	echo "== $1"
	shift
	"$@" || status=$?
}
lane_a_step "shared tokens: 20 backends, one token request; wait events; a fetch mark's holder terminated or hung" \
	bash test/test_shared_tokens.sh
lane_a_step "shared memory: one rate-limit budget, the instance's statistics (preloaded and not)" \
	bash test/test_budget.sh
lane_a_step "scheduling recipes (pg_cron materialized view, plain cron script)" \
	bash test/test_schedule.sh
lane_a_step "the HTML report: self-contained, rendered by headless Chromium, the reports' figures" \
	bash test/test_report_html.sh
lane_a_step "a backend waiting on Atlas exits when the postmaster dies" \
	bash test/test_pm_death.sh
lane_a_step "proxies: the proxy option, and the postmaster's proxy variables ignored" \
	bash test/test_proxy.sh
lane_a_step "fuzzing the page parser (libFuzzer, ASan, UBSan, LeakSanitizer)" \
	bash fuzz/run.sh "${ATLAS_FUZZ_SECONDS:-60}"

for lane in "B $lane_b $lane_b_log" "C $lane_c $lane_c_log"; do
	set -- $lane
	echo "== lane $1"
	wait "$2" || status=1
	cat "$3"
done

# The session fuzzer compares each statement's EXPLAIN ANALYZE figures
# with the mock's log: it runs last, alone, so that no other lane's load
# delays a request into the next statement's share of the log.
echo "== the session fuzzer in a throwaway cluster"
throwaway_cluster -o logging_collector=on bash -c \
	'createdb contrib_regression && psql -X -q -d contrib_regression -c "CREATE EXTENSION atlas_snapshot_fdw" &&
	 python3 test/session_fuzz.py --sessions "$1" ${2:+--skip "$2"}' \
	sh "${ATLAS_SESSIONS:-200}" "${ATLAS_SESSIONS_SKIP:-}" || status=$?

echo "== results by PostgreSQL version"
echo "$pg15; valgrind and fuzzing passed"
cat "$lane_b_log" "$lane_c_log" | grep '^PG [0-9]*\( preloaded\)\?: ' | sort -u
if [ "$status" -ne 0 ]; then
	echo "tests failed" >&2
	exit "$status"
fi
echo "all tests passed"
