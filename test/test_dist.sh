#!/usr/bin/env bash
# test_dist.sh: the release archive.  META.json's version is the control
# file's default_version (as PGXN's semantic version: 1.2 is 1.2.0), and
# its provides names that version and an install script that exists;
# scripts/dist.sh writes atlas_snapshot_fdw-VERSION.zip from git archive
# of HEAD, holding META.json, the control file and every install and
# upgrade script; unpacked into an empty directory it builds with PGXS
# (-Werror) and installs into the system PostgreSQL, where CREATE
# EXTENSION gets the control file's version.  Afterwards the work tree's
# own build is installed again (the archive holds HEAD, not uncommitted
# changes).  Touches the system PostgreSQL: run it under the test lock
# (run-tests.sh is).  Prints "dist: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

read -r meta_version provides_version provides_file control_version < <(python3 - <<'PY'
import json, re
meta = json.load(open("META.json"))
ext = meta["provides"]["atlas_snapshot_fdw"]
control = open("atlas_snapshot_fdw.control").read()
print(meta["version"], ext["version"], ext["file"],
      re.search(r"^default_version\s*=\s*'([^']*)'", control, re.M).group(1))
PY
)
check_eq "META.json version is the control file's default_version" "$meta_version" "$control_version.0"
check_eq "META.json provides the same version" "$provides_version" "$meta_version"
check_eq "META.json provides an existing file" "$(test -f "$provides_file" && echo yes)" yes
check_eq "META.json meta-spec" "$(python3 -c 'import json; m = json.load(open("META.json")); print(m["meta-spec"]["version"], m["license"], m["prereqs"]["runtime"]["requires"]["PostgreSQL"])')" \
	"1.0.0 postgresql 15.0.0"

zip=$(bash scripts/dist.sh "$work")
check_eq "dist.sh writes the archive" "$zip" "$work/atlas_snapshot_fdw-$meta_version.zip"
mkdir "$work/unpacked"
python3 -m zipfile -e "$zip" "$work/unpacked"
src=$work/unpacked/atlas_snapshot_fdw-$meta_version
check_eq "one directory in the archive" "$(ls "$work/unpacked")" "atlas_snapshot_fdw-$meta_version"
for f in META.json atlas_snapshot_fdw.control Makefile README.md CHANGELOG.md LICENSE $(sed -n 's/^DATA = //p' Makefile); do
	check_eq "archive holds $f" "$(test -f "$src/$f" && echo yes)" yes
done

echo "== building and installing the archive with PGXS"
if make -s -C "$src" -j2 PG_CONFIG="$PG_CONFIG" PG_CFLAGS="$BUILD_CFLAGS" >"$work/build.log" 2>&1 \
	&& as_root make -s -C "$src" install PG_CONFIG="$PG_CONFIG" >>"$work/build.log" 2>&1; then
	check_eq "archive builds and installs" 0 0
else
	cat "$work/build.log" >&2
	check_eq "archive builds and installs" 1 0
fi
clear_pg_env
got=$(throwaway_cluster psql -X -q -At -d postgres \
	-c "CREATE EXTENSION atlas_snapshot_fdw" \
	-c "SELECT 'version ' || extversion FROM pg_extension WHERE extname = 'atlas_snapshot_fdw'" 2>"$work/venv.log" | sed -n 's/^version //p')
[ "$got" = "$control_version" ] || cat "$work/venv.log" >&2
check_eq "CREATE EXTENSION from the archive's install" "$got" "$control_version"

# the work tree's build again, for whatever runs next
build_and_install >/dev/null
echo "dist: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
