#!/usr/bin/env bash
# test_proxy.sh: the FDW talks to Atlas through a proxy only when the
# server option "proxy" says so.  A throwaway cluster is started with
# http_proxy, https_proxy, HTTPS_PROXY, ALL_PROXY and all_proxy in the
# postmaster's environment, all naming the test proxy (test/proxy.py,
# which logs every request it receives): a scan without the option must
# not reach the proxy; with the option, a scan with an API key (Digest)
# and one with a service account (token request included) go through it,
# and an https:// target (the TLS mock, test/tls_mock.sh) is reached
# through a CONNECT tunnel, its certificate verified through the tunnel.
# A control first shows that the curl tool does follow http_proxy to the
# mock, so that the first check means something.
#
# Needs ATLAS_MOCK_URL and the mock's credentials (scripts/common.sh,
# start_mock) and the extension installed.  Prints
# "proxy: N passed, M failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

work=$(mktemp -d /tmp/atlas-proxy.XXXXXX)
chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
bin=/usr/lib/postgresql/$PG_MAJOR/bin
proxy_pid=
cleanup() {
	[ -f "$work/data/postmaster.pid" ] && kill -INT "$(head -1 "$work/data/postmaster.pid")" 2>/dev/null
	for i in $(seq 1 50); do [ -f "$work/data/postmaster.pid" ] || break; sleep 0.2; done
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
	sh test/tls_mock.sh stop "$work/tls"
	rm -rf "$work"
}
trap cleanup EXIT

proxied() { grep -c "$1" "$work/proxy.log" || true; }

# the proxy
touch "$work/proxy.log"
python3 test/proxy.py --port 0 --log "$work/proxy.log" >"$work/proxy.out" 2>&1 &
proxy_pid=$!
proxy_url=
for i in $(seq 1 100); do
	proxy_url=$(sed -n 's/^proxy listening on //p' "$work/proxy.out")
	[ -n "$proxy_url" ] && break
	sleep 0.1
done
[ -n "$proxy_url" ] || { cat "$work/proxy.out" >&2; echo "the proxy did not start" >&2; exit 1; }

# control: a libcurl client that reads http_proxy goes through the proxy
http_proxy=$proxy_url curl -s -o /dev/null "$ATLAS_MOCK_URL/api/atlas/v2/groups"
check_eq "control: curl with http_proxy reaches the proxy" "$(proxied /api/atlas/v2/groups)" 1

# a cluster whose postmaster has every proxy variable set
# the cluster belongs to postgres when run as root, to the caller otherwise
[ "$(id -u)" -eq 0 ] && chown postgres "$work"
as_owner "$bin/initdb" -D "$work/data" -U postgres -A trust >/dev/null
cat >"$work/start.sh" <<START
export http_proxy=$proxy_url https_proxy=$proxy_url HTTPS_PROXY=$proxy_url
export ALL_PROXY=$proxy_url all_proxy=$proxy_url no_proxy= NO_PROXY=
exec $bin/postgres -D $work/data -p $port -k $work -c listen_addresses= \
	-c max_connections=10 -c shared_buffers=16MB >$work/server.log 2>&1
START
as_owner setsid sh "$work/start.sh" </dev/null >/dev/null 2>&1 &
for i in $(seq 1 100); do
	psql -X -h "$work" -p "$port" -U postgres -Atc "SELECT 1" postgres >/dev/null 2>&1 && break
	sleep 0.2
done
pg() {
	psql -X -q -A -t -h "$work" -p "$port" -U postgres -d postgres \
		-v ON_ERROR_STOP=1 -v proxy_url="$proxy_url" "$@"
}
pg -c "SELECT 1" >/dev/null || { cat "$work/server.log" >&2; echo "the cluster did not start" >&2; exit 1; }
check_eq "the postmaster has http_proxy" \
	"$(tr '\0' '\n' <"/proc/$(head -1 "$work/data/postmaster.pid")/environ" | grep -c "^http_proxy=$proxy_url\$")" 1

