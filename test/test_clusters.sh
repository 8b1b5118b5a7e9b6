#!/usr/bin/env bash
# test_clusters.sh: ./demo.sh and ./run-tests.sh leave alone every cluster
# they did not create, 15/regress included (the name pg_virtualenv gives
# its throwaway clusters, which they once used: so the name a cluster left
# by a killed run, or one somebody keeps, may have).
#
# Creates a real cluster 15/regress of the machine (pg_createcluster) with
# a table holding one row, unless one exists already: that one is only
# watched (its pg_lsclusters line), never written to, stopped or dropped.
# Then runs ./demo.sh whole (against the mock) and run-tests.sh's cluster
# step (clear_pg_env, then throwaway_cluster with run-tests.sh's options),
# whose command checks that it runs in a cluster of its own.  Checks that
# 15/regress is still there, still running, with its row, and drops it only
# if this test created it (also when the test is interrupted).
#
# Needs root or sudo (pg_createcluster) and the packages of
# install_build_deps.  Must not run while another run uses the name
# 15/regress the old way (run-tests.sh runs it under the machine's test
# lock).  Prints "clusters: N passed, M failed"; exits non-zero on any
# failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

guard_created=
cleanup() {
	if [ -n "$guard_created" ]; then
		as_root pg_dropcluster --stop "$PG_MAJOR" regress >/dev/null 2>&1 ||
			echo "test_clusters.sh: could not drop the cluster $PG_MAJOR/regress it created" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the machine's clusters, whatever PG_CLUSTER_CONF_ROOT the caller has
clusters() { env -u PG_CLUSTER_CONF_ROOT pg_lsclusters -h 2>/dev/null; }
regress_line() { clusters | awk -v v="$PG_MAJOR" '$1 == v && $2 == "regress"'; }
guard_psql() {
	as_root env -u PG_CLUSTER_CONF_ROOT runuser -u postgres -- \
		psql -X -q -A -t --cluster "$PG_MAJOR/regress" -d postgres "$@"
}

before=$(regress_line)
if [ -z "$before" ]; then
	echo "== creating a cluster $PG_MAJOR/regress with a table and a row"
	as_root env -u PG_CLUSTER_CONF_ROOT pg_createcluster --start "$PG_MAJOR" regress >/dev/null || {
		echo "test_clusters.sh: could not create the cluster $PG_MAJOR/regress" >&2
		exit 1
	}
	guard_created=1
	guard_psql -v ON_ERROR_STOP=1 -c "CREATE TABLE kept (note text)" \
		-c "INSERT INTO kept VALUES ('still here')" >/dev/null || exit 1
	before=$(regress_line)
else
	echo "== a cluster $PG_MAJOR/regress exists already: watching it, nothing more"
fi
check_eq "15/regress is running before" "$(echo "$before" | awk '{ print $4 }')" online

echo "== ./demo.sh"
demo_out=$(mktemp)
env -u ATLAS_CLIENT_ID -u ATLAS_CLIENT_SECRET -u ATLAS_PUBLIC_KEY -u ATLAS_PRIVATE_KEY \
	./demo.sh >"$demo_out" 2>&1
demo_status=$?
check_eq "./demo.sh exit status" "$demo_status" 0
check_eq "./demo.sh printed its report" "$(grep -c 'Backup status per cluster' "$demo_out")" 1
[ "$demo_status" -eq 0 ] || tail -30 "$demo_out" >&2
rm -f "$demo_out"
check_eq "15/regress after ./demo.sh" "$(regress_line)" "$before"

echo "== run-tests.sh's cluster step"
inner=$(
	clear_pg_env
	throwaway_cluster -o logging_collector=on bash -c '
		echo "data_directory=$(psql -X -At -c "SHOW data_directory")"
		echo "kept=$(psql -X -At -c "SELECT count(*) FROM kept" 2>/dev/null || echo none)"' 2>&1
)
check_eq "the throwaway cluster's data is private" \
	"$(echo "$inner" | sed -n 's/^data_directory=//p' | grep -c '^/var/lib/postgresql/')" 0
check_eq "the throwaway cluster ran the command" "$(echo "$inner" | grep -c '^data_directory=/')" 1
check_eq "the throwaway cluster is not 15/regress" "$(echo "$inner" | sed -n 's/^kept=//p')" none
check_eq "15/regress after run-tests.sh's cluster step" "$(regress_line)" "$before"

if [ -n "$guard_created" ]; then
	check_eq "15/regress's row" "$(guard_psql -c "SELECT note FROM kept" 2>&1)" "still here"
fi

echo "clusters: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
