#!/usr/bin/env bash
# test/asan/run.sh: the pg_regress suite once more, with the extension
# built with AddressSanitizer and UndefinedBehaviorSanitizer, in a cluster
# started with the ASan runtime preloaded.  Fails on any sanitizer report
# in the server log, or on any test failure.  Leaves the normal build
# installed afterwards.  Needs ATLAS_MOCK_URL and the mock's credentials
# (scripts/common.sh, start_mock).  Prints "asan: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/common.sh

work=$(mktemp -d /tmp/atlas-asan.XXXXXX)
chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
	as_postgres /usr/lib/postgresql/$PG_MAJOR/bin/pg_ctl -D "$work/data" -m immediate stop >/dev/null 2>&1
	make -s PG_CONFIG="$PG_CONFIG" PG_CFLAGS="$BUILD_CFLAGS" >/dev/null 2>&1
	as_root make -s install PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

# an out-of-tree build, so the normal objects stay as they are
mkdir "$work/build"
make -s -C "$work/build" -f "$PWD/Makefile" VPATH="$PWD" PG_CONFIG="$PG_CONFIG" \
	PG_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g" \
	SHLIB_LINK_INTERNAL="-fsanitize=address,undefined" with_llvm=no >/dev/null ||
	{ echo "asan: 0 passed, 1 failed"; exit 1; }
as_root make -s -C "$work/build" -f "$PWD/Makefile" VPATH="$PWD" PG_CONFIG="$PG_CONFIG" with_llvm=no install >/dev/null

chown -R postgres "$work"
asan_lib=$(gcc -print-file-name=libasan.so)
ubsan_lib=$(gcc -print-file-name=libubsan.so)
as_postgres() {
	setsid su postgres -s /bin/sh -c "$(printf '%q ' "$@")" </dev/null
}
as_postgres /usr/lib/postgresql/$PG_MAJOR/bin/initdb -D "$work/data" -A trust >/dev/null
as_postgres env LD_PRELOAD="$asan_lib $ubsan_lib" \
	ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:verify_asan_link_order=0:log_path=$work/asan" \
	UBSAN_OPTIONS="print_stacktrace=1:log_path=$work/ubsan" \
	/usr/lib/postgresql/$PG_MAJOR/bin/pg_ctl -D "$work/data" -l "$work/server.log" -w \
	-o "-p $port -k $work -c listen_addresses=''" start >/dev/null ||
	{ cat "$work/server.log"; echo "asan: 0 passed, 1 failed"; exit 1; }

status=0
make -s installcheck PG_CONFIG="$PG_CONFIG" PGHOST="$work" PGPORT="$port" PGUSER=postgres \
	>"$work/regress.log" 2>&1 || status=$?
passed=$(grep -c ' \.\.\. ok' "$work/regress.log" || true)
failed=$(grep -c ' \.\.\. FAILED' "$work/regress.log" || true)
if ls "$work"/asan.* "$work"/ubsan.* >/dev/null 2>&1; then
	cat "$work"/asan.* "$work"/ubsan.* 2>/dev/null | head -80
	failed=$((failed + 1))
fi
if grep -q "AddressSanitizer\|runtime error" "$work/server.log"; then
	grep -A30 "AddressSanitizer\|runtime error" "$work/server.log" | head -60
	failed=$((failed + 1))
fi
[ "$status" -ne 0 ] && [ -f regression.diffs ] && head -60 regression.diffs
echo "asan: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
