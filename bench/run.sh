#!/usr/bin/env bash
# run.sh: the atlas_snapshot_fdw benchmark (nginx-served variant).  Not a
# test: it prints a table (see README.md next to this file).
#
#  * installs what it needs from Debian's packages if missing (nginx-light,
#    i.e. nginx + libnginx-mod-http-echo; postgresql-plpython3-15; curl;
#    libcurl4-openssl-dev; libjson-c-dev; gcc; make; pkg-config; python3)
#  * expects the extension to be built and installed already (it does not
#    run make; BENCH_BUILD=1 runs `make && make install` in the repository)
#  * generates v2-shaped snapshot pages into a temporary directory and serves
#    them with nginx on 127.0.0.1 only: one port without added latency, one
#    that sleeps BENCH_DELAY_MS (50) before each answer (echo_sleep +
#    echo_exec), and the same two answering 401 + a Digest challenge to any
#    request without an Authorization header, like Atlas
#  * compiles c_client.c and runs bench.py in a throwaway cluster
#    (throwaway_cluster of scripts/common.sh; as user postgres when run as
#    root)
#
# Environment: BENCH_REPS (3), BENCH_DELAY_MS (50), BENCH_ONLY (a comma list
# of the scenarios to run: 1,2,1d,2d,3; default all), BENCH_KEEP=1 keeps the
# temporary directory (pages, nginx.conf, access.log), BENCH_BUILD=1 (see
# above).  About 8 minutes on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
PG_MAJOR=15
PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
export BENCH_REPS=${BENCH_REPS:-3}
export BENCH_DELAY_MS=${BENCH_DELAY_MS:-50}
PY=/usr/bin/python3

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# --- 1. packages ---------------------------------------------------------------
missing=()
for p in postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-common postgresql-plpython3-$PG_MAJOR curl \
	libcurl4-openssl-dev libjson-c-dev gcc make pkg-config python3; do
	have_pkg "$p" || missing+=("$p")
done
# nginx with the echo module (echo_sleep): nginx-light pulls in both
if ! { have_pkg nginx || have_pkg nginx-light; } || ! have_pkg libnginx-mod-http-echo; then
	missing+=(nginx-light)
