#!/usr/bin/env bash
# fuzz/run.sh [SECONDS]: build the libFuzzer target (clang, ASan, UBSan,
# LeakSanitizer) out of tree and run it on a copy of the seed corpus for a
# bounded time (default 60 s).  Installs clang and its runtime from Debian
# if missing.  Prints "fuzz: 1 passed, 0 failed" or "fuzz: 0 passed, 1
# failed" and exits non-zero on a crash, a leak or a sanitizer report.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
seconds=${1:-60}

for p in clang libclang-rt-14-dev libjson-c-dev postgresql-server-dev-$PG_MAJOR; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		{ as_root apt-get update -qq; as_root env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends "$p" >/dev/null; }
done

work=$(mktemp -d /tmp/atlas-fuzz.XXXXXX)
trap '[ -n "${FUZZ_KEEP:-}" ] || rm -rf "$work"' EXIT
cp fuzz/corpus/* "$work/" 2>/dev/null
mkdir -p "$work/corpus" && mv "$work"/*.json "$work/corpus/" 2>/dev/null

clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Wno-ignored-attributes -I. -Ifuzz -I"$($PG_CONFIG --includedir-server)" \
	$(pkg-config --cflags json-c libcurl) \
	jsonparse.c response.c fuzz/pg_stubs.c fuzz/fuzz_page.c \
	-L"$($PG_CONFIG --pkglibdir)" -lpgcommon -lpgport \
	$(pkg-config --libs json-c) -o "$work/fuzz_page" || { echo "fuzz: 0 passed, 1 failed"; exit 1; }

if "$work/fuzz_page" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
	-print_final_stats=1 -dict=fuzz/json.dict -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1; then
	grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$work/log" | tail -2
	echo "fuzz: 1 passed, 0 failed"
else
	tail -60 "$work/log"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi
