#!/usr/bin/env bash
# reports/schedule/run-report.sh: run a report from plain cron, without
# pg_cron.  Writes the report to OUTPUT (default: standard output) and
# exits 1 when the overdue report lists any cluster, so that cron's mail
# or a monitoring wrapper can alert on it.
#
# Usage: run-report.sh [OUTPUT [HOURS]]
# Connection: the usual libpq environment (PGHOST, PGDATABASE, PGUSER,
# PGPASSFILE, ...); the database must have the foreign tables in schema
# "atlas" and a user mapping for the connecting role.
set -euo pipefail
reports=$(cd "$(dirname "$0")/.." && pwd)
output=${1:-/dev/stdout}
hours=${2:-24}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

{
	echo "Atlas backup report, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	psql -X -q -v ON_ERROR_STOP=1 -v hours="$hours" -f "$reports/fleet_summary.sql"
	echo
	psql -X -q -v ON_ERROR_STOP=1 -v hours="$hours" -f "$reports/overdue_clusters.sql" | tee "$tmp"
} >"$output"

# the overdue report prints a title and a header, then one line a cluster
if [ "$(grep -c '|' "$tmp")" -gt 1 ]; then
	exit 1
fi
