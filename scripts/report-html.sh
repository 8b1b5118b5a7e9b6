#!/usr/bin/env bash
# scripts/report-html.sh: write the backup report as one self-contained
# HTML page (reports/_report_html.sql): the backup calendar and snapshot
# storage per project and month as inline SVG, and the storage, overdue,
# failed, retained-backups and audit-trail tables of the psql reports.  No
# script, font, image or style sheet is fetched from anywhere: the page
# can be mailed or published as it is.
#
# Usage: report-html.sh [-o FILE] [psql options ...]
#   -o FILE   where to write the page (default: standard output); the file
#             is replaced only once the page is complete
#   psql options: the reports' connection settings and variables, e.g.
#             -d ops -v hours=12 -v days=30 -v now='2026-11-02 00:00+00'
# Connection: as for psql (PGHOST, PGDATABASE, ~/.pgpass, ...); the
# database must have the foreign tables in schema "atlas" and a user
# mapping for the connecting role.  Exits non-zero, leaving FILE as it
# was, when psql fails.
set -euo pipefail
reports=$(cd "$(dirname "$0")/../reports" && pwd)
output=""
if [ "${1:-}" = "-o" ]; then
	output=${2:?"-o needs a file name"}
	shift 2
fi
if [ -z "$output" ]; then
	exec psql -X -q -v ON_ERROR_STOP=1 "$@" -f "$reports/_report_html.sql"
fi
tmp=$(mktemp "$output.XXXXXX")
trap 'rm -f "$tmp"' EXIT
psql -X -q -v ON_ERROR_STOP=1 "$@" -f "$reports/_report_html.sql" >"$tmp"
chmod 644 "$tmp"
mv "$tmp" "$output"
trap - EXIT