fi
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	as_root apt-get update -qq
	# a fresh nginx package would start the system service on port 80: keep it down
	restore_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
		as_root chmod 755 /usr/sbin/policy-rc.d
		restore_policy=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	if [ -n "$restore_policy" ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
fi
ECHO_MODULE=/usr/lib/nginx/modules/ngx_http_echo_module.so
[ -f "$ECHO_MODULE" ] || die "nginx echo module not found at $ECHO_MODULE"

# --- 2. the extension ----------------------------------------------------------
if [ "${BENCH_BUILD:-0}" = 1 ]; then
	log "building and installing the extension (BENCH_BUILD=1)"
	make -C "$repo" PG_CONFIG="$PG_CONFIG" >/dev/null
	as_root make -C "$repo" PG_CONFIG="$PG_CONFIG" install >/dev/null
fi
[ -f "$($PG_CONFIG --sharedir)/extension/atlas_snapshot_fdw.control" ] &&
	[ -f "$($PG_CONFIG --pkglibdir)/atlas_snapshot_fdw.so" ] ||
	die "atlas_snapshot_fdw is not installed: run 'make && sudo make install' (or BENCH_BUILD=1 $0)"

# --- 3. pages ------------------------------------------------------------------
work=$(mktemp -d /tmp/atlas-bench.XXXXXX)
chmod 755 "$work"
NGINX_PID=
cleanup() {
	if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
		kill "$NGINX_PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

G1=32b6e34b3d91647abb20e7b8
specs=("$G1:tp-200k:200000" "$G1:mem-10k:10000" "$G1:mem-1m:1000000" "$G1:warm:10")
for g in 5e2211c17a3e5a48f5497de3 6b8cd3c1e8f0b0a1d2c3d4e5 7c9de4d2f9a1c1b2e3d4f5a6 8daef5e3aab2d2c3f4e5a6b7; do
	for c in orders billing catalog sessions audit; do specs+=("$g:$c:2500"); done
done
log "generating pages in $work/pages (1.26 million snapshots)"
t0=$(date +%s)
"$PY" "$here/gen_pages.py" "$work/pages" "${specs[@]}"
log "pages generated in $(( $(date +%s) - t0 )) s, $(du -sh "$work/pages" | cut -f1)"
chmod -R a+rX "$work"
install -m 755 "$here/copy_fetch.sh" "$work/copy_fetch.sh"

# --- 4. nginx ------------------------------------------------------------------
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P_FAST=$(free_port) P_SLOW=$(free_port) P_FASTDIG=$(free_port) P_SLOWDIG=$(free_port)
delay_s=$(awk -v ms="$BENCH_DELAY_MS" 'BEGIN { printf "%.3f", ms / 1000 }')
mkdir -p "$work/nginx"

# server_block PORT DELAY CHALLENGE
server_block() {
	local port=$1 delay=$2 challenge=$3
	cat <<EOF
	server {
		listen 127.0.0.1:$port;
		location ~ "^/api/atlas/v2/groups/(?<g>[0-9a-f]{24})/clusters/(?<c>[a-zA-Z0-9][a-zA-Z0-9-]*)/backup/snapshots\$" {
			if (\$page = invalid) { return 400; }
EOF
	if [ "$challenge" = 1 ]; then
		cat <<'EOF'
			# like Atlas: 401 with a Digest challenge until the request carries credentials
			# (not verified: this only costs the client the round trips a challenge costs)
			if ($http_authorization = "") { rewrite ^ /__challenge last; }
EOF
	fi
	if [ "$delay" = 0 ]; then
		echo "			try_files /\$g/\$c/\$page.json /\$g/\$c/past.json =404;"
	else
		echo "			echo_sleep $delay;"
		echo "			echo_exec @page;"
	fi
	cat <<EOF
		}
		location @page { try_files /\$g/\$c/\$page.json /\$g/\$c/past.json =404; }
		location = /__challenge {
			internal;
			default_type application/json;
			add_header WWW-Authenticate 'Digest realm="MMS Public API", domain="", nonce="bench0nonce0static", algorithm=MD5, qop="auth", stale=false' always;
EOF
	[ "$delay" = 0 ] || echo "			echo_sleep $delay;"
	cat <<'EOF'
			echo_status 401;
			echo '{"detail":"You are not authorized for this resource.","error":401,"errorCode":"NOT_ORG_GROUP_CREATOR","parameters":[],"reason":"Unauthorized"}';
		}
		location / { return 404; }
	}
EOF
}

{
	cat <<EOF
load_module $ECHO_MODULE;
worker_processes 2;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
	log_format bench '\$server_port \$status \$request_uri \$msec \$request_time \$connection';
	access_log $work/nginx/access.log bench;
	root $work/pages;
	default_type application/vnd.atlas.2023-01-01+json;
	types { }
	charset utf-8;
	charset_types application/vnd.atlas.2023-01-01+json;
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_requests 1000000;
	keepalive_timeout 120s;
	client_body_temp_path $work/nginx/body;
	proxy_temp_path $work/nginx/proxy;
	fastcgi_temp_path $work/nginx/fastcgi;
	uwsgi_temp_path $work/nginx/uwsgi;
	scgi_temp_path $work/nginx/scgi;
	# pageNum -> file name; anything but digits (a path, ..) serves nothing
	map \$arg_pageNum \$page { "~^(?<pn>[0-9]{1,6})\$" \$pn; "" 1; default invalid; }
EOF
	server_block "$P_FAST" 0 0
	server_block "$P_SLOW" "$delay_s" 0
	server_block "$P_FASTDIG" 0 1
	server_block "$P_SLOWDIG" "$delay_s" 1
	echo "}"
} >"$work/nginx/nginx.conf"
nginx -t -q -e "$work/nginx/error.log" -p "$work/nginx" -c "$work/nginx/nginx.conf" ||
	die "nginx configuration rejected (see $work/nginx/nginx.conf)"
nginx -e "$work/nginx/error.log" -p "$work/nginx" -c "$work/nginx/nginx.conf"
for _ in $(seq 50); do [ -s "$work/nginx/nginx.pid" ] && break; sleep 0.1; done
NGINX_PID=$(cat "$work/nginx/nginx.pid")

export URL_FAST=http://127.0.0.1:$P_FAST URL_SLOW=http://127.0.0.1:$P_SLOW
export URL_FASTDIG=http://127.0.0.1:$P_FASTDIG URL_SLOWDIG=http://127.0.0.1:$P_SLOWDIG
export PAGES_DIR=$work/pages ACCESS_LOG=$work/nginx/access.log
export C_CLIENT=$work/c_client COPY_FETCH=$work/copy_fetch.sh NGINX_PID

# --- 5. sanity checks of the mock server (bounded, 127.0.0.1 only) --------------
snap() { printf '%s/api/atlas/v2/groups/%s/clusters/%s/backup/snapshots?pageNum=%s&itemsPerPage=500' "$1" "$2" "$3" "$4"; }
for _ in $(seq 50); do curl -s -o /dev/null "$(snap "$URL_FAST" $G1 warm 1)" && break; sleep 0.1; done
check() {   # check WHAT EXPECTED_STATUS CURL_ARGS...
	local what=$1 want=$2 got
	shift 2
	got=$(curl -s -o /dev/null -w '%{http_code}' "$@") || true
	[ "$got" = "$want" ] || die "sanity check failed: $what answered $got, expected $want"
}
# the FDW always sends Digest credentials; a server that asks for none answers 200 at once
check "no-auth server, curl --digest" 200 --digest -u x:y "$(snap "$URL_FAST" $G1 tp-200k 1)"
check "no-auth server, page past the end" 200 "$(snap "$URL_FAST" $G1 tp-200k 401)"
check "pageNum with a path" 400 "$(snap "$URL_FAST" $G1 tp-200k ../warm/1)"
check "challenging server without credentials" 401 "$(snap "$URL_FASTDIG" $G1 warm 1)"
check "challenging server, curl --digest" 200 --digest -u x:y "$(snap "$URL_FASTDIG" $G1 warm 1)"
[ "$(curl -s "$(snap "$URL_FAST" $G1 tp-200k 401)" | grep -o '"results":\[\]')" = '"results":[]' ] ||
	die "sanity check failed: the page past the end is not empty"
slow_t=$(curl -s -o /dev/null -w '%{time_total}' "$(snap "$URL_SLOW" $G1 warm 1)")
awk -v t="$slow_t" -v d="$delay_s" 'BEGIN { exit !(t >= d) }' ||
	die "sanity check failed: the delayed server answered in $slow_t s"

gcc -O2 -Wall -Wextra -Werror -o "$C_CLIENT" "$here/c_client.c" \
	$(pkg-config --cflags --libs libcurl json-c)
"$C_CLIENT" -u x:y "$URL_FAST" $G1 warm >/dev/null || die "C client failed against the no-auth server"

# --- 6. run --------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "atlas_snapshot_fdw benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), git $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$repo" diff --quiet HEAD -- '*.c' '*.h' 2>/dev/null || echo ' (C sources modified)')"
echo "machine: $(nproc) cores, $cpu, kernel $(uname -r), $(awk '/MemTotal/ {printf "%.0f GB RAM", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "versions: $($PG_CONFIG --version), $("$C_CLIENT" -a), curl $(curl --version | head -1 | cut -d' ' -f2), nginx $(nginx -v 2>&1 | cut -d/ -f2), echo module $(dpkg-query -W -f='${Version}' libnginx-mod-http-echo), $("$PY" --version), gcc $(gcc -dumpfullversion)"
echo "installed FDW: $(ls -l --time-style='+%Y-%m-%d %H:%M' "$($PG_CONFIG --pkglibdir)/atlas_snapshot_fdw.so" | awk '{print $6, $7}'), $(sha256sum "$($PG_CONFIG --pkglibdir)/atlas_snapshot_fdw.so" | cut -c1-12)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for v in PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSERVICE PGSERVICEFILE PGPASSFILE; do unset "$v"; done
# The cluster is throwaway_cluster's (scripts/common.sh: private, none of
# the machine's).  Root runs it all as postgres, which can read the
# backend's /proc/<pid>/status and the pages that COPY FROM PROGRAM reads.
run_as=()
if [ "$(id -u)" -eq 0 ]; then run_as=(runuser -u postgres --); fi
benv=()
for v in URL_FAST URL_SLOW URL_FASTDIG URL_SLOWDIG PAGES_DIR ACCESS_LOG C_CLIENT COPY_FETCH NGINX_PID \
	BENCH_REPS BENCH_DELAY_MS BENCH_ONLY; do
	if [ -n "${!v:-}" ]; then benv+=("$v=${!v}"); fi
done
rc=0
(cd /tmp && "${run_as[@]}" env "${benv[@]}" bash -c '. "$1/scripts/common.sh" && throwaway_cluster "$2" "$3"' \
	run.sh "$repo" "$PY" "$here/bench.py") || rc=$?
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $rc
