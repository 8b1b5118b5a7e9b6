#!/usr/bin/env bash
# test_shared_tokens.sh: backends of one instance share one OAuth token per
# server and service account (oauth.c, shmem.c).  Starts its own throwaway
# cluster of the server in PG_BINDIR (default: pg_config's): on PostgreSQL
# 15 and 16 with shared_preload_libraries=atlas_snapshot_fdw, on 17 and
# later without it (the DSM registry); PRELOAD=1 or PRELOAD=0 says which
# instead, and SHARED=0 runs the baseline of a server without the segment
# (15 or 16 without preloading: every backend fetches its own token).
#
#  1. BACKENDS (20) backends started together against one service account
#     make exactly one token request (the token endpoint answers after a
#     second, so all of them arrive while it is being fetched);
#     when that token is revoked, its first 401 renews it for all of
#     them: one token request again;
#  2. a backend waiting for Atlas (a stalled answer) shows wait event
#     AtlasTransfer in pg_stat_activity on 17 and later ("Extension"
#     before), and one pausing for a 429's Retry-After AtlasRateLimit;
#  3. a backend that waits for another's token request shows AtlasToken
#     (17+), and when the backend holding the fetch mark is terminated
#     (pg_terminate_backend) the waiting one takes over and gets its rows;
#  4. a fetch mark whose backend hangs (SIGSTOP) is void after its
#     deadline (the token request's own bounds: timeout_ms 3000, no
#     retries, and a second), and the waiting backend takes over.
# Nothing is timed: every wait for a state has a generous bound, and what
# is checked is the outcome (rows, the mock's count of token requests, the
# wait event seen).
#
# Needs ATLAS_MOCK_URL and the mock's credentials (scripts/common.sh,
# start_mock), and the extension installed for that server.  Prints
# "shared_tokens: N passed, M failed" (and the token requests of phase 1);
# exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

BACKENDS=${BACKENDS:-20}
BINDIR=${PG_BINDIR:-$("$PG_CONFIG" --bindir)}
PORT=${SHARED_TOKENS_PORT:-55497}
MAJOR=$("$BINDIR/postgres" --version | sed -n 's/^[^0-9]*\([0-9][0-9]*\).*/\1/p')
if [ -z "${PRELOAD:-}" ]; then
	if [ "$MAJOR" -ge 17 ]; then PRELOAD=0; else PRELOAD=1; fi
fi
SHARED=${SHARED:-1}
passed=0
failed=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/atlas-shtok.XXXXXX")
chmod 755 "$tmp"
[ "$(id -u)" -eq 0 ] && chown postgres "$tmp"
stopped=""
cleanup() {
	python3 test/mockctl.py reset >/dev/null 2>&1 || true
	[ -n "$stopped" ] && kill -CONT "$stopped" 2>/dev/null
	if [ -f "$tmp/data/postmaster.pid" ]; then
		as_owner "$BINDIR/pg_ctl" -D "$tmp/data" stop -m immediate >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

preload_opt=""
[ "$PRELOAD" = 1 ] && preload_opt="-c shared_preload_libraries=atlas_snapshot_fdw"
as_owner "$BINDIR/initdb" -D "$tmp/data" -A trust >/dev/null || exit 1
as_owner "$BINDIR/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w \
	-o "-p $PORT -k $tmp -c listen_addresses='' -c max_connections=60 $preload_opt" \
	start >/dev/null || { cat "$tmp/server.log"; exit 1; }
export PGHOST=$tmp PGPORT=$PORT PGUSER=$(as_owner whoami) PGDATABASE=postgres
echo "shared_tokens: PostgreSQL $MAJOR, preload=$PRELOAD, shared=$SHARED, $BACKENDS backends"

psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || exit 1
\getenv mock_url ATLAS_MOCK_URL
\getenv client_id ATLAS_MOCK_CLIENT_ID
\getenv client_secret ATLAS_MOCK_CLIENT_SECRET
CREATE EXTENSION atlas_snapshot_fdw;
CREATE SERVER tok1 FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_concurrency '1');
CREATE SERVER tok2 FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_concurrency '1');
CREATE SERVER tok3 FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', max_concurrency '1', timeout_ms '3000',
			 max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER tok1
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE USER MAPPING FOR CURRENT_USER SERVER tok2
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE USER MAPPING FOR CURRENT_USER SERVER tok3
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE FOREIGN TABLE t1 (group_id text, cluster_name text, id text)
	SERVER tok1 OPTIONS (resource 'cluster_snapshots');
