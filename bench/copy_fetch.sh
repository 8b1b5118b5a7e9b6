#!/bin/bash
# copy_fetch.sh: the program behind the benchmark's
#     COPY stage (doc) FROM PROGRAM 'bash copy_fetch.sh ...'
# method.  Writes every page of the given clusters to stdout, one JSON
# document a line, cluster after cluster, pages in order.
#
# usage: copy_fetch.sh BASE_URL PARALLEL GROUP CLUSTER [GROUP CLUSTER ...]
#
# Like the other clients it discovers how many pages a cluster has from
# totalCount on page 1 and reads up to the confirming short page
# (totalCount/500 + 1 pages).
#   PARALLEL = 1   for each cluster, page 1, then pages 2..N with one curl
#                  (one keep-alive connection), streamed straight to stdout
#   PARALLEL > 1   page 1 of every cluster with one `curl --parallel`, then
#                  every further page of every cluster with one `curl
#                  --parallel --parallel-max PARALLEL` into a temporary
#                  directory, then printed in order (parallel transfers
#                  to one stdout would interleave)
# curl -f: an HTTP error fails the program and so the COPY.
set -euo pipefail
base=$1 par=$2
shift 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/copy_fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
opts=(-sS -f -H 'Accept: application/vnd.atlas.2023-01-01+json' -H 'Expect:')
url() { printf '%s/api/atlas/v2/groups/%s/clusters/%s/backup/snapshots?pageNum=%s&itemsPerPage=500' "$base" "$1" "$2" "$3"; }
pages_of() {    # pages_of FILE: totalCount/500 + 1
	local t
	t=$(grep -o '"totalCount":[0-9]*' "$1" | tail -1 | cut -d: -f2)
	echo $(( ${t:-0} / 500 + 1 ))
}

if [ "$par" -le 1 ]; then
	while [ $# -ge 2 ]; do
		g=$1 c=$2
		shift 2
		curl "${opts[@]}" -o "$tmp/first" "$(url "$g" "$c" 1)"
		n=$(pages_of "$tmp/first")
		cat "$tmp/first"
		echo
		if [ "$n" -ge 2 ]; then
			curl "${opts[@]}" -w '\n' "$(url "$g" "$c" "[2-$n]")"
		fi
	done
	exit 0
fi

# parallel: first pages of all clusters, then all other pages
clusters=()
: >"$tmp/first.cfg"
i=0
while [ $# -ge 2 ]; do
	clusters+=("$1 $2")
	printf 'url = "%s"\noutput = "%s/%d_1.json"\n' "$(url "$1" "$2" 1)" "$tmp" "$i" >>"$tmp/first.cfg"
	shift 2
	i=$((i + 1))
done
curl "${opts[@]}" -Z --parallel-max "$par" --fail-early -K "$tmp/first.cfg"
: >"$tmp/rest.cfg"
npages=()
for i in "${!clusters[@]}"; do
	read -r g c <<<"${clusters[$i]}"
	n=$(pages_of "$tmp/${i}_1.json")
	npages+=("$n")
	for ((p = 2; p <= n; p++)); do
		printf 'url = "%s"\noutput = "%s/%d_%d.json"\n' "$(url "$g" "$c" "$p")" "$tmp" "$i" "$p" >>"$tmp/rest.cfg"
	done
done
if [ -s "$tmp/rest.cfg" ]; then
	curl "${opts[@]}" -Z --parallel-max "$par" --fail-early -K "$tmp/rest.cfg"
fi
files=()
for i in "${!clusters[@]}"; do
	for ((p = 1; p <= ${npages[$i]}; p++)); do files+=("$tmp/${i}_${p}.json"); done
done
# each page is one line without a final newline: awk adds it
awk 1 "${files[@]}"
