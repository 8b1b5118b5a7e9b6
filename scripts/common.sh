# scripts/common.sh: shell functions shared by run-tests.sh, demo.sh and CI.
# Sourced, not run.  Every function is idempotent.

PG_MAJOR=15
PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
BUILD_CFLAGS="-Wall -Wextra -Wno-unused-parameter -Werror"
export ATLAS_MOCK_PORT=${ATLAS_MOCK_PORT:-18443}
export ATLAS_MOCK_URL=${ATLAS_MOCK_URL:-http://127.0.0.1:$ATLAS_MOCK_PORT}
# the mock's default credentials: test values, not secrets
export ATLAS_MOCK_PUBLIC_KEY=${ATLAS_MOCK_PUBLIC_KEY:-mockpublic}
export ATLAS_MOCK_PRIVATE_KEY=${ATLAS_MOCK_PRIVATE_KEY:-mock-private-key-3f9a}

# run a command as root (directly, or through sudo)
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# install the Debian packages needed to build and test, if any is missing
install_build_deps() {
	local pkgs="make gcc pkg-config python3 postgresql-$PG_MAJOR \
		postgresql-server-dev-$PG_MAJOR postgresql-common \
		libcurl4-openssl-dev libjson-c-dev"
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
	as_root make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
}

# start the mock Atlas server (fleet: test or demo) and stop it on exit
start_mock() {
	local fleet=$1
	local log=${TMPDIR:-/tmp}/atlas-mock-$$.log
	python3 test/mock_atlas.py --fleet "$fleet" --port "$ATLAS_MOCK_PORT" \
		--public-key "$ATLAS_MOCK_PUBLIC_KEY" \
		--private-key "$ATLAS_MOCK_PRIVATE_KEY" >"$log" 2>&1 &
	MOCK_PID=$!
	trap 'kill $MOCK_PID 2>/dev/null || true' EXIT
	if ! python3 test/mockctl.py wait; then
		cat "$log" >&2
		echo "the mock Atlas server did not start" >&2
		exit 1
	fi
}
