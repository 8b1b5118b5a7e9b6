#!/usr/bin/env bash
# bench/budget.sh: scenario S6 (bench/budget.py), 8 backends behind one
# token bucket, in a throwaway cluster; BUDGET_PRELOAD=1 puts the library
# in shared_preload_libraries.  Not a test: it prints a table row.  Needs
# the extension installed; hold the machine's test lock while it runs:
#
#   flock /tmp/atlas-fdw-test.lock bash bench/budget.sh
#   BUDGET_PRELOAD=1 BUDGET_REPS=5 flock /tmp/atlas-fdw-test.lock bash bench/budget.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
# BUDGET_PG_CONFIG: another installation's pg_config (a copy of the
# server with another build of the extension installed, for side-by-side
# runs without touching the system's)
PG_CONFIG=${BUDGET_PG_CONFIG:-$PG_CONFIG}
export PG_BINDIR
PG_BINDIR=$("$PG_CONFIG" --bindir)
clear_pg_env
opts=()
label=${BUDGET_LABEL:-not preloaded}
if [ "${BUDGET_PRELOAD:-0}" = 1 ]; then
	opts=(-o shared_preload_libraries=atlas_snapshot_fdw)
	label=${BUDGET_LABEL:-preloaded}
fi
export BUDGET_LABEL=$label
throwaway_cluster "${opts[@]}" sh -c 'PGDATA_DIR=$PGHOST/data exec python3 bench/budget.py'
