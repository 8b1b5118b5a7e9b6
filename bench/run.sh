#!/usr/bin/env bash
# bench/run.sh: the benchmark of the README's performance section.  Not a
# test: it prints a table.  Installs nginx, PL/Python and curl from Debian
# if missing, builds and installs the extension, generates v2-shaped pages,
# serves them from nginx (no added latency) and from a stdlib Python server
# (50 ms a request), and runs bench/bench.py in a throwaway cluster.
# Everything listens on 127.0.0.1 only.  About 5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

install_build_deps
for p in nginx postgresql-plpython3-$PG_MAJOR curl; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null
done
build_and_install
clear_pg_env

work=$(mktemp -d /tmp/atlas-bench.XXXXXX)
chmod 755 "$work"
cleanup() {
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
	[ -n "${SLOW_PID:-}" ] && kill "$SLOW_PID" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "== generating pages in $work" >&2
args="32b6e34b3d91647abb20e7b8 big 200000 32b6e34b3d91647abb20e7b8 m10k 10000 32b6e34b3d91647abb20e7b8 m1m 1000000"
for g in 5e2211c17a3e5a48f5497de3 6b8cd3c1e8f0b0a1d2c3d4e5 7c9de4d2f9a1c1b2e3d4f5a6 8daef5e3aab2d2c3f4e5a6b7; do
	for c in c1 c2 c3 c4 c5; do args="$args $g $c 2500"; done
done
python3 bench/gen_pages.py "$work/pages" $args
chmod -R a+rX "$work"

fast_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
slow_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 100000;
	client_body_temp_path $work/nginx;
	proxy_temp_path $work/nginx;
	fastcgi_temp_path $work/nginx;
	uwsgi_temp_path $work/nginx;
	scgi_temp_path $work/nginx;
	server {
		listen 127.0.0.1:$fast_port;
		root $work/pages;
		location ~ ^/api/atlas/v2/groups/([0-9a-f]+)/clusters/([A-Za-z0-9-]+)/backup/snapshots\$ {
			default_type application/json;
			try_files /\$1/\$2/\$arg_pageNum.json /empty.json;
		}
	}
}
NGINX
nginx -c "$work/nginx.conf" -p "$work"
python3 bench/delay_server.py "$work/pages" "$slow_port" 50 &
SLOW_PID=$!
gcc -O2 -o "$work/c_client" bench/c_client.c $(pkg-config --cflags --libs libcurl json-c)
sleep 0.5

export FAST_URL="http://127.0.0.1:$fast_port" SLOW_URL="http://127.0.0.1:$slow_port" C_CLIENT="$work/c_client"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "== $(psql --version), $(curl --version | head -1 | cut -d' ' -f1-2), json-c $(pkg-config --modversion json-c), nginx $(nginx -v 2>&1 | cut -d/ -f2)"
pg_virtualenv -v "$PG_MAJOR" python3 bench/bench.py
