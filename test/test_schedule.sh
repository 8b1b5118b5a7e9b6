#!/usr/bin/env bash
# test_schedule.sh: exercise the scheduling recipes of reports/schedule/
# against the mock (test fleet): the pg_cron materialized view (job
# registered, refresh fills it) and the plain cron script (report written,
# exit status 1 because clusters are overdue).
#
# Needs ATLAS_MOCK_URL and the mock's credentials (scripts/common.sh,
# start_mock); installs postgresql-15-cron if missing and starts its own
# throwaway cluster with pg_cron preloaded.  Prints
# "schedule: N passed, M failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

if ! dpkg-query -W -f='${Status}' "postgresql-$PG_MAJOR-cron" 2>/dev/null | grep -q "ok installed"; then
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "postgresql-$PG_MAJOR-cron" >/dev/null
fi
clear_pg_env

throwaway_cluster -o shared_preload_libraries=pg_cron \
	-o cron.database_name=postgres bash -s <<'INNER'
set -uo pipefail
. scripts/common.sh
psql -X -q -d postgres -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE EXTENSION atlas_snapshot_fdw;
CREATE SERVER atlas FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER atlas
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE SCHEMA atlas;
IMPORT FOREIGN SCHEMA atlas FROM SERVER atlas INTO atlas;
\i reports/schedule/materialized_view.sql
SQL
check_eq "materialized view and job created" "$?" 0
check_eq "pg_cron job" "$(psql -X -At -d postgres -c "SELECT schedule || ' ' || command FROM cron.job WHERE jobname = 'atlas-backup-status'")" \
	"*/15 * * * * REFRESH MATERIALIZED VIEW CONCURRENTLY atlas_backup_status"
psql -X -q -d postgres -c "REFRESH MATERIALIZED VIEW CONCURRENTLY atlas_backup_status" >/dev/null
check_eq "refresh" "$?" 0
check_eq "clusters in the view" "$(psql -X -At -d postgres -c "SELECT count(*) || ' ' || count(last_completed) FROM atlas_backup_status")" "7 3"
out=$(mktemp)
PGDATABASE=postgres bash reports/schedule/run-report.sh "$out" 24
check_eq "run-report.sh exit status (clusters are overdue)" "$?" 1
check_eq "report written" "$(grep -c 'Backup status per cluster' "$out")" 1
rm -f "$out"
echo "schedule: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
INNER