pg >"$work/setup.out" 2>&1 <<'SQL' || { cat "$work/setup.out" >&2; exit 1; }
\getenv mock_url ATLAS_MOCK_URL
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
\getenv client_id ATLAS_MOCK_CLIENT_ID
\getenv client_secret ATLAS_MOCK_CLIENT_SECRET
CREATE EXTENSION atlas_snapshot_fdw;
CREATE SERVER px_key FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE SERVER px_sa FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url :'mock_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER px_key
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE USER MAPPING FOR CURRENT_USER SERVER px_sa
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE FOREIGN TABLE px_key_snaps (group_id text, cluster_name text, id text)
	SERVER px_key OPTIONS (resource 'cluster_snapshots');
CREATE FOREIGN TABLE px_sa_snaps (group_id text, cluster_name text, id text)
	SERVER px_sa OPTIONS (resource 'cluster_snapshots');
SQL
q_key="SELECT count(*) FROM px_key_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n3', 'n4')"
q_sa="SELECT count(*) FROM px_sa_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n5'"

# without the option: straight to the mock, whatever the environment says
check_eq "rows without the option (API key)" "$(pg -c "$q_key" 2>&1)" 7
check_eq "rows without the option (service account)" "$(pg -c "$q_sa" 2>&1)" 5
check_eq "requests through the proxy without the option" "$(proxied /api/)" 1

# with it: through the proxy, token requests included
pg <<'SQL'
ALTER SERVER px_key OPTIONS (ADD proxy :'proxy_url');
ALTER SERVER px_sa OPTIONS (ADD proxy :'proxy_url');
SQL
check_eq "rows with the option (API key)" "$(pg -c "$q_key" 2>&1)" 7
check_eq "rows with the option (service account)" "$(pg -c "$q_sa" 2>&1)" 5
check_eq "every snapshot request is a GET of the mock's URL" \
	"$(proxied '^GET http://127.0.0.1:[0-9]*/api/atlas/v2/groups/32b6e34b3d91647abb20e7b8/clusters/n[345]/backup/snapshots')" \
	"$(proxied 'clusters/n[345]/backup')"
[ "$(proxied 'clusters/n[34]/backup')" -ge 2 ] && passed=$((passed + 1)) ||
	{ echo "FAIL: fewer than 2 snapshot requests through the proxy" >&2; failed=$((failed + 1)); }
check_eq "token requests through the proxy" "$(proxied '^POST http://127.0.0.1:[0-9]*/api/oauth/token')" 1
[ "$(proxied 'clusters/n5/backup')" -ge 1 ] && passed=$((passed + 1)) ||
	{ echo "FAIL: no service-account request through the proxy" >&2; failed=$((failed + 1)); }
# an https:// target through the proxy: a CONNECT tunnel to the TLS mock
# (test/tls_mock.sh), the certificate verified end to end through it
sh test/tls_mock.sh start "$work/tls" || exit 1
tls_url=$(cat "$work/tls/url")
pg -v tls_url="$tls_url" -v ca_file="$work/tls/ca.pem" >"$work/setup_tls.out" 2>&1 <<'SQL' || { cat "$work/setup_tls.out" >&2; exit 1; }
\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\getenv private_key ATLAS_MOCK_PRIVATE_KEY
CREATE SERVER px_tls FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'tls_url', ca_file :'ca_file', proxy :'proxy_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER px_tls
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE px_tls_snaps (group_id text, cluster_name text, id text)
	SERVER px_tls OPTIONS (resource 'cluster_snapshots');
SQL
check_eq "rows of an https:// target through the proxy" \
	"$(pg -c "SELECT count(*) FROM px_tls_snaps WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name IN ('n3', 'n4')" 2>&1)" 7
[ "$(proxied "^CONNECT ${tls_url#https://}\$")" -ge 1 ] && passed=$((passed + 1)) ||
	{ echo "FAIL: no CONNECT to the TLS mock through the proxy" >&2; failed=$((failed + 1)); }
check_eq "requests to the https:// target the proxy could read" "$(proxied "^[A-Z]* https://")" 0
echo "proxy log: $(wc -l <"$work/proxy.log") requests"

echo "proxy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
