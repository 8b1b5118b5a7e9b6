#!/usr/bin/env bash
# test/valgrind/run.sh: the pg_regress suite (all but the timing-bound
# cancel test, the memory test, which measures the backend's peak RSS, and
# the idle_wait test, which measures its CPU time)
# once more with every backend under valgrind memcheck, the library in
# shared_preload_libraries (so that the instance-wide segment's paths,
# which PostgreSQL 17 and 18 take without preloading, run too), and a
# check of its reports: any error or definite leak whose stack passes
# through atlas_snapshot_fdw fails the run.  Reports from PostgreSQL itself
# and the dynamic loader (which Debian's server, built without valgrind
# support, produces) are counted but not judged.  JIT is off: loading
# LLVM under valgrind only adds loader reports (from inside our executor
# callbacks, so they would count as ours).  Ours are the reports that
# test/valgrind/ours.sh picks (every source file of the tree), whose own
# test (test_filter.sh) runs first.  Needs ATLAS_MOCK_URL and
# the mock's credentials (scripts/common.sh, start_mock).  Installs
# valgrind if missing.  Prints "valgrind: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/common.sh
bash test/valgrind/test_filter.sh || exit 1

dpkg-query -W -f='${Status}' valgrind 2>/dev/null | grep -q "ok installed" ||
	{ as_root apt-get update -qq; as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends valgrind >/dev/null; }

work=$(mktemp -d /tmp/atlas-valgrind.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
bin=/usr/lib/postgresql/$PG_MAJOR/bin
cleanup() {
	[ -f "$work/data/postmaster.pid" ] && kill -INT "$(head -1 "$work/data/postmaster.pid")" 2>/dev/null
	for i in $(seq 1 50); do [ -f "$work/data/postmaster.pid" ] || break; sleep 0.2; done
	rm -rf "$work"
}
trap cleanup EXIT

# the cluster belongs to postgres when run as root, to the caller otherwise
[ "$(id -u)" -eq 0 ] && chown postgres "$work"
as_owner "$bin/initdb" -D "$work/data" -U postgres -A trust >/dev/null
cat >"$work/start.sh" <<START
exec valgrind --quiet --trace-children=yes --error-limit=no --num-callers=30 \
	--leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
	--log-file=$work/vg.%p \
	$bin/postgres -D $work/data -p $port -k $work -c listen_addresses= \
	-c max_connections=20 -c shared_buffers=16MB -c jit=off \
	-c shared_preload_libraries=atlas_snapshot_fdw >$work/server.log 2>&1
START
as_owner setsid sh "$work/start.sh" </dev/null >/dev/null 2>&1 &
for i in $(seq 1 300); do
	psql -X -h "$work" -p "$port" -U postgres -Atc "SELECT 1" postgres >/dev/null 2>&1 && break
	sleep 0.5
done

tests=$(sed -n 's/^REGRESS = //p' Makefile | sed 's/\bcancel\b//; s/\bmemory\b//; s/\bidle_wait\b//')
status=0
# from a copy of the tree: the suite may run elsewhere at the same time
mkdir "$work/src" && copy_source "$work/src"
make -s -C "$work/src" installcheck PG_CONFIG="$PG_CONFIG" PGHOST="$work" PGPORT="$port" \
	PGUSER=postgres REGRESS="$tests" >"$work/regress.log" 2>&1 || status=$?
passed=$(grep -c ' \.\.\. ok' "$work/regress.log" || true)
failed=$(grep -c ' \.\.\. FAILED' "$work/regress.log" || true)
[ "$status" -ne 0 ] && { tail -20 "$work/regress.log"; [ -f "$work/src/regression.diffs" ] &&
	head -60 "$work/src/regression.diffs"; }

# stop the server so that every backend's leak report is written
kill -INT "$(head -1 "$work/data/postmaster.pid")" 2>/dev/null
for i in $(seq 1 100); do [ -f "$work/data/postmaster.pid" ] || break; sleep 0.3; done

# the reports that are ours (ours.sh: every source file of the tree)
ours=$(bash test/valgrind/ours.sh "$work"/vg.*)
others=$(cat "$work"/vg.* 2>/dev/null | grep -c '^==[0-9]*== [A-Z]' || true)
if [ -n "$ours" ]; then
	echo "$ours" | head -80
	failed=$((failed + 1))
fi
echo "valgrind: $passed passed, $failed failed ($others reports outside atlas_snapshot_fdw ignored)"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
