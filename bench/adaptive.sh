#!/usr/bin/env bash
# bench/adaptive.sh: the adaptive-concurrency simulations (issue 20): S2,
# S4, S5 with and without RateLimit headers, against the mock Atlas server
# (bench/adaptive.py starts one per scenario).  Not a test: it prints a
# table.  Needs the extension installed; runs in a throwaway cluster
# (throwaway_cluster).  About 2 minutes (S5 alone takes 2 x 38 s by design).
# On a shared machine, run it under flock /tmp/atlas-fdw-test.lock.
#
#   bash bench/adaptive.sh            (ADAPTIVE_ONLY=S4,S5h to choose)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
clear_pg_env
throwaway_cluster python3 bench/adaptive.py
