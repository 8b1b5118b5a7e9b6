#!/usr/bin/env bash
# run-tests.sh: build atlas_snapshot_fdw and run its whole test suite.
#
# On a fresh Debian 12 machine this installs what it needs (PostgreSQL 15,
# its server headers, libcurl, json-c), builds with -Werror, installs the
# extension, starts the mock Atlas server and a throwaway PostgreSQL
# cluster (pg_virtualenv), runs the pg_regress suite and the mock's own
# self-test, the secrets test, the scheduling recipes' test, the proxy
# test, the suite again under valgrind, and a 60 s run of the fuzzer (ATLAS_FUZZ_SECONDS),
# and exits non-zero on any failure (printing regression.diffs).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/common.sh

install_build_deps
build_and_install
clear_pg_env

start_mock test
echo "== mock self-test"
python3 -m unittest test/test_mock.py 2>&1 | tail -n 3

echo "== pg_regress and the secrets test in a throwaway cluster"
status=0
pg_virtualenv -v "$PG_MAJOR" -o logging_collector=on \
	bash scripts/cluster-tests.sh || status=$?
if [ "$status" -ne 0 ]; then
	echo "tests failed" >&2
	exit "$status"
fi

echo "== scheduling recipes (pg_cron materialized view, plain cron script)"
bash test/test_schedule.sh

echo "== proxies: the proxy option, and the postmaster's proxy variables ignored"
bash test/test_proxy.sh

echo "== the regression suite again, every backend under valgrind memcheck"
bash test/valgrind/run.sh

echo "== fuzzing the page parser (libFuzzer, ASan, UBSan, LeakSanitizer)"
bash fuzz/run.sh "${ATLAS_FUZZ_SECONDS:-60}"

echo "all tests passed"
