#!/usr/bin/env bash
# test_report_html.sh: the HTML backup report (scripts/report-html.sh)
# against the mock (test fleet) at a fixed moment, in a throwaway cluster:
# written, self-contained (nothing referenced outside the page), rendered
# by headless Chromium to a PNG, and its rendered DOM showing the same
# clusters and figures as the psql reports (test/check_report_html.py).
#
# Needs ATLAS_MOCK_URL and the mock's credentials (scripts/common.sh,
# start_mock; started here when unset) and the extension installed.
# Installs Debian's chromium if missing (once).  Chromium runs with no
# network use of its own (no background networking, component updates,
# sync or QUIC) and a fresh profile.  Prints "report_html: N passed, M
# failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

if ! command -v chromium >/dev/null 2>&1; then
	echo "== installing Debian package chromium"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends chromium >/dev/null
fi
[ -n "${ATLAS_MOCK_URL:-}" ] || start_mock test
clear_pg_env

throwaway_cluster bash -s <<'INNER'
set -uo pipefail
. scripts/common.sh
export PGDATABASE=postgres PGTZ=UTC
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || exit 1
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE EXTENSION atlas_snapshot_fdw;
CREATE SERVER atlas FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER atlas
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE SCHEMA atlas;
IMPORT FOREIGN SCHEMA atlas FROM SERVER atlas INTO atlas;
SQL

vars=(-v "now=2026-11-02 00:00+00" -v hours=12)
bash scripts/report-html.sh -o "$work/report.html" "${vars[@]}"
check_eq "report-html.sh exit status" "$?" 0
# the psql reports, same variables (each report's own default days)
psql -X -q --csv "${vars[@]}" -v ascii=1 -f reports/backup_calendar.sql >"$work/calendar.csv"
psql -X -q --csv "${vars[@]}" -f reports/storage_by_project_month.sql >"$work/storage.csv"
psql -X -q --csv "${vars[@]}" -f reports/overdue_clusters.sql >"$work/overdue.csv"
psql -X -q --csv "${vars[@]}" -f reports/failed_snapshots.sql >"$work/failed.csv"

# a failing report leaves no page
bash scripts/report-html.sh -o "$work/none.html" -d no_such_database 2>/dev/null
check_eq "report-html.sh fails without the database" "$?" 2
check_eq "no page written on failure" "$(ls "$work" | grep -c '^none\.html')" 0

chrome=(chromium --headless --no-sandbox --disable-gpu --disable-quic
	--no-first-run --disable-background-networking --disable-component-update
	--disable-sync --user-data-dir="$work/profile" --hide-scrollbars)
"${chrome[@]}" --window-size=1280,900 --screenshot="$work/report.png" \
	"file://$work/report.html" >/dev/null 2>"$work/chromium.log"
check_eq "chromium --screenshot exit status" "$?" 0
"${chrome[@]}" --dump-dom "file://$work/report.html" >"$work/dom.html" 2>>"$work/chromium.log"
check_eq "chromium --dump-dom exit status" "$?" 0
echo "shell checks: $passed passed, $failed failed"
python3 test/check_report_html.py "$work/report.html" "$work/dom.html" \
	"$work/report.png" "$work" || failed=$((failed + 1))
[ "$failed" -eq 0 ] || { tail -n 20 "$work/chromium.log" >&2; exit 1; }
INNER
