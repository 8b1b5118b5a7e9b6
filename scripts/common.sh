# scripts/common.sh: shell functions shared by run-tests.sh, demo.sh and CI.
# Sourced, not run.  Every function is idempotent.

PG_MAJOR=15
PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
BUILD_CFLAGS="-Wall -Wextra -Wno-unused-parameter -Werror"
# Debian's python3 (install_build_deps) runs the mock and its control
# tool.  The tests call that tool hundreds of times: a version manager's
# shim earlier in PATH (pyenv's is a chain of shell scripts) costs ten
# times the interpreter's own start-up on each call.
export PATH="/usr/bin:$PATH"
# the mock's default credentials: test values, not secrets
export ATLAS_MOCK_PUBLIC_KEY=${ATLAS_MOCK_PUBLIC_KEY:-mockpublic}
export ATLAS_MOCK_PRIVATE_KEY=${ATLAS_MOCK_PRIVATE_KEY:-mock-private-key-3f9a}
export ATLAS_MOCK_CLIENT_ID=${ATLAS_MOCK_CLIENT_ID:-mdb_sa_id_mock}
export ATLAS_MOCK_CLIENT_SECRET=${ATLAS_MOCK_CLIENT_SECRET:-mdb_sa_sk_mock-secret}

# run a command as root (directly, or through sudo)
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# install_debs PACKAGE...: install those of the Debian packages that are
# missing, from the mirrors of the machine's apt sources (apt-get update
# first, only if one is missing)
install_debs() {
	local missing="" p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
			|| missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "== installing Debian packages:$missing"
		as_root apt-get update -qq
		# shellcheck disable=SC2086
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $missing >/dev/null
	fi
}

# install the Debian packages needed to build the extension, run the mock
# and make throwaway clusters (what ./demo.sh needs)
install_build_deps() {
	install_debs make gcc pkg-config python3 "postgresql-$PG_MAJOR" \
		"postgresql-server-dev-$PG_MAJOR" postgresql-common \
		libcurl4-openssl-dev libjson-c-dev openssl
}

# install the further Debian packages that ./run-tests.sh's tests use:
# curl (the proxy test's control), procps (ps, pgrep), pg_cron (the
# scheduling recipes), valgrind, clang and its sanitizer runtimes (the
# fuzzer), and npm (scripts/pg-matrix.sh fetches the PostgreSQL 17 and 18
# servers with it) unless an npm command is there already (a nodejs
# package from elsewhere may ship its own, which Debian's would conflict
# with)
install_test_deps() {
	install_debs curl procps "postgresql-$PG_MAJOR-cron" valgrind \
		clang libclang-rt-14-dev
	command -v npm >/dev/null || install_debs npm
}

build_and_install() {
	echo "== building with $BUILD_CFLAGS"
	make -s PG_CONFIG="$PG_CONFIG" PG_CFLAGS="$BUILD_CFLAGS"
	# scripts of a version this tree does not ship (left by another
	# checkout's install) would change the upgrade paths the tests see
	as_root sh -c 'rm -f "$1"/extension/atlas_snapshot_fdw*' sh \
		"$($PG_CONFIG --sharedir)"
	as_root make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
}

# copy_source DIR: a copy of the source tree (the work tree as it is, less
# .git, build products and test output) in DIR, which must exist.  A test
# run from the copy has a results/ directory and relative paths of its
# own, so that runs at the same time never share a file.
copy_source() {
	tar -cf - --exclude=.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
		--exclude=./results --exclude=./log --exclude=./bench/out \
		--exclude=./regression.diffs --exclude=./regression.out . |
		tar -xf - -C "$1"
}

