#!/usr/bin/env bash
# scripts/dist.sh: write the release archive atlas_snapshot_fdw-VERSION.zip
# (VERSION from META.json, the PGXN distribution version) from `git archive`
# of a commit (default HEAD): what is committed, nothing else, under one
# directory atlas_snapshot_fdw-VERSION/.  `make dist` runs it.
#
# Usage: dist.sh [OUTPUT_DIR [COMMIT]]   (default: the work tree's top, HEAD)
# Fails, writing nothing, when META.json's version is not the control
# file's default_version (1.2 in the control file is 1.2.0 in META.json)
# or when not in a git checkout.  Prints the archive's path.
set -euo pipefail
top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
outdir=${1:-$top}
commit=${2:-HEAD}
cd "$top"

read -r meta_version control_version < <(python3 - <<'PY'
import json, re
meta = json.load(open("META.json"))
control = open("atlas_snapshot_fdw.control").read()
print(meta["version"], re.search(r"^default_version\s*=\s*'([^']*)'", control, re.M).group(1))
PY
)
semver=$control_version
while [ "$(echo "$semver" | tr -cd . | wc -c)" -lt 2 ]; do
	semver=$semver.0
done
if [ "$meta_version" != "$semver" ]; then
	echo "dist.sh: META.json's version $meta_version is not the control file's $control_version ($semver)" >&2
	exit 1
fi

name=atlas_snapshot_fdw-$meta_version
git archive --format=zip --prefix="$name/" -o "$outdir/$name.zip" "$commit"
echo "$outdir/$name.zip"