CREATE FOREIGN TABLE t2 (group_id text, cluster_name text, id text)
	SERVER tok2 OPTIONS (resource 'cluster_snapshots');
CREATE FOREIGN TABLE t3 (group_id text, cluster_name text, id text)
	SERVER tok3 OPTIONS (resource 'cluster_snapshots');
SQL

# the query of every backend, on table $1
query() {
	echo "SELECT count(*) FROM $1 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('prod-1', 'n2')"
}
token_requests() {
	python3 test/mockctl.py stats --key token_requests | sed 's/.*: //'
}
# wait_for_backend TABLE [WAIT_EVENT]: the pid of the backend whose query
# reads TABLE once it waits in an extension wait (of that name, if given),
# or nothing after 30 s
wait_for_backend() {
	local pid="" cond="wait_event_type = 'Extension'"
	[ -n "${2:-}" ] && cond="$cond AND wait_event = '$2'"
	for _ in $(seq 1 300); do
		pid=$(psql -X -At -c "SELECT pid FROM pg_stat_activity
			WHERE $cond AND query LIKE '%FROM $1 %' AND pid <> pg_backend_pid()")
		[ -n "$pid" ] && break
		sleep 0.1
	done
	echo "$pid"
}
# wait_gone PID: wait (30 s at most) until a background job has exited
wait_job() {
	for _ in $(seq 1 300); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# -- 1. many backends at once, one token request
python3 test/mockctl.py revoke-tokens
python3 test/mockctl.py reset
python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "token", "expires_in": 3600, "wait_ms": 1000}'
pids=()
for i in $(seq 1 "$BACKENDS"); do
	psql -X -At -c "$(query t1)" >"$tmp/out.$i" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
n=$(token_requests)
want=$(psql -X -At -c "$(query t1)")
ok=0
for i in $(seq 1 "$BACKENDS"); do
	[ "$(cat "$tmp/out.$i")" = "$want" ] && ok=$((ok + 1))
done
check_eq "backends that read their rows" "$ok" "$BACKENDS"
check_eq "rows read" "$([ "${want:-0}" -gt 0 ] 2>/dev/null && echo some)" some
echo "shared_tokens: $BACKENDS backends started together made $n token request(s)"
if [ "$SHARED" = 1 ]; then
	check_eq "token requests of $BACKENDS backends" "$n" 1
else
	check_eq "token requests of $BACKENDS backends (no sharing)" "$n" "$BACKENDS"
fi
# the later query (its own backend) copies the shared token, or without
# sharing fetches one of its own
if [ "$SHARED" = 1 ]; then
	check_eq "token requests after a later query" "$(token_requests)" "$n"
else
	check_eq "token requests after a later query (no sharing)" "$(token_requests)" "$((n + 1))"
fi

# -- 1b. the shared token is revoked: its first 401 renews it for everyone
python3 test/mockctl.py revoke-tokens
python3 test/mockctl.py reset
pids=()
for i in $(seq 1 "$BACKENDS"); do
	psql -X -At -c "$(query t1)" >"$tmp/out.$i" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
ok=0
for i in $(seq 1 "$BACKENDS"); do
	[ "$(cat "$tmp/out.$i")" = "$want" ] && ok=$((ok + 1))
done
check_eq "backends that read their rows after the revocation" "$ok" "$BACKENDS"
if [ "$SHARED" = 1 ]; then
	check_eq "token requests of $BACKENDS backends after the revocation" "$(token_requests)" 1
else
	check_eq "token requests of $BACKENDS backends after the revocation (no sharing)" "$(token_requests)" "$BACKENDS"
fi

# -- 2. the wait event of a backend waiting for Atlas
if [ "$MAJOR" -ge 17 ]; then transfer=AtlasTransfer; else transfer=Extension; fi
python3 test/mockctl.py reset
python3 test/mockctl.py fault '{"match": "clusters/n7/", "kind": "stall", "seconds": 60}'
psql -X -At -c "SELECT count(*) FROM t1 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n7'" \
	>/dev/null 2>&1 &
job=$!
pid=$(wait_for_backend t1)
seen=""
[ -n "$pid" ] && seen=$(psql -X -At -c "SELECT wait_event FROM pg_stat_activity WHERE pid = $pid")
check_eq "wait event of a stalled transfer" "$seen" "$transfer"
[ -n "$pid" ] && psql -X -Atq -c "SELECT pg_cancel_backend($pid)" >/dev/null
wait_job "$job"
check_eq "the stalled query is cancelled" "$?" 0

# ... and of a backend pausing for a 429's Retry-After
if [ "$MAJOR" -ge 17 ]; then paused=AtlasRateLimit; else paused=Extension; fi
python3 test/mockctl.py reset
python3 test/mockctl.py fault '{"match": "clusters/n7/", "kind": "status", "status": 429, "retry_after": 30}'
psql -X -At -c "SELECT count(*) FROM t1 WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n7'" \
	>/dev/null 2>&1 &
job=$!
pid=$(wait_for_backend t1 "$paused")
check_eq "wait event of a pause for Retry-After" "$([ -n "$pid" ] && echo "$paused")" "$paused"
[ -n "$pid" ] && psql -X -Atq -c "SELECT pg_cancel_backend($pid)" >/dev/null
wait_job "$job"
check_eq "the paused query is cancelled" "$?" 0

if [ "$SHARED" = 1 ]; then
	if [ "$MAJOR" -ge 17 ]; then token_event=AtlasToken; else token_event=""; fi

	# -- 3. the backend holding the fetch mark is terminated
	python3 test/mockctl.py reset
	python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "stall", "seconds": 60}'
	psql -X -At -c "$(query t2)" >"$tmp/a.out" 2>&1 &
	job_a=$!
	pid_a=$(wait_for_backend t2)
	check_eq "a backend fetches the token" "$([ -n "$pid_a" ] && echo yes)" yes
	psql -X -At -c "$(query t2)" >"$tmp/b.out" 2>&1 &
	job_b=$!
	pid_b=""
	for _ in $(seq 1 300); do
		pid_b=$(psql -X -At -c "SELECT pid FROM pg_stat_activity
			WHERE wait_event_type = 'Extension' AND query LIKE '%FROM t2 %'
			  AND pid NOT IN (pg_backend_pid(), ${pid_a:-0})
			  ${token_event:+AND wait_event = '$token_event'}")
		[ -n "$pid_b" ] && break
		sleep 0.1
	done
	check_eq "another backend waits for its token${token_event:+ ($token_event)}" \
		"$([ -n "$pid_b" ] && echo yes)" yes
	check_eq "token requests while it waits" "$(token_requests)" 1
	[ -n "$pid_a" ] && psql -X -Atq -c "SELECT pg_terminate_backend($pid_a)" >/dev/null
	wait_job "$job_b"
	check_eq "the waiting backend finishes" "$?" 0
	check_eq "the waiting backend's rows" "$(cat "$tmp/b.out")" "$want"
	check_eq "token requests: the terminated one's and the next" "$(token_requests)" 2
	wait_job "$job_a"

	# -- 4. the backend holding the fetch mark hangs: the mark expires
	python3 test/mockctl.py reset
	python3 test/mockctl.py fault '{"match": "oauth/token", "kind": "stall", "seconds": 60}'
	psql -X -At -c "$(query t3)" >"$tmp/c.out" 2>&1 &
	job_c=$!
	pid_c=$(wait_for_backend t3)
	check_eq "a backend fetches the token (to hang)" "$([ -n "$pid_c" ] && echo yes)" yes
	if [ -n "$pid_c" ]; then
		kill -STOP "$pid_c" && stopped=$pid_c
	fi
	psql -X -At -c "$(query t3)" >"$tmp/d.out" 2>&1 &
	job_d=$!
	wait_job "$job_d"
	check_eq "the other backend finishes after the mark's deadline" "$?" 0
	check_eq "the other backend's rows" "$(cat "$tmp/d.out")" "$want"
	check_eq "token requests: the hung one's and the next" "$(token_requests)" 2
	if [ -n "$stopped" ]; then
		kill -CONT "$stopped"
		stopped=""
		# it may have ended already (its token request timed out)
		psql -X -Atq -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
			WHERE pid = $pid_c" >/dev/null
	fi
	wait_job "$job_c"
fi

echo "shared_tokens: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