# start the mock Atlas server (fleet: test, demo or wide; further arguments
# go to test/mock_atlas.py, e.g. --latency-ms 50) on a free loopback port,
# export ATLAS_MOCK_URL, and stop the server when the calling shell exits
start_mock() {
	local fleet=$1 url="" i
	shift
	MOCK_LOG=$(mktemp "${TMPDIR:-/tmp}/atlas-mock.XXXXXX")
	python3 test/mock_atlas.py --fleet "$fleet" --host 127.0.0.1 --port 0 \
		--public-key "$ATLAS_MOCK_PUBLIC_KEY" \
		--private-key "$ATLAS_MOCK_PRIVATE_KEY" \
		--client-id "$ATLAS_MOCK_CLIENT_ID" \
		--client-secret "$ATLAS_MOCK_CLIENT_SECRET" "$@" >"$MOCK_LOG" 2>&1 &
	MOCK_PID=$!
	trap 'kill $MOCK_PID 2>/dev/null || true; rm -f "$MOCK_LOG"' EXIT
	for i in $(seq 1 100); do
		url=$(sed -n 's/^mock atlas listening on //p' "$MOCK_LOG")
		[ -n "$url" ] && break
		kill -0 "$MOCK_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$url" ]; then
		cat "$MOCK_LOG" >&2
		echo "the mock Atlas server did not start" >&2
		exit 1
	fi
	export ATLAS_MOCK_URL=$url
}

# forget connection settings of the caller's environment (throwaway_cluster
# sets its own).  Touches no cluster: the throwaway clusters are private
# (throwaway_cluster), so nothing left by an earlier run is in the way.
clear_pg_env() {
	unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSERVICE
}

# throwaway_cluster [-o GUC=VALUE]... COMMAND...: run COMMAND with the PG*
# environment set (PGHOST, PGPORT, PGUSER=postgres, PGDATABASE=postgres)
# for a new PostgreSQL $PG_MAJOR cluster of its own, then stop the cluster
# and remove it.  The cluster (initdb and pg_ctl, as as_owner says) lives
# in one temporary directory: its data, its server log and its Unix
# socket, with no TCP port, so it is none of the machine's clusters:
# pg_lsclusters does not list it, nothing in /etc/postgresql or
# /var/run/postgresql is read or written, and no cluster of the machine is
# used, stopped or dropped, whatever its name (15/regress included).
# (pg_virtualenv cannot promise that: its throwaway cluster is always
# named regress, and pg_ctlcluster removes /var/run/postgresql/15-regress.pid,
# the machine's 15/regress's, whenever it stops one of that name, -t or
# not.)  Two runs at the same time never meet.  -o sets a server setting
# (postgresql.conf).  On failure, prints the end of the server's logs.
# Exits with COMMAND's status.
throwaway_cluster() (
	gucs=()
	while [ "${1:-}" = -o ]; do
		gucs+=("$2")
		shift 2
	done
	bindir=$("$PG_CONFIG" --bindir)
	dir=$(mktemp -d "${TMPDIR:-/tmp}/atlas-cluster.XXXXXX") || exit 1
	# however this subshell ends (an interrupt included), the cluster goes
	trap 'as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -s stop >/dev/null 2>&1; rm -rf "$dir"' EXIT
	trap 'exit 130' INT TERM
	chmod 755 "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
	if ! as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync \
		>"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		exit 1
	fi
	{
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$dir'"
		echo "fsync = off"
		for g in "${gucs[@]}"; do
			printf "%s = '%s'\n" "${g%%=*}" "${g#*=}"
		done
	} >>"$dir/data/postgresql.conf"
	if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s start; then
		cat "$dir/server.log" >&2
		exit 1
	fi
	status=0
	(
		export PGHOST=$dir PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
		unset PGPASSWORD PGSERVICE PGSERVICEFILE PGHOSTADDR
		"$@"
	) || status=$?
	if [ "$status" -ne 0 ]; then
		for log in "$dir/server.log" "$dir"/data/log/*; do
			[ -f "$log" ] || continue
			echo "*** $log (last 100 lines) ***"
			tail -n 100 "$log"
		done
	fi
	exit "$status"
)

# as_owner COMMAND...: run a server command as the owner of a private
# cluster: the user postgres when run as root (initdb and postgres refuse
# root), the caller otherwise (a user with sudo owns its own clusters, as
# under pg_virtualenv, and needs no root for them)
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# bookkeeping of the shell tests: check_eq WHAT GOT WANT counts a pass, or
# prints the difference and counts a failure (in $passed and $failed)
passed=0
failed=0
check_eq() {
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1))
	else
		echo "FAIL: $1: expected '$3', got '$2'" >&2
		failed=$((failed + 1))
	fi
}
