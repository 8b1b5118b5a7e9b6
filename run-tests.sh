#!/usr/bin/env bash
# run-tests.sh: build atlas_snapshot_fdw and run its whole test suite.
#
# On a fresh Debian 12 machine this installs the Debian packages it uses
# (scripts/common.sh: install_build_deps, install_test_deps), builds with
# -Werror, installs the extension, starts the mock Atlas server and a
# throwaway PostgreSQL cluster of its own (throwaway_cluster in
# scripts/common.sh: never one of the machine's clusters), runs the
# pg_regress suite and the mock's own self-test, the secrets test, a fault
# soak (ATLAS_SOAK_SCANS scans, 200 by default), the session fuzzer
# (ATLAS_SESSIONS sessions, 200 by default), the pg_regress suite again
# with the library in shared_preload_libraries (shared memory: the same
# expected output), the shared-token test (20 backends, one token
# request), the scheduling recipes' test,
# the postmaster-death test, the proxy test, the clusters test (./demo.sh
# and the throwaway clusters leave a cluster 15/regress alone), the HTML
# report test (headless Chromium), the release archive's test, the suite
# again under valgrind, and a 60 s run of the fuzzer (ATLAS_FUZZ_SECONDS),
# and exits non-zero on any failure (printing regression.diffs).
#
# Then the same source on PostgreSQL 17 and 18 (scripts/pg-matrix.sh: the
# pg_regress suite, the secrets test and the shared-token test, without
# preloading: the DSM registry; servers (npm registry) and headers
# (Debian trixie and sid) fetched once into /var/cache/atlas_snapshot_fdw,
# nothing installed).  ATLAS_PG_MATRIX names the versions ("18": only 18;
# empty: none).  Ends with the results by PostgreSQL version.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/common.sh

install_build_deps
install_test_deps
build_and_install
clear_pg_env

start_mock test
echo "== mock self-test"
python3 -m unittest test/test_mock.py 2>&1 | tail -n 3

echo "== pg_regress, the secrets test, the fault soak and the session fuzzer in a throwaway cluster"
status=0
results=$(mktemp)
trap 'kill $MOCK_PID 2>/dev/null || true; rm -f "$MOCK_LOG" "$results"' EXIT
throwaway_cluster -o logging_collector=on \
	bash scripts/cluster-tests.sh 2>&1 | tee "$results" || status=$?
if [ "$status" -ne 0 ]; then
	echo "tests failed" >&2
	exit "$status"
fi
pg15="PG $PG_MAJOR: $(sed -n 's/^regress: /regress /p' "$results"); $(sed -n 's/^secrets: /secrets /p' "$results")"

echo "== pg_regress again, the library in shared_preload_libraries (the instance-wide segment)"
preload_status=0
throwaway_cluster -o logging_collector=on -o shared_preload_libraries=atlas_snapshot_fdw \
	make installcheck PG_CONFIG="$PG_CONFIG" 2>&1 | tee "$results" || preload_status=$?
if [ "$preload_status" -ne 0 ]; then
	[ -f regression.diffs ] && cat regression.diffs
	echo "pg_regress with shared_preload_libraries failed" >&2
	exit "$preload_status"
fi
pg15="$pg15; preloaded regress $(grep -c '^\(ok\|test\) .* \.\.\. ok' "$results" || true) passed"

echo "== shared tokens: 20 backends, one token request; wait events; a fetch mark's holder terminated or hung"
bash test/test_shared_tokens.sh

echo "== scheduling recipes (pg_cron materialized view, plain cron script)"
bash test/test_schedule.sh

echo "== the HTML report: self-contained, rendered by headless Chromium, the reports' figures"
bash test/test_report_html.sh
echo "== the release archive: META.json, make dist, built and installed with PGXS"
bash test/test_dist.sh

echo "== a backend waiting on Atlas exits when the postmaster dies"
bash test/test_pm_death.sh

echo "== shared memory: one rate-limit budget, the instance's statistics (preloaded and not)"
bash test/test_budget.sh

echo "== proxies: the proxy option, and the postmaster's proxy variables ignored"
bash test/test_proxy.sh

echo "== ./demo.sh and the throwaway clusters leave a cluster 15/regress they did not create alone"
bash test/test_clusters.sh

echo "== the regression suite again, every backend under valgrind memcheck"
bash test/valgrind/run.sh

echo "== fuzzing the page parser (libFuzzer, ASan, UBSan, LeakSanitizer)"
bash fuzz/run.sh "${ATLAS_FUZZ_SECONDS:-60}"

matrix="${ATLAS_PG_MATRIX-17 18}"
if [ -n "$matrix" ]; then
	echo "== the same source on PostgreSQL $matrix: pg_regress and the secrets test"
	# shellcheck disable=SC2086
	bash scripts/pg-matrix.sh $matrix 2>&1 | tee "$results" || status=$?
fi
echo "== results by PostgreSQL version"
echo "$pg15; valgrind and fuzzing passed"
[ -z "$matrix" ] || grep '^PG [0-9]*: ' "$results" | sort -u
if [ "$status" -ne 0 ]; then
	echo "tests failed" >&2
	exit "$status"
fi
echo "all tests passed"
