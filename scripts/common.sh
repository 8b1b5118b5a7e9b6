# scripts/common.sh: shell functions shared by run-tests.sh, demo.sh and CI.
# Sourced, not run.  Every function is idempotent.

PG_MAJOR=15
PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
BUILD_CFLAGS="-Wall -Wextra -Wno-unused-parameter -Werror"
# the mock's default credentials: test values, not secrets
export ATLAS_MOCK_PUBLIC_KEY=${ATLAS_MOCK_PUBLIC_KEY:-mockpublic}
export ATLAS_MOCK_PRIVATE_KEY=${ATLAS_MOCK_PRIVATE_KEY:-mock-private-key-3f9a}
export ATLAS_MOCK_CLIENT_ID=${ATLAS_MOCK_CLIENT_ID:-mdb_sa_id_mock}
export ATLAS_MOCK_CLIENT_SECRET=${ATLAS_MOCK_CLIENT_SECRET:-mdb_sa_sk_mock-secret}

# run a command as root (directly, or through sudo)
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# install the Debian packages needed to build and test, if any is missing
install_build_deps() {
	local pkgs="make gcc pkg-config python3 postgresql-$PG_MAJOR \
		postgresql-server-dev-$PG_MAJOR postgresql-common \
		libcurl4-openssl-dev libjson-c-dev openssl"
	local missing=""
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
			|| missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "== installing Debian packages:$missing"
		as_root apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $missing >/dev/null
	fi
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

# forget connection settings of the caller's environment (pg_virtualenv
# sets its own), and drop a throwaway cluster that an interrupted earlier
# run left behind (pg_virtualenv refuses to overwrite it)
clear_pg_env() {
	unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSERVICE
	if pg_lsclusters -h 2>/dev/null | awk '$1 == "'"$PG_MAJOR"'" && $2 == "regress" { found = 1 } END { exit !found }'; then
		as_root pg_dropcluster "$PG_MAJOR" regress --stop >/dev/null 2>&1 || true
	fi
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
