#!/bin/sh
# test/tls_mock.sh: a second mock Atlas server that speaks HTTPS, for
# sql/tls.sql.
#
#   sh test/tls_mock.sh start DIR   make a throwaway CA and a certificate for
#                                   127.0.0.1 signed by it (openssl), start
#                                   test/mock_atlas.py with TLS on a free
#                                   loopback port; writes DIR/ca.pem (the
#                                   CA to give as ca_file), DIR/url, DIR/pid
#   sh test/tls_mock.sh stop DIR    stop that mock and remove DIR
#
# The keys are generated at test time and never leave DIR.  The mock takes
# the credentials of $ATLAS_MOCK_* (scripts/common.sh), like the main one.
set -eu
cmd=$1 dir=$2
cd "$(dirname "$0")/.."

case "$cmd" in
start)
	mkdir -p "$dir"
	chmod 755 "$dir"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		-subj "/CN=atlas_snapshot_fdw test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$dir/ext.cnf"
	openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" \
		-CAkey "$dir/ca.key" -CAcreateserial -days 2 \
		-extfile "$dir/ext.cnf" -out "$dir/server.pem" 2>/dev/null
	chmod 644 "$dir/ca.pem"
	# the file exists before the mock writes to it: no race with sed below
	: >"$dir/out"
	python3 test/mock_atlas.py --fleet test --host 127.0.0.1 --port 0 \
		--public-key "${ATLAS_MOCK_PUBLIC_KEY:-mockpublic}" \
		--private-key "${ATLAS_MOCK_PRIVATE_KEY:-mock-private-key-3f9a}" \
		--client-id "${ATLAS_MOCK_CLIENT_ID:-mdb_sa_id_mock}" \
		--client-secret "${ATLAS_MOCK_CLIENT_SECRET:-mdb_sa_sk_mock-secret}" \
		--tls-cert "$dir/server.pem" --tls-key "$dir/server.key" \
		>"$dir/out" 2>&1 &
	echo $! >"$dir/pid"
	i=0
	while [ $i -lt 100 ]; do
		url=$(sed -n 's/^mock atlas listening on //p' "$dir/out" || true)
		if [ -n "$url" ]; then
			printf '%s' "$url" >"$dir/url"
			exit 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	cat "$dir/out" >&2
	echo "the TLS mock did not start" >&2
	exit 1
	;;
stop)
	[ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
	rm -rf "$dir"
	;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac
