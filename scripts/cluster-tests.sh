#!/usr/bin/env bash
# scripts/cluster-tests.sh: the tests that need a running cluster (PG*
# environment set by throwaway_cluster) and the mock (ATLAS_MOCK_URL): the
# pg_regress suite, then the secrets test, then the fault soak
# (test/soak.py, ATLAS_SOAK_SCANS scans, 200 by default), then the session
# fuzzer (test/session_fuzz.py, ATLAS_SESSIONS sessions, 200 by default;
# ATLAS_SESSIONS_SKIP: kinds of step left out, e.g. "idle,pacing").  Prints
# regression.diffs and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

rm -f regression.diffs
make installcheck PG_CONFIG="$PG_CONFIG" 2>&1 | tee regression.log
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
	[ -f regression.diffs ] && cat regression.diffs
	echo "pg_regress failed" >&2
	exit "$status"
fi
passed=$(grep -c '^\(ok\|test\) .* \.\.\. ok' regression.log || true)
rm -f regression.log
echo "regress: $passed passed, 0 failed"

bash test/test_secrets.sh || exit 1

python3 test/soak.py "${ATLAS_SOAK_SCANS:-200}" || exit 1

# ATLAS_SESSIONS=0: the caller runs the session fuzzer itself
[ "${ATLAS_SESSIONS:-200}" -eq 0 ] && exit 0
python3 test/session_fuzz.py --sessions "${ATLAS_SESSIONS:-200}" \
	${ATLAS_SESSIONS_SKIP:+--skip "$ATLAS_SESSIONS_SKIP"}
