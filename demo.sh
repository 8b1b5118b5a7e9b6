#!/usr/bin/env bash
# demo.sh: one command from a fresh Debian 12 machine to a backup report.
#
# Installs what it needs (Debian packages), builds and installs the
# extension, starts a throwaway PostgreSQL cluster of its own
# (throwaway_cluster in scripts/common.sh: no cluster of the machine is
# used or dropped) and, unless real
# credentials are in the environment, the mock Atlas server with a
# realistic fleet; imports the Atlas schema and prints a report.
#
# Real Atlas instead of the mock (read-only; Project Read Only suffices):
#   ATLAS_CLIENT_ID=mdb_sa_id_... ATLAS_CLIENT_SECRET=mdb_sa_sk_... ./demo.sh
#   ATLAS_PUBLIC_KEY=abcdefgh ATLAS_PRIVATE_KEY=... ./demo.sh
# Optional: ATLAS_REPORT_HOURS (default 24) for the overdue report.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/common.sh

install_build_deps >&2
build_and_install >&2
clear_pg_env

if [ -n "${ATLAS_CLIENT_ID:-}" ] && [ -n "${ATLAS_CLIENT_SECRET:-}" ]; then
	export DEMO_SOURCE="Atlas (service account)" DEMO_BASE_URL=""
	export DEMO_AUTH=oauth DEMO_ID="$ATLAS_CLIENT_ID" DEMO_SECRET="$ATLAS_CLIENT_SECRET"
elif [ -n "${ATLAS_PUBLIC_KEY:-}" ] && [ -n "${ATLAS_PRIVATE_KEY:-}" ]; then
	export DEMO_SOURCE="Atlas (API key)" DEMO_BASE_URL=""
	export DEMO_AUTH=apikey DEMO_ID="$ATLAS_PUBLIC_KEY" DEMO_SECRET="$ATLAS_PRIVATE_KEY"
else
	start_mock demo
	export DEMO_SOURCE="the mock Atlas server at $ATLAS_MOCK_URL (demo fleet)"
	export DEMO_BASE_URL="$ATLAS_MOCK_URL"
	export DEMO_AUTH=apikey DEMO_ID="$ATLAS_MOCK_PUBLIC_KEY" DEMO_SECRET="$ATLAS_MOCK_PRIVATE_KEY"
fi
export DEMO_HOURS="${ATLAS_REPORT_HOURS:-24}"

echo "== starting a throwaway PostgreSQL $PG_MAJOR cluster" >&2
throwaway_cluster bash scripts/demo-report.sh
