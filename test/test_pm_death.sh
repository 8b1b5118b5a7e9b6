#!/usr/bin/env bash
# test_pm_death.sh: a backend waiting on Atlas exits when the postmaster
# dies.  Starts its own throwaway cluster (the postmaster is killed), stalls
# a snapshot list with the mock's stall fault (STALL seconds), SIGKILLs the
# postmaster while a backend waits on it, and checks that the backend is
# gone within LIMIT seconds: a generous bound (the wait notices at once),
# far below the stall, never a timing assertion on a noisy machine.
#
# Needs ATLAS_MOCK_URL and the mock's credentials (scripts/common.sh,
# start_mock) and the extension installed for the server in PG_BINDIR
# (default: pg_config's).  Prints the time it took, then
# "pm_death: N passed, M failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

STALL=${STALL:-20}
LIMIT=${LIMIT:-5}
BINDIR=${PG_BINDIR:-$("$PG_CONFIG" --bindir)}
PORT=${PM_DEATH_PORT:-55499}
passed=0
failed=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/atlas-pmdeath.XXXXXX")
chmod 755 "$tmp"
[ "$(id -u)" -eq 0 ] && chown postgres "$tmp"
backend=""
cleanup() {
	python3 test/mockctl.py reset >/dev/null 2>&1 || true
	[ -n "$backend" ] && kill -9 "$backend" 2>/dev/null
	if [ -f "$tmp/data/postmaster.pid" ]; then
		as_owner "$BINDIR/pg_ctl" -D "$tmp/data" stop -m immediate >/dev/null 2>&1 || true
	fi
	# the other children of a dead postmaster leave on their own
	for _ in $(seq 1 50); do
		pgrep -f -- "$tmp/data" >/dev/null 2>&1 || break
		sleep 0.1
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

as_owner "$BINDIR/initdb" -D "$tmp/data" -A trust >/dev/null || exit 1
as_owner "$BINDIR/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w \
	-o "-p $PORT -k $tmp -c listen_addresses=''" start >/dev/null || exit 1
export PGHOST=$tmp PGPORT=$PORT PGUSER=$(as_owner whoami) PGDATABASE=postgres

psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || exit 1
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE EXTENSION atlas_snapshot_fdw;
CREATE SERVER pmd FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', timeout_ms '120000');
CREATE USER MAPPING FOR CURRENT_USER SERVER pmd
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE pmd_snaps (group_id text, cluster_name text, id text)
	SERVER pmd OPTIONS (resource 'cluster_snapshots');
SQL

python3 test/mockctl.py reset
python3 test/mockctl.py fault "{\"match\": \"clusters/n7/\", \"kind\": \"stall\", \"seconds\": $STALL}"
psql -X -q -c "SELECT count(*) FROM pmd_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n7'" \
	>/dev/null 2>&1 &

for _ in $(seq 1 100); do
	backend=$(psql -X -At -c "SELECT pid FROM pg_stat_activity
		WHERE wait_event_type = 'Extension' AND query LIKE '%pmd_snaps%'")
	[ -n "$backend" ] && break
	sleep 0.1
done
check_eq "a backend waits on Atlas" "$([ -n "$backend" ] && echo yes)" yes

if [ -n "$backend" ]; then
	postmaster=$(head -n 1 "$tmp/data/postmaster.pid")
	start=$(date +%s%N)
	kill -9 "$postmaster"
	gone=no
	while [ $(( ($(date +%s%N) - start) / 1000000 )) -lt $((LIMIT * 1000)) ]; do
		# gone, or a zombie (exited, not reaped yet by whoever adopted it)
		state=$(ps -o stat= -p "$backend" 2>/dev/null)
		if [ -z "$state" ] || [ "${state#Z}" != "$state" ]; then
			gone=yes
			break
		fi
		sleep 0.001
	done
	elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
	if [ "$gone" = yes ]; then
		echo "pm_death: the backend exited $elapsed_ms ms after the postmaster was killed"
	else
		echo "pm_death: the backend was still there $elapsed_ms ms after the postmaster was killed"
	fi
	check_eq "the backend exits within $LIMIT s of the postmaster's death" "$gone" yes
	[ "$gone" = yes ] && backend=""
fi
wait
echo "pm_death: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
