#!/usr/bin/env bash
# bench/reports.sh: how long each report of reports/ takes against the mock
# demo fleet with 50 ms added to every request (issue 17).  Each report runs
# 3 times in a fresh session and the median is printed, with the requests
# the session made.  Not a test: it prints timings.  Needs the extension
# installed and a server to connect to (PGHOST/PGPORT/PGUSER, or
# a throwaway cluster around it):
#
#   flock /tmp/atlas-fdw-test.lock bash -c '. scripts/common.sh; throwaway_cluster bash bench/reports.sh'
#
# LATENCY_MS (50) changes the added latency.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
ATLAS_MOCK_DEMO_NOW=2026-11-01T00:00:00Z start_mock demo --latency-ms "${LATENCY_MS:-50}"
DB=atlas_bench_reports
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -d $DB -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
\i bench/setup.sql
CREATE SCHEMA atlas;
IMPORT FOREIGN SCHEMA atlas FROM SERVER b INTO atlas;
SQL

total=0
for report in fleet_summary overdue_clusters failed_snapshots backup_enabled_no_snapshots expiring_snapshots storage_by_project_month; do
	times=()
	for _ in 1 2 3; do
		start=$(date +%s%N)
		out=$(psql -X -q -d $DB -v ON_ERROR_STOP=1 -v now="'2026-11-01 00:00:00+00'" \
			-f reports/$report.sql -c 'SELECT requests FROM atlas_snapshot_fdw_stats()' -At 2>&1)
		end=$(date +%s%N)
		times+=("$(((end - start) / 1000000))")
	done
	requests=$(printf '%s\n' "$out" | tail -1)
	median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
	printf '%-30s %6d ms  %5s requests   (runs: %s)\n' "$report" "$median" "$requests" "${times[*]}"
done
psql -X -q -d postgres -c "DROP DATABASE $DB"
