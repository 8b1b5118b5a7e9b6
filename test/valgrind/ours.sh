#!/usr/bin/env bash
# test/valgrind/ours.sh VGLOG...: print the valgrind memcheck reports of
# the given log files that are ours: an error or a definite leak whose stack
# names our library or one of our source files.  Prints nothing if there
# are none.
#
# One report per block (valgrind separates them with empty "==pid==" lines).
# Frames show "(file.c:line)" where there is debug info, "(in lib.so)"
# otherwise.  Our files are every *.c and *.h at the top of the source tree,
# listed when this runs, so that a new source file is covered without
# editing this script.
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
files=$(cd "$top" && ls -1 -- *.c *.h | sed 's/[.]/[.]/g' | paste -sd'|')
[ -n "$files" ] || { echo "ours.sh: no source files in $top" >&2; exit 2; }
sed 's/^==[0-9]*== *$//' "$@" 2>/dev/null | awk -v files="$files" '
	BEGIN { RS = ""; ours = "atlas_snapshot_fdw|[( ](" files "):" }
	$0 ~ ours &&
	/(Invalid|Conditional|Use of uninitialised|Syscall param|Mismatched|Source and destination|definitely lost)/'
