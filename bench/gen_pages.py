#!/usr/bin/env python3
"""Generate static Atlas Admin API v2 snapshot list pages for run.sh.

Usage: gen_pages.py ROOT GROUP:CLUSTER:COUNT [GROUP:CLUSTER:COUNT ...]

For every cluster it writes

    ROOT/<groupId>/<clusterName>/<pageNum>.json   pages 1..ceil(COUNT/500)
    ROOT/<groupId>/<clusterName>/past.json        what Atlas answers for a
                                                  pageNum past the end

each exactly the shape of GET /api/atlas/v2/groups/{groupId}/clusters/
{clusterName}/backup/snapshots?pageNum=N&itemsPerPage=500 (version
2023-01-01, PaginatedCloudBackupReplicaSetView): {"links": [self, next],
"results": [DiskBackupReplicaSet ...], "totalCount": N}, items with their
keys sorted and their own links, like test/mock_atlas.py and Atlas.

The items vary like a real hourly policy (daily/weekly/monthly snapshots,
some failed, a few on-demand ones with a description, copy regions on some)
and storageSizeBytes is a realistic 10-40 GB value, so the expected count
and sum cannot be guessed by a client that ignores the data.  ROOT/
manifest.json records, per cluster, count, sum(storageSizeBytes), pages and
bytes: every method of the benchmark is checked against it.

Pages are written from string templates (json.dumps of a 1,000,000-item
list would be slow); the first and last page of every cluster are parsed
back with json.loads and checked, so the templates cannot drift from JSON.
"""
import calendar
import json
import os
import sys
import time
from multiprocessing import Pool

PER_PAGE = 500
HOST = "https://cloud.mongodb.com"
BASE = calendar.timegm(time.strptime("2026-11-01T00:00:00Z", "%Y-%m-%dT%H:%M:%SZ"))
HOUR = 3600
DAY = 86400
POLICY = {"hourly": "5f4007f327a3bd7b6f4103c5", "daily": "5f4007f327a3bd7b6f4103c6",
          "weekly": "5f4007f327a3bd7b6f4103c7", "monthly": "5f4007f327a3bd7b6f4103c8"}
RETENTION = {"hourly": 2 * DAY, "daily": 7 * DAY, "weekly": 28 * DAY, "monthly": 365 * DAY}
CLUSTER_REL = "http://mms.mongodb.com/cluster"
ITEM_KEYS = ["cloudProvider", "copyRegions", "createdAt", "expiresAt", "frequencyType", "id",
             "links", "mongodVersion", "policyItems", "replicaSetName", "snapshotType", "status",
             "storageSizeBytes", "type"]


def iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def size_of(k):
    """storageSizeBytes of snapshot k: 10..40 GB, growing slowly, with noise."""
    return 10_000_000_000 + (k * 2_654_435_761) % 30_000_000_000 + k * 1_000


def item_json(group, cluster, index, k):
    """Snapshot k (0 = newest) of cluster `index`, as compact JSON with sorted keys."""
    created = BASE - k * HOUR
    if k % (24 * 30) == 0:
        freq = "monthly"
    elif k % (24 * 7) == 0:
        freq = "weekly"
    elif k % 24 == 0:
        freq = "daily"
    else:
        freq = "hourly"
    on_demand = k % 997 == 5
    sid = "%s%08x%08x" % (group[:8], index, k)
    status = "inProgress" if k == 0 else ("failed" if k % 50 == 7 else "completed")
    regions = '["US_EAST_1","EU_WEST_1"]' if k % 3 == 0 else "[]"
    parts = [
        '{"cloudProvider":"AWS"',
        '"copyRegions":%s' % regions,
        '"createdAt":"%s"' % iso(created),
    ]
    if on_demand:
        parts.append('"description":"before upgrade to 7.0.14"')
    parts += [
        '"expiresAt":"%s"' % iso(created + RETENTION[freq]),
        '"frequencyType":"%s"' % freq,
        '"id":"%s"' % sid,
        '"links":[{"href":"%s/api/atlas/v2/groups/%s/clusters/%s/backup/snapshots/%s","rel":"self"},'
        '{"href":"%s/api/atlas/v2/groups/%s/clusters/%s","rel":"%s"}]'
        % (HOST, group, cluster, sid, HOST, group, cluster, CLUSTER_REL),
        '"mongodVersion":"7.0.14"',
        '"policyItems":[]' if on_demand else '"policyItems":["%s"]' % POLICY[freq],
        '"replicaSetName":"%s-shard-0"' % cluster,
        '"snapshotType":"%s"' % ("onDemand" if on_demand else "scheduled"),
        '"status":"%s"' % status,
        '"storageSizeBytes":%d' % size_of(k),
        '"type":"replicaSet"}',
    ]
    return ",".join(parts)


def page_json(group, cluster, index, count, page):
    lo = (page - 1) * PER_PAGE
    hi = min(count, lo + PER_PAGE)
    url = "%s/api/atlas/v2/groups/%s/clusters/%s/backup/snapshots" % (HOST, group, cluster)
    links = '[{"href":"%s?pageNum=%d&itemsPerPage=%d","rel":"self"}' % (url, page, PER_PAGE)
    if page * PER_PAGE < count:
        links += ',{"href":"%s?pageNum=%d&itemsPerPage=%d","rel":"next"}' % (url, page + 1, PER_PAGE)
    links += "]"
    items = ",".join(item_json(group, cluster, index, k) for k in range(lo, max(lo, hi)))
    return '{"links":%s,"results":[%s],"totalCount":%d}' % (links, items, count)


def check_page(text, group, cluster, count, page):
    doc = json.loads(text)
    assert list(doc) == ["links", "results", "totalCount"], list(doc)
    assert doc["totalCount"] == count
    lo = (page - 1) * PER_PAGE
    expect = max(0, min(count, lo + PER_PAGE) - lo)
    assert len(doc["results"]) == expect, (len(doc["results"]), expect)
    for it in doc["results"]:
        keys = [k for k in it if k != "description"]
        assert keys == ITEM_KEYS, keys
        assert it["replicaSetName"] == cluster + "-shard-0"
        assert len(it["id"]) == 24 and int(it["id"], 16) >= 0
    assert doc["links"][0]["rel"] == "self"


def write_cluster(job):
    root, group, cluster, index, count = job
    d = os.path.join(root, group, cluster)
    os.makedirs(d, exist_ok=True)
    pages = (count + PER_PAGE - 1) // PER_PAGE
    nbytes = 0
    for p in range(1, pages + 1):
        text = page_json(group, cluster, index, count, p)
        if p in (1, pages):
            check_page(text, group, cluster, count, p)
        with open(os.path.join(d, "%d.json" % p), "w") as f:
            f.write(text)
        nbytes += len(text)
    past = page_json(group, cluster, index, count, pages + 1)
    check_page(past, group, cluster, count, pages + 1)
    with open(os.path.join(d, "past.json"), "w") as f:
        f.write(past)
    total = sum(size_of(k) for k in range(count))
    return "%s/%s" % (group, cluster), {"count": count, "sum": total, "pages": pages,
                                        "bytes": nbytes}


def main(argv):
    root = argv[1]
    os.makedirs(root, exist_ok=True)
    jobs = []
    for index, spec in enumerate(argv[2:]):
        group, cluster, count = spec.split(":")
        jobs.append((root, group, cluster, index, int(count)))
    jobs.sort(key=lambda j: -j[4])          # biggest first, for the pool
    with Pool(min(2, os.cpu_count() or 1)) as pool:
        manifest = dict(pool.map(write_cluster, jobs, chunksize=1))
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv)
