#!/usr/bin/env bash
# test/valgrind/test_filter.sh: the valgrind filter (ours.sh) picks out a
# report whose stack passes through any one of our source files, and only
# those: for every *.c and *.h at the top of the source tree, a synthetic
# "Invalid read" and a "definitely lost" report naming it must be
# selected; reports that name only PostgreSQL or libcurl, or that are
# not errors, must not be.  Prints "valgrind filter: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/atlas-vgfilter.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
report() {
	# report FILE KIND FRAME: one valgrind report naming FRAME
	printf '==4242== %s\n==4242==    at 0x4848899: malloc (vg_replace_malloc.c:381)\n==4242==    by 0x5A1B2C3: some_function (%s)\n==4242==    by 0x2B3C4D: ExecScan (in /usr/lib/postgresql/15/bin/postgres)\n==4242== \n' \
		"$2" "$3" >"$1"
}
expect() {
	# expect WANT FILE WHAT: WANT is "ours" or "not ours"
	local got
	if [ -n "$(bash test/valgrind/ours.sh "$2")" ]; then got=ours; else got="not ours"; fi
	if [ "$got" = "$1" ]; then
		passed=$((passed + 1))
	else
		echo "FAIL: $3: $got, expected $1" >&2
		failed=$((failed + 1))
	fi
}
for f in *.c *.h; do
	report "$work/vg.1" "Invalid read of size 8" "$f:123"
	expect ours "$work/vg.1" "an invalid read in $f"
	report "$work/vg.1" "64 bytes in 1 blocks are definitely lost in loss record 3 of 9" "$f:77"
	expect ours "$work/vg.1" "a definite leak in $f"
done
report "$work/vg.1" "Invalid read of size 8" "in /usr/lib/postgresql/15/lib/atlas_snapshot_fdw.so"
expect ours "$work/vg.1" "an invalid read in our library without debug info"
report "$work/vg.1" "Invalid read of size 8" "in /usr/lib/x86_64-linux-gnu/libcurl.so.4.8.0"
expect "not ours" "$work/vg.1" "an invalid read in libcurl"
report "$work/vg.1" "Conditional jump or move depends on uninitialised value(s)" "in /usr/lib/postgresql/15/bin/postgres"
expect "not ours" "$work/vg.1" "a report of PostgreSQL's own"
report "$work/vg.1" "64 bytes in 1 blocks are possibly lost in loss record 3 of 9" "fetch.c:77"
expect "not ours" "$work/vg.1" "a possible leak (not judged)"
report "$work/vg.1" "Invalid read of size 8" "xfetch.c:77"
expect "not ours" "$work/vg.1" "a file whose name only ends like ours"
echo "valgrind filter: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
