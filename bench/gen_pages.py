#!/usr/bin/env python3
"""Generate Atlas v2 snapshot list pages as static files for the benchmark.

Layout: ROOT/<groupId>/<clusterName>/<pageNum>.json, 500 DiskBackupReplicaSet
items a page (the last page may be short), plus ROOT/empty.json for any page
past the end.  Item k of a cluster has storageSizeBytes = 1000000 + k, so a
cluster of N snapshots sums to N*1000000 + N*(N-1)/2.  Pages are built from
a template, so a million items take a few seconds.

Usage: gen_pages.py ROOT GROUP CLUSTER COUNT [GROUP CLUSTER COUNT ...]
"""
import json
import os
import sys

PER_PAGE = 500


def item(group, cluster, k):
    return {
        "cloudProvider": "AWS",
        "copyRegions": [],
        "createdAt": "2026-11-01T00:00:00Z",
        "expiresAt": "2026-12-01T00:00:00Z",
        "frequencyType": "hourly",
        "id": "%s%016x" % (group[:8], k),
        "links": [{"rel": "self", "href": "https://cloud.mongodb.com/api/atlas/v2/groups/%s/clusters/%s/backup/snapshots/%s%016x" % (group, cluster, group[:8], k)}],
        "mongodVersion": "7.0.14",
        "policyItems": ["5f4007f327a3bd7b6f4103c5"],
        "replicaSetName": cluster,
        "snapshotType": "scheduled",
        "status": "completed",
        "storageSizeBytes": 1000000 + k,
        "type": "replicaSet",
    }


def main(argv):
    root = argv[1]
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "empty.json"), "w") as f:
        json.dump({"links": [], "results": [], "totalCount": 0}, f)
    specs = argv[2:]
    for i in range(0, len(specs), 3):
        group, cluster, count = specs[i], specs[i + 1], int(specs[i + 2])
        d = os.path.join(root, group, cluster)
        os.makedirs(d, exist_ok=True)
        pages = (count + PER_PAGE - 1) // PER_PAGE
        for p in range(1, pages + 1):
            lo = (p - 1) * PER_PAGE
            hi = min(count, lo + PER_PAGE)
            doc = {"links": [], "results": [item(group, cluster, k) for k in range(lo, hi)],
                   "totalCount": count}
            with open(os.path.join(d, "%d.json" % p), "w") as f:
                json.dump(doc, f, separators=(",", ":"))


if __name__ == "__main__":
    main(sys.argv)
