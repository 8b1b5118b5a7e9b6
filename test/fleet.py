"""
Deterministic data ("fleets") served by the mock Atlas server (mock_atlas.py).

Three fleets exist: ``test`` (the default; small, hand-written, relied upon
by the regression tests), ``wide`` (the test fleet plus 100 clusters n1 ..
n100 in the inventory of analytics-project, for bench/joins.sh) and ``demo``
(a realistic fleet for demo reports, generated with a fixed-seed
random.Random so it is identical on every run).
Nothing here depends on the wall clock.

All items are plain dicts *without* their ``links`` field; the server adds
``links`` (they depend on the Host the client used).  Item fields follow the
v2 schemas in /work/shared/atlas-api (camelCase, timestamps
"YYYY-MM-DDTHH:MM:SSZ").

TEST FLEET (--fleet test) -- the regression tests depend on these rules
========================================================================

Projects (listGroups), in this order, all orgId 5a0a1e7e0f2912c554080adc:

    32b6e34b3d91647abb20e7b8  prod-project       created 2024-01-15T10:00:00Z  clusterCount 4
    5e2211c17a3e5a48f5497de3  staging-project    created 2024-01-16T10:00:00Z  clusterCount 1
    6b8cd3c1e8f0b0a1d2c3d4e5  analytics-project  created 2024-01-17T10:00:00Z  clusterCount 0

Dedicated clusters (listGroupClusters, version 2024-08-05), in this order:

    group 1: prod-1      REPLICASET backupEnabled=true   3 snapshots (below)
             prod-2      REPLICASET backupEnabled=true   0 snapshots
             shard-1     SHARDED    backupEnabled=true   0 replica-set snapshots,
                                                         2 sharded snapshots
             nobackup-1  REPLICASET backupEnabled=false  0 snapshots
    group 2: stage-1     REPLICASET backupEnabled=true   0 snapshots
    group 3: (none)

    Cluster ids: first 8 chars of the group id + "c1a5" + 12-digit hex index
    (prod-1 = 32b6e34bc1a5000000000001, prod-2 ...02, shard-1 ...03,
    nobackup-1 ...04, stage-1 = 5e2211c1c1a5000000000001).

prod-1 replica-set snapshots (newest first; ids 6a1f0000000000000000000{1,2,3}):

    #1 6a1f00000000000000000001  createdAt 2026-11-01T00:00:00Z
       expiresAt 2026-11-08T00:00:00Z, status completed, snapshotType
       scheduled, frequencyType daily, cloudProvider AWS, copyRegions
       ["US_EAST_1","EU_WEST_1"], masterKeyUUID
       72659f08-8b3c-4913-bb4e-a8a68e036502, mongodVersion 7.0.14,
       policyItems ["5f4007f327a3bd7b6f4103c5"], replicaSetName prod-1,
       storageSizeBytes 1234567890123, type replicaSet
    #2 6a1f00000000000000000002  createdAt 2026-10-31T12:00:00Z
       expiresAt 2026-11-07T12:00:00Z, snapshotType onDemand, description
       "before schema migration", frequencyType "ondemand" (the value real
       Atlas returns for on-demand snapshots, NOT in the spec enum),
       status completed, copyRegions [], policyItems [], NO masterKeyUUID
       field, storageSizeBytes 2048
    #3 6a1f00000000000000000003  createdAt 2026-10-31T00:00:00Z
       expiresAt 2026-11-07T00:00:00Z, status failed, scheduled, daily,
       storageSizeBytes null (JSON null), policyItems [], NO copyRegions
       field, NO masterKeyUUID field
    count 3, sum(storageSizeBytes) = 1234567892171 (null skipped)

Synthetic clusters: any name matching ^n(\\d+)$ (n0, n1, n500, n1234 ...)
exists in every group for the replica-set snapshot list/get endpoints (and
answers an empty sharded list), but NOT in the clusters inventory.  It has
exactly N snapshots; snapshot k (0-based, newest first):

    id             group id[:8] + "%08x" % N + "%08x" % k
                   (e.g. n1234 in group 1, k=0: 32b6e34b000004d200000000)
    createdAt      2026-11-01T00:00:00Z minus k hours
    expiresAt      createdAt + 30 days
    status         "failed" if k % 50 == 7 else "completed"
    storageSizeBytes 1000000 + k
    frequencyType hourly, snapshotType scheduled, cloudProvider AWS,
    copyRegions [], mongodVersion 7.0.14, replicaSetName = cluster name,
    type replicaSet, policyItems ["5f4007f327a3bd7b6f4103c5"], no
    masterKeyUUID, no description.
    => count = N, sum(storageSizeBytes) = N*1000000 + N*(N-1)/2,
       failed = number of k < N with k % 50 == 7.
    Pages are computed lazily, N = 1000000 is fine.

shard-1 sharded snapshots (DiskBackupShardedClusterSnapshot), newest first:

    6a2f000000000000000000a1  createdAt 2026-11-01T00:00:00Z  storage 3000000000
    6a2f000000000000000000a2  createdAt 2026-10-31T00:00:00Z  storage 2900000000
    both completed/scheduled/daily, expiresAt +7 days, configServerType
    EMBEDDED, type shardedCluster, mongodVersion 7.0.14, policyItems
    ["5f4007f327a3bd7b6f4103c5"], 3 members (AWS): shard-1-shard-0,
    shard-1-shard-1, shard-1-config-0 with member ids
    6a2f0000000000000000{01,02,03}a{1,2} (snapshotIds = the member ids).
    The replica-set list of shard-1 is empty; the sharded list of any
    replica-set cluster is empty.

Serverless instances (group 1; list order serverless-1, serverless-gone,
serverless-empty):

    serverless-1      2 snapshots: 6a4f000000000000000000c1 (2026-11-01T00:00:00Z,
                      52428800 bytes), 6a4f000000000000000000c2
                      (2026-10-31T18:00:00Z, 50331648 bytes); completed,
                      scheduled, hourly, mongodVersion 8.0.4, expiresAt +2 days
    serverless-gone   snapshot list and gets answer 410 VERSION_GONE
    serverless-empty  empty snapshot list

Flex clusters (group 1; list order flex-1, flex-2):

    flex-1  3 snapshots, newest first:
            6a3f000000000000000000b1 scheduled 2026-11-01T03:00:00Z COMPLETED
            6a3f000000000000000000b2 scheduled 2026-10-31T03:00:00Z COMPLETED
            6a3f000000000000000000b3 scheduled 2026-10-30T03:00:00Z FAILED
            startTime = scheduledTime + 1 min, finishTime = scheduledTime +
            4 min, expiration = scheduledTime + 8 days (absent on the FAILED
            one), mongoDBVersion 8.0.4
    flex-2  0 snapshots

    Flex endpoints answer 400 CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API for
    dedicated names (incl. synthetic nN); dedicated endpoints answer 400
    CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API for flex names.

Tenant (shared tier; removed upstream): only with --legacy-tenant, cluster
m2-legacy in group 1 has 2 BackupTenantSnapshot items
6a5f000000000000000000d1 (2026-11-01T02:00:00Z, COMPLETED) and
6a5f000000000000000000d2 (2026-10-31T02:00:00Z, COMPLETED).  m2-legacy is
not in the clusters inventory.

Backup extras of the test fleet (see _test_backup_extras):

    schedules   prod-1 policy 5f4007f327a3bd7b6f4103c0: hourly/6 2 days,
                daily/1 7 days (id 5f4007f327a3bd7b6f4103c5, the policy item
                of the prod-1 and shard-1 snapshots), weekly/6 4 weeks,
                monthly/40 12 months; restoreWindowDays 7, auto export to
                bucket 6c0b...01.  prod-2: daily 3 days only.  shard-1: daily
                2 weeks, weekly 1 month.  stage-1: weekly 8 weeks only (no
                daily item).  Every other dedicated cluster (nobackup-1,
                synthetic nN) answers 404 BACKUP_CONFIG_NOT_FOUND.
    restoreJobs prod-1: 6b1e...01 automated to prod-2, finished
                2026-11-01T01:20:00Z; 6b1e...02 download, finished, with
                deliveryUrl and privateDownloadDeliveryUrls embedding
                DOWNLOAD_SECRET; 6b1e...03 automated, failed.  prod-2:
                6b1e...04 automated, finished 2026-09-01T02:30:00Z.
    flex restoreJobs  flex-1: 6b2e...01 RESTORE COMPLETED 2026-11-01,
                6b2e...02 DOWNLOAD COMPLETED (snapshotUrl with the secret).
    exports     prod-1: 6b3e...01 Successful, 6b3e...02 Failed (stateReason).
    exportBuckets  group 1: 6c0b...01 prod-exports AWS, 6c0b...02
                prodexportsweu AZURE.  Groups 2, 3: none.
    backupCompliancePolicy  group 1 ACTIVE, group 2 ENABLING, group 3 none
                (404 RESOURCE_NOT_FOUND, as the spec's generic not-found).

Collection restores and snapshot contents (version 2025-03-12; see
_test_collection_restores):

    collectionRestoreJobs  prod-1, newest first: 6b4e...01 SUCCESSFUL
                (snapshot #1, sales.q1 and sales.q2 with suffix _restored,
                125000 of 125000 documents); 6b4e...02 IN_PROGRESS (point
                in time 1793498400, database users to users_pit, 40000 of
                98000); 6b4e...03 FAILED (oplog 1793421000/3, errorMessage).
                prod-2: 6b4e...04 CANCELED (snapshot 6a1f...e004, expired
                since, database orders,
                OVERWRITE_EXISTING, indexStatus FAILED with 2 failures).
                Other dedicated clusters: none.  A missing job: 404
                RESOURCE_NOT_FOUND.
    snapshots/{id}/databases[/{db}/collections]  prod-1 #1: café (menu),
                orders (line_items, orders), sales ("events 2026.archive",
                q1, q2, q3), users (profiles, sessions); prod-1 #2: sales
                (q1, q2, q3); shard-1 6a2f...a1: catalog (items); any other
                snapshot of a dedicated cluster: no databases.  A missing
                snapshot: 404 SNAPSHOT_NOT_FOUND; a missing database or
                collection: 404 RESOURCE_NOT_FOUND.
Events and organizations of the test fleet (see _test_events): group 1
has 10 events (backup audit, failures, one CLUSTER_MUTATED), group 2 two,
group 3 none; GET /orgs lists prod-org (5a0a...dc, 3 organization events)
and empty-org (5a0a...dd, no events, no projects).

DEMO FLEET (--fleet demo)
=========================

4 projects (payments-platform, search-service, analytics-warehouse,
internal-tools), 30 dedicated clusters (3 sharded, 5 with backupEnabled
false, 1 paused), 3 serverless instances, 8 flex clusters.  Snapshots are
generated from per-cluster backup policies over the ~4 months before
DEMO_NOW (the minute the mock starts, so that the demo reads like a live
organization whenever it runs; the environment variable
ATLAS_MOCK_DEMO_NOW, "YYYY-MM-DDTHH:MM:SSZ", pins it), with growing sizes, ~2%
failures and a few on-demand snapshots.  Three clusters are overdue
(payments-fraud-prod, search-staging, analytics-etl: last completed
snapshot 2-5 days before DEMO_NOW) and search-prod-ap has backups enabled
but no snapshot at all.  Everything comes from random.Random(DEMO_SEED).
Every backed-up dedicated cluster has a schedule (its policy;
search-canary, tools-grafana and analytics-staging keep daily snapshots
fewer than 30 days), most have restore tests into their project's staging
cluster (not the DEMO_UNTESTED ones; the recent tests of
DEMO_FAILED_RESTORE failed), critical clusters export monthly to their
project's bucket, payments-platform has an ACTIVE compliance policy,
analytics-warehouse an ENABLING one, the others none.  These backup
extras come from their own random.Random(DEMO_SEED + 19), so the snapshot
history is the same as without them.  Two deleted clusters still hold
backups (DEMO_DELETED, listed only with includeDeletedWithRetainedBackups:
payments-legacy-v1 and the sharded analytics-events-2024), made without
any random.Random.

Project events of the last 60 days (failed snapshots, deletions,
retention, schedule and compliance-policy changes, failed restores;
_demo_events) come from random.Random(DEMO_SEED + 27).

Variants (add_variant) add projects and clusters to a fleet at run time:
"retained" adds retired-project, whose deleted clusters hold backups.
"""

import calendar
import hashlib
import os
import random
import re
import time

HOUR = 3600
DAY = 86400

ORG_ID = "5a0a1e7e0f2912c554080adc"
POLICY_ITEM = "5f4007f327a3bd7b6f4103c5"
MASTER_KEY = "72659f08-8b3c-4913-bb4e-a8a68e036502"

DEMO_SEED = 20261124
SYNTHETIC_RE = re.compile(r"^n(\d+)$")


def epoch(text):
    """Parse "YYYY-MM-DDTHH:MM:SSZ" into UNIX seconds."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def iso(seconds):
    """Format UNIX seconds as "YYYY-MM-DDTHH:MM:SSZ"."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def demo_now():
    """The demo fleet's "now": $ATLAS_MOCK_DEMO_NOW, or this minute."""
    pinned = os.environ.get("ATLAS_MOCK_DEMO_NOW")
    if pinned:
        return epoch(pinned)
    return int(time.time()) // 60 * 60


SYNTHETIC_BASE = epoch("2026-11-01T00:00:00Z")
DEMO_NOW = demo_now()


# ---------------------------------------------------------------------------
# Snapshot sources: a list of snapshots (newest first) with lazy paging
# ---------------------------------------------------------------------------

class ListSource:
    """Snapshots held in a Python list, newest first.

    ``time_field`` names the creation timestamp used for point-in-time
    look-ups (createdAt for dedicated/serverless snapshots).
    """

    def __init__(self, items, time_field="createdAt", id_field="id"):
        self.items = list(items)
        self.time_field = time_field
        self.by_id = {item[id_field]: item for item in self.items}

    def __len__(self):
        return len(self.items)

    def page(self, start, stop):
        """Items [start, stop) as fresh dict copies."""
        return [dict(item) for item in self.items[start:stop]]

    def get(self, snapshot_id):
        """The item with this id, or None."""
        item = self.by_id.get(snapshot_id)
        return dict(item) if item is not None else None

    def newest_at_or_before(self, seconds):
        """Newest item created at or before ``seconds``, or None."""
        best = None
        for item in self.items:
            created = item.get(self.time_field)
            if created is None or epoch(created) > seconds:
                continue
            if best is None or epoch(created) > epoch(best[self.time_field]):
                best = item
        return dict(best) if best is not None else None


class SyntheticSource:
    """The N snapshots of synthetic cluster nN, computed on demand."""

    def __init__(self, group_id, name, n):
        self.prefix = group_id[:8]
        self.name = name
        self.n = n

    def __len__(self):
        return self.n

    def item(self, k):
        """Snapshot k (0 = newest)."""
        created = SYNTHETIC_BASE - k * HOUR
        return {
            "cloudProvider": "AWS",
            "copyRegions": [],
            "createdAt": iso(created),
            "expiresAt": iso(created + 30 * DAY),
            "frequencyType": "hourly",
            "id": "%s%08x%08x" % (self.prefix, self.n, k),
            "mongodVersion": "7.0.14",
            "policyItems": [POLICY_ITEM],
            "replicaSetName": self.name,
            "snapshotType": "scheduled",
            "status": "failed" if k % 50 == 7 else "completed",
            "storageSizeBytes": 1000000 + k,
            "type": "replicaSet",
        }

    def page(self, start, stop):
        return [self.item(k) for k in range(max(start, 0), min(stop, self.n))]

    def get(self, snapshot_id):
        if len(snapshot_id) != 24 or not snapshot_id.startswith(self.prefix):
            return None
        try:
            n = int(snapshot_id[8:16], 16)
            k = int(snapshot_id[16:24], 16)
        except ValueError:
            return None
        if n != self.n or k >= self.n:
            return None
        item = self.item(k)
        return item if item["id"] == snapshot_id else None

    def newest_at_or_before(self, seconds):
        if seconds >= SYNTHETIC_BASE:
            k = 0
        else:
            k = -(-(SYNTHETIC_BASE - seconds) // HOUR)     # ceil division
        return self.item(k) if k < self.n else None


EMPTY = ListSource([])
GONE = "gone"       # marker: the snapshot endpoints of this instance answer 410


# ---------------------------------------------------------------------------
# Builders for inventory documents
# ---------------------------------------------------------------------------

def group_doc(gid, name, created, cluster_count):
    """A Group (listGroups item)."""
    return {
        "clusterCount": cluster_count,
        "created": created,
        "id": gid,
        "name": name,
        "orgId": ORG_ID,
        "regionUsageRestrictions": "COMMERCIAL_FEDRAMP_REGIONS_ONLY",
        "tags": [],
        "withDefaultAlertsSettings": True,
    }


def _dns_label(object_id):
    """Five-letter host label like the ones in Atlas connection strings."""
    digest = hashlib.md5(object_id.encode("ascii")).hexdigest()
    return "".join("abcdefghijklmnopqrstuvwxyz0123456789"[int(digest[i:i + 2], 16) % 36]
                   for i in range(0, 10, 2))


def _hardware(provider, instance, disk_gb, nodes):
    spec = {"diskSizeGB": float(disk_gb), "instanceSize": instance,
            "nodeCount": nodes}
    if provider == "AWS":
        spec["diskIOPS"] = 3000
        spec["ebsVolumeType"] = "STANDARD"
    elif provider == "AZURE":
        spec["diskIOPS"] = 500
    return spec


def replication_specs(cid, provider, regions, instance, disk_gb, shards):
    """A realistic ReplicationSpec20240805 array: one entry per shard.

    ``regions`` is a list of region names; the first one holds the highest
    priority.  Node counts: 3 in a single region, else 2/2/1.
    """
    node_counts = [3] if len(regions) == 1 else [2, 2, 1, 1, 1][:len(regions)]
    specs = []
    for shard in range(shards):
        configs = []
        for i, region in enumerate(regions):
            configs.append({
                "analyticsSpecs": _hardware(provider, instance, disk_gb, 0),
                "autoScaling": {
                    "compute": {"enabled": False, "scaleDownEnabled": False},
                    "diskGB": {"enabled": True},
                },
                "electableSpecs": _hardware(provider, instance, disk_gb,
                                            node_counts[i]),
                "priority": 7 - i,
                "providerName": provider,
                "readOnlySpecs": _hardware(provider, instance, disk_gb, 0),
                "regionName": region,
            })
        specs.append({
            "id": cid[:12] + "5bec%08x" % shard,
            "regionConfigs": configs,
            "zoneId": cid[:12] + "20ae00000001",
            "zoneName": "Zone 1",
        })
    return specs


def cluster_doc(gid, cid, name, *, cluster_type="REPLICASET", backup=True,
                pit=False, provider="AWS", regions=("US_EAST_1",),
                instance="M30", disk_gb=40, version="7.0.14",
                created="2024-02-01T09:30:00Z", shards=1, paused=False,
                state="IDLE", encryption="NONE", tags=()):
    """A ClusterDescription20240805 (listGroupClusters item)."""
    dns = _dns_label(cid)
    if cluster_type == "REPLICASET":
        shards = 1
    doc = {
        "backupEnabled": backup,
        "clusterType": cluster_type,
        "connectionStrings": {
            "standard": "mongodb://%s/?ssl=true&authSource=admin"
                        % ",".join("%s-shard-00-%02d.%s.mongodb.net:27017"
                                   % (name, i, dns) for i in range(3)),
            "standardSrv": "mongodb+srv://%s.%s.mongodb.net" % (name, dns),
        },
        "createDate": created,
        "diskWarmingMode": "FULLY_WARMED",
        "encryptionAtRestProvider": encryption,
        "featureCompatibilityVersion": ".".join(version.split(".")[:2]),
        "globalClusterSelfManagedSharding": False,
        "groupId": gid,
        "id": cid,
        "mongoDBMajorVersion": ".".join(version.split(".")[:2]),
        "mongoDBVersion": version,
        "name": name,
        "paused": paused,
        "pitEnabled": pit,
        "redactClientLogData": False,
        "replicaSetScalingStrategy": "WORKLOAD_TYPE",
        "replicationSpecs": replication_specs(cid, provider, list(regions),
                                              instance, disk_gb, shards),
        "retainBackups": False,
        "rootCertType": "ISRGROOTX1",
        "stateName": state,
        "tags": [{"key": k, "value": v} for k, v in tags],
        "terminationProtectionEnabled": backup,
        "versionReleaseSystem": "LTS",
    }
    if cluster_type != "REPLICASET":
        doc["configServerManagementMode"] = "ATLAS_MANAGED"
        doc["configServerType"] = "EMBEDDED"
    return doc


def serverless_doc(gid, sid, name, created, region="US_EAST_1",
                   continuous=True):
    """A ServerlessInstanceDescription (listGroupServerlessInstances item)."""
    return {
        "connectionStrings": {
            "standardSrv": "mongodb+srv://%s.%s.mongodb.net" % (name,
                                                               _dns_label(sid)),
        },
        "createDate": created,
        "groupId": gid,
        "id": sid,
        "mongoDBVersion": "8.0.4",
        "name": name,
        "providerSettings": {
            "backingProviderName": "AWS",
            "effectiveProviderName": "SERVERLESS",
            "providerName": "SERVERLESS",
            "regionName": region,
        },
        "serverlessBackupOptions": {
            "serverlessContinuousBackupEnabled": continuous,
        },
        "stateName": "IDLE",
        "tags": [],
        "terminationProtectionEnabled": False,
    }


def flex_doc(gid, fid, name, created, provider="AWS", region="US_EAST_1",
             backup=True):
    """A FlexClusterDescription20241113 (listGroupFlexClusters item)."""
    dns = _dns_label(fid)
    return {
        "backupSettings": {"enabled": backup},
        "clusterType": "REPLICASET",
        "connectionStrings": {
            "standard": "mongodb://%s-shard-00-00.%s.mongodb.net:27017"
                        "/?ssl=true" % (name, dns),
            "standardSrv": "mongodb+srv://%s.%s.mongodb.net" % (name, dns),
        },
        "createDate": created,
        "groupId": gid,
        "id": fid,
        "mongoDBVersion": "8.0.4",
        "name": name,
        "providerSettings": {
            "backingProviderName": provider,
            "diskSizeGB": 5.0,
            "providerName": "FLEX",
            "regionName": region,
        },
        "stateName": "IDLE",
        "tags": [],
        "terminationProtectionEnabled": False,
        "versionReleaseSystem": "LTS",
    }


def flex_snapshot(sid, scheduled, status="COMPLETED", version="8.0.4"):
    """A FlexBackupSnapshot20241113 (also the BackupTenantSnapshot shape)."""
    item = {
        "expiration": iso(scheduled + 8 * DAY),
        "finishTime": iso(scheduled + 4 * 60),
        "id": sid,
        "mongoDBVersion": version,
        "scheduledTime": iso(scheduled),
        "startTime": iso(scheduled + 60),
        "status": status,
    }
    if status == "FAILED":
        del item["expiration"]
    return item


# ---------------------------------------------------------------------------
# Builders for the backup extras (schedule, restore/export jobs, buckets,
# compliance policy)
# ---------------------------------------------------------------------------

def policy_item(pid, freq, interval, unit, value):
    """A DiskBackupApiPolicyItem."""
    return {"frequencyInterval": interval, "frequencyType": freq, "id": pid,
            "retentionUnit": unit, "retentionValue": value}


def schedule_doc(cluster_id, name, policy_id, items, next_snapshot,
                 hour=3, minute=0, restore_days=None, export_bucket=None):
    """A DiskBackupSnapshotSchedule20240805 (without links)."""
    doc = {
        "autoCopySettingsEnabled": False,
        "autoExportEnabled": export_bucket is not None,
        "clusterId": cluster_id,
        "clusterName": name,
        "copyPolicyItemsEnabled": False,
        "copySettings": [],
        "extraRetentionSettings": [],
        "nextSnapshot": next_snapshot,
        "policies": [{"id": policy_id, "policyItems": items}],
        "referenceHourOfDay": hour,
        "referenceMinuteOfHour": minute,
        "useOrgAndGroupNamesInExportPrefix": False,
    }
    if restore_days is not None:
        doc["restoreWindowDays"] = restore_days
    if export_bucket is not None:
        doc["export"] = {"exportBucketId": export_bucket,
                         "frequencyType": "monthly"}
    return doc


def restore_job(jid, snapshot_id, gid, target, kind, created, finished=None,
                failed=False, cancelled=False, secret=None):
    """A DiskBackupSnapshotRestoreJob: automated (to ``target``) or
    download (deliveryUrl built from ``secret``)."""
    doc = {
        "cancelled": cancelled,
        "deliveryType": kind,
        "deliveryUrl": [],
        "desiredTimestamp": {"date": None, "increment": None},
        "expired": False,
        "expiresAt": iso(epoch(created) + 2 * DAY),
        "failed": failed,
        "id": jid,
        "snapshotId": snapshot_id,
        "timestamp": created,
    }
    if finished:
        doc["finishedAt"] = finished
    if kind == "download":
        url = ("https://restore-%s.mock-atlas.invalid/%s/restore-%s.tar.gz"
               % (jid[-6:], secret, snapshot_id))
        doc["deliveryUrl"] = [url]
        doc["privateDownloadDeliveryUrls"] = [
            {"deliveryUrl": url.replace("https://", "https://pl-0."),
             "endpointId": "vpce-0a1b2c3d4e5f60718"}]
    else:
        doc["targetClusterName"] = target
        doc["targetGroupId"] = gid
    return dict(sorted(doc.items()))


def flex_restore_job(jid, snapshot_id, gid, name, target, scheduled, status,
                     kind="RESTORE", secret=None):
    """A FlexBackupRestoreJob20241113."""
    doc = {
        "deliveryType": kind,
        "expirationDate": iso(epoch(scheduled) + DAY),
        "id": jid,
        "instanceName": name,
        "projectId": gid,
        "restoreScheduledDate": scheduled,
        "snapshotFinishedDate": iso(epoch(scheduled) - HOUR),
        "snapshotId": snapshot_id,
        "status": status,
        "targetDeploymentItemName": target,
        "targetProjectId": gid,
    }
    if status == "COMPLETED":
        doc["restoreFinishedDate"] = iso(epoch(scheduled) + 10 * 60)
    if kind == "DOWNLOAD":
        doc["snapshotUrl"] = ("https://flex-%s.mock-atlas.invalid/%s/%s.tgz"
                              % (jid[-6:], secret, snapshot_id))
    return doc


def export_job(jid, snapshot_id, bucket, org_id, gid, name, created, state,
               collections=(0, 0), reason=None):
    """A DiskBackupExportJob."""
    doc = {
        "components": [],
        "createdAt": created,
        "customData": [],
        "exportBucketId": bucket,
        "exportStatus": {"exportedCollections": collections[0],
                         "totalCollections": collections[1]},
        "id": jid,
        "prefix": "exported_snapshots/%s/%s/%s/%s/%d" % (
            org_id, gid, name, time.strftime("%Y-%m-%dT%H%M",
                                             time.gmtime(epoch(created))),
            epoch(created)),
        "snapshotId": snapshot_id,
        "state": state,
    }
    if state in ("Successful", "Failed", "Cancelled"):
        doc["finishedAt"] = iso(epoch(created) + 40 * 60)
    if reason:
        doc["stateReason"] = {"errorCode": reason[0], "message": reason[1]}
    return doc


def collection_restore_job(jid, created, state, *, snapshot_id=None,
                           pit=None, oplog=None, target=None, gid=None,
                           collections=(), databases=(), collection_suffix=None,
                           database_suffix=None, index_strategy="ALL",
                           write_strategy="CREATE_NEW", index_state=None,
                           failed_indexes=0, restored=0, total=0,
                           finished=None, error=None):
    """An ApiAtlasCollectionRestoreJobResponse (2025-03-12; no links).
    ``collections``/``databases`` are (source, target or None) pairs."""
    def namespaces(pairs):
        out = []
        for source, target_ns in pairs:
            ns = {"sourceNamespace": source}
            if target_ns:
                ns["targetNamespace"] = target_ns
            out.append(ns)
        return out
    doc = {
        "collections": namespaces(collections),
        "createdAt": created,
        "databases": namespaces(databases),
        "id": jid,
        "indexStrategy": index_strategy,
        "restoredDocuments": restored,
        "state": state,
        "targetClusterName": target,
        "targetGroupId": gid,
        "totalDocuments": total,
        "writeStrategy": write_strategy,
    }
    if snapshot_id:
        doc["snapshotId"] = snapshot_id
    if pit is not None:
        doc["pointInTimeUtcSeconds"] = pit
    if oplog is not None:
        doc["oplogTs"], doc["oplogInc"] = oplog
    if collection_suffix:
        doc["collectionSuffix"] = collection_suffix
    if database_suffix:
        doc["databaseSuffix"] = database_suffix
    if index_state:
        doc["indexStatus"] = {"failedCollectionCount": failed_indexes,
                              "state": index_state}
    if finished:
        doc["finishedAt"] = finished
    if error:
        doc["errorMessage"] = error
    return dict(sorted(doc.items()))


def export_bucket(bid, name, provider, role_id, region=None):
    """A DiskBackupSnapshotExportBucketResponse (2024-05-30)."""
    doc = {"_id": bid, "bucketName": name, "cloudProvider": provider}
    if provider == "AWS":
        doc["iamRoleId"] = role_id
        doc["requirePrivateNetworking"] = False
        if region:
            doc["region"] = region
    else:
        doc["roleId"] = role_id
    if provider == "AZURE":
        doc["serviceUrl"] = "https://%s.blob.core.windows.net" % name
        doc["tenantId"] = "4f9b3c2a-6d1e-4a7b-9c8d-0e1f2a3b4c5d"
    return doc


def compliance_doc(gid, state, email, first, last, items, restore_days=0,
                   updated="2026-06-01T09:00:00Z"):
    """A DataProtectionSettings20231001."""
    return {
        "authorizedEmail": email,
        "authorizedUserFirstName": first,
        "authorizedUserLastName": last,
        "copyProtectionEnabled": False,
        "deletable": False,
        "encryptionAtRestEnabled": False,
        "onDemandPolicyItem": None,
        "pitEnabled": restore_days > 0,
        "projectId": gid,
        "restoreWindowDays": restore_days,
        "scheduledPolicyItems": items,
        "state": state,
        "updatedDate": updated,
        "updatedUser": email,
    }


# ---------------------------------------------------------------------------
# The fleet container
# ---------------------------------------------------------------------------

class Fleet:
    """Inventory plus snapshot sources, looked up by (groupId, name).

    ``clusters``/``serverless``/``flex`` map a group id to its inventory
    list; the ``*_snaps`` dicts map (group id, name) to a snapshot source.
    """

    def __init__(self, name, synthetic=False):
        self.name = name
        self.synthetic = synthetic
        self.groups = []
        self.clusters = {}
        # deleted clusters that still hold backups: listed only with
        # includeDeletedWithRetainedBackups=true
        self.deleted = {}
        self.serverless = {}
        self.flex = {}
        self.replica_snaps = {}
        self.sharded_snaps = {}
        self.serverless_snaps = {}
        self.flex_snaps = {}
        self.tenant_snaps = {}
        # backup extras: (gid, name) -> document / list; gid -> ...
        self.schedules = {}
        self.restore_jobs = {}
        self.flex_restore_jobs = {}
        self.export_jobs = {}
        self.export_buckets = {}
        self.compliance = {}
        # collection restores and snapshot contents (2025-03-12):
        # (gid, name) -> job list; (gid, name, snapshot id) -> [(database,
        # [collection, ...]), ...] in the order served
        self.collection_restore_jobs = {}
        self.snapshot_contents = {}
        # events (newest first): gid -> list, org id -> list; organizations
        self.orgs = [{"id": ORG_ID, "isDeleted": False, "name": "prod-org",
                      "skipDefaultAlertsSettings": False}]
        self.group_events = {}
        self.org_events = {}

    # -- inventory --------------------------------------------------------

    def add_group(self, doc):
        self.groups.append(doc)
        self.clusters[doc["id"]] = []
        self.deleted[doc["id"]] = []
        self.serverless[doc["id"]] = []
        self.flex[doc["id"]] = []

    def has_group(self, gid):
        return gid in self.clusters

    def has_org(self, oid):
        return any(o["id"] == oid for o in self.orgs)

    def group_org(self, gid):
        return next((g["orgId"] for g in self.groups if g["id"] == gid), ORG_ID)

    def finish(self):
        """Fill in Group.clusterCount from the dedicated cluster lists."""
        for g in self.groups:
            g["clusterCount"] = len(self.clusters[g["id"]])
        return self

    # -- name classification ---------------------------------------------

    def dedicated_type(self, gid, name):
        """REPLICASET / SHARDED for a dedicated cluster (incl. synthetic
        ones), else None."""
        for c in list(self.clusters.get(gid, ())) + \
                list(self.deleted.get(gid, ())):
            if c["name"] == name:
                # clusterType is optional in the spec (variant "untyped")
                return c.get("clusterType") or "UNTYPED"
        if self.synthetic and SYNTHETIC_RE.match(name) and self.has_group(gid):
            return "REPLICASET"
        if (gid, name) in self.tenant_snaps:
            return "REPLICASET"
        return None

    def is_flex(self, gid, name):
        return any(f["name"] == name for f in self.flex.get(gid, ()))

    def is_serverless(self, gid, name):
        return any(s["name"] == name for s in self.serverless.get(gid, ()))

    # -- snapshot sources (None = no such cluster) ------------------------

    def replica_source(self, gid, name):
        kind = self.dedicated_type(gid, name)
        if kind is None:
            return None
        if self.synthetic:
            m = SYNTHETIC_RE.match(name)
            if m:
                return SyntheticSource(gid, name, int(m.group(1)))
        return self.replica_snaps.get((gid, name), EMPTY)

    def sharded_source(self, gid, name):
        if self.dedicated_type(gid, name) is None:
            return None
        return self.sharded_snaps.get((gid, name), EMPTY)

    def serverless_source(self, gid, name):
        """A source, GONE, or None."""
        if not self.is_serverless(gid, name):
            return None
        return self.serverless_snaps.get((gid, name), EMPTY)

    def flex_source(self, gid, name):
        if not self.is_flex(gid, name):
            return None
        return self.flex_snaps.get((gid, name), EMPTY)

    def tenant_source(self, gid, name):
        return self.tenant_snaps.get((gid, name))


# ---------------------------------------------------------------------------
# TEST fleet
# ---------------------------------------------------------------------------

G1 = "32b6e34b3d91647abb20e7b8"
G2 = "5e2211c17a3e5a48f5497de3"
G3 = "6b8cd3c1e8f0b0a1d2c3d4e5"


def _cid(gid, index):
    return "%sc1a5%012x" % (gid[:8], index)


def build_test_fleet(legacy_tenant=False):
    """The small fleet documented in the module docstring."""
    f = Fleet("test", synthetic=True)
    f.add_group(group_doc(G1, "prod-project", "2024-01-15T10:00:00Z", 0))
    f.add_group(group_doc(G2, "staging-project", "2024-01-16T10:00:00Z", 0))
    f.add_group(group_doc(G3, "analytics-project", "2024-01-17T10:00:00Z", 0))

    f.clusters[G1] = [
        cluster_doc(G1, _cid(G1, 1), "prod-1", pit=True,
                    regions=("US_EAST_1", "EU_WEST_1"), instance="M40",
                    disk_gb=160, encryption="AWS",
                    created="2024-01-20T08:00:00Z",
                    tags=[("env", "prod")]),
        cluster_doc(G1, _cid(G1, 2), "prod-2", instance="M30",
                    created="2024-03-02T14:15:00Z", tags=[("env", "prod")]),
        cluster_doc(G1, _cid(G1, 3), "shard-1", cluster_type="SHARDED",
                    shards=2, instance="M50", disk_gb=320,
                    created="2024-04-11T07:45:00Z", tags=[("env", "prod")]),
        cluster_doc(G1, _cid(G1, 4), "nobackup-1", backup=False,
                    instance="M10", disk_gb=10,
                    created="2024-05-05T12:00:00Z", tags=[("env", "dev")]),
    ]
    f.clusters[G2] = [
        cluster_doc(G2, _cid(G2, 1), "stage-1", regions=("EU_WEST_1",),
                    instance="M20", disk_gb=20,
                    created="2024-01-22T16:30:00Z", tags=[("env", "staging")]),
    ]

    # prod-1: three hand-written snapshots, newest first
    f.replica_snaps[(G1, "prod-1")] = ListSource([
        {
            "cloudProvider": "AWS",
            "copyRegions": ["US_EAST_1", "EU_WEST_1"],
            "createdAt": "2026-11-01T00:00:00Z",
            "expiresAt": "2026-11-08T00:00:00Z",
            "frequencyType": "daily",
            "id": "6a1f00000000000000000001",
            "masterKeyUUID": MASTER_KEY,
            "mongodVersion": "7.0.14",
            "policyItems": [POLICY_ITEM],
            "replicaSetName": "prod-1",
            "snapshotType": "scheduled",
            "status": "completed",
            "storageSizeBytes": 1234567890123,
            "type": "replicaSet",
        },
        {
            "cloudProvider": "AWS",
            "copyRegions": [],
            "createdAt": "2026-10-31T12:00:00Z",
            "description": "before schema migration",
            "expiresAt": "2026-11-07T12:00:00Z",
            "frequencyType": "ondemand",
            "id": "6a1f00000000000000000002",
            "mongodVersion": "7.0.14",
            "policyItems": [],
            "replicaSetName": "prod-1",
            "snapshotType": "onDemand",
            "status": "completed",
            "storageSizeBytes": 2048,
            "type": "replicaSet",
        },
        {
            "cloudProvider": "AWS",
            "createdAt": "2026-10-31T00:00:00Z",
            "expiresAt": "2026-11-07T00:00:00Z",
            "frequencyType": "daily",
            "id": "6a1f00000000000000000003",
            "mongodVersion": "7.0.14",
            "policyItems": [],
            "replicaSetName": "prod-1",
            "snapshotType": "scheduled",
            "status": "failed",
            "storageSizeBytes": None,
            "type": "replicaSet",
        },
    ])

    # shard-1: two sharded-cluster snapshots
    sharded = []
    for suffix, created, size in (("a1", "2026-11-01T00:00:00Z", 3000000000),
                                  ("a2", "2026-10-31T00:00:00Z", 2900000000)):
        members = [{"cloudProvider": "AWS",
                    "id": "6a2f0000000000000000%02d%s" % (i + 1, suffix),
                    "replicaSetName": rs}
                   for i, rs in enumerate(("shard-1-shard-0", "shard-1-shard-1",
                                           "shard-1-config-0"))]
        sharded.append({
            "configServerType": "EMBEDDED",
            "createdAt": created,
            "expiresAt": iso(epoch(created) + 7 * DAY),
            "frequencyType": "daily",
            "id": "6a2f0000000000000000" + "00" + suffix,
            "members": members,
            "mongodVersion": "7.0.14",
            "policyItems": [POLICY_ITEM],
            "snapshotIds": [m["id"] for m in members],
            "snapshotType": "scheduled",
            "status": "completed",
            "storageSizeBytes": size,
            "type": "shardedCluster",
        })
    f.sharded_snaps[(G1, "shard-1")] = ListSource(sharded)

    # serverless instances
    f.serverless[G1] = [
        serverless_doc(G1, "%s5e71%012x" % (G1[:8], 1), "serverless-1",
                       "2024-06-01T10:00:00Z"),
        serverless_doc(G1, "%s5e71%012x" % (G1[:8], 2), "serverless-gone",
                       "2024-06-02T10:00:00Z"),
        serverless_doc(G1, "%s5e71%012x" % (G1[:8], 3), "serverless-empty",
                       "2024-06-03T10:00:00Z", continuous=False),
    ]
    f.serverless_snaps[(G1, "serverless-1")] = ListSource([
        {
            "createdAt": created,
            "expiresAt": iso(epoch(created) + 2 * DAY),
            "frequencyType": "hourly",
            "id": sid,
            "mongodVersion": "8.0.4",
            "serverlessInstanceName": "serverless-1",
            "snapshotType": "scheduled",
            "status": "completed",
            "storageSizeBytes": size,
        }
        for sid, created, size in (
            ("6a4f000000000000000000c1", "2026-11-01T00:00:00Z", 52428800),
            ("6a4f000000000000000000c2", "2026-10-31T18:00:00Z", 50331648))
    ])
    f.serverless_snaps[(G1, "serverless-gone")] = GONE
    f.serverless_snaps[(G1, "serverless-empty")] = EMPTY

    # flex clusters
    f.flex[G1] = [
        flex_doc(G1, "%sf1e0%012x" % (G1[:8], 1), "flex-1",
                 "2025-02-10T11:00:00Z"),
        flex_doc(G1, "%sf1e0%012x" % (G1[:8], 2), "flex-2",
                 "2025-03-12T11:00:00Z"),
    ]
    base = epoch("2026-11-01T03:00:00Z")
    f.flex_snaps[(G1, "flex-1")] = ListSource([
        flex_snapshot("6a3f000000000000000000b1", base),
        flex_snapshot("6a3f000000000000000000b2", base - DAY),
        flex_snapshot("6a3f000000000000000000b3", base - 2 * DAY, "FAILED"),
    ], time_field="scheduledTime")
    f.flex_snaps[(G1, "flex-2")] = EMPTY

    _test_backup_extras(f)
    _test_events(f)

    if legacy_tenant:
        base = epoch("2026-11-01T02:00:00Z")
        f.tenant_snaps[(G1, "m2-legacy")] = ListSource([
            flex_snapshot("6a5f000000000000000000d1", base, version="7.0.14"),
            flex_snapshot("6a5f000000000000000000d2", base - DAY,
                          version="7.0.14"),
        ], time_field="scheduledTime")

    return f.finish()


ORG2_ID = "5a0a1e7e0f2912c554080add"


def event_doc(eid, created, etype, gid=None, oid=ORG_ID, cluster=None,
              user=None, api_key=None, **extra):
    """An event (EventViewForNdsGroup / EventViewForOrg) without links; a
    user is (username, userId), an API key (apiKeyId, publicKey).  raw is
    what includeRaw=true adds."""
    doc = {"created": created, "eventTypeName": etype, "id": eid,
           "isGlobalAdmin": False, "orgId": oid}
    if gid:
        doc["groupId"] = gid
    if cluster:
        doc["clusterName"] = cluster
    if user:
        doc["username"], doc["userId"] = user
        doc["remoteAddress"] = "203.0.113.7"
    if api_key:
        doc["apiKeyId"], doc["publicKey"] = api_key
        doc["remoteAddress"] = "198.51.100.23"
    doc.update(extra)
    raw = {"_t": "NDS_AUDIT" if etype.endswith("_AUDIT") else "ALERT",
           "cre": created, "id": eid, "orgId": oid, "orgName": "prod-org"}
    if gid:
        raw["cid"] = gid
    doc["raw"] = dict(sorted(raw.items()))
    return dict(sorted(doc.items()))


def _test_events(f):
    """Events of the test fleet (newest first).  The test fleet's
    projects and their org: ids 6e0e0000000000000000000N.

    prod-project (G1):
      01 2026-11-03T09:00:00Z CPS_SNAPSHOT_DELETED_AUDIT       prod-1  alice
      02 2026-11-02T12:00:00Z CPS_SNAPSHOT_RETENTION_MODIFIED_AUDIT prod-1 API key
      03 2026-11-02T00:00:00Z CPS_DATA_PROTECTION_UPDATE_REQUESTED    bob
      04 2026-11-01T06:00:00Z CPS_SNAPSHOT_FAILED              prod-1
      05 2026-11-01T00:00:00Z CPS_SNAPSHOT_SUCCESSFUL          prod-1
      06 2026-11-01T00:00:00Z CPS_SNAPSHOT_SUCCESSFUL          prod-2
      07 2026-10-31T12:00:00Z CPS_RESTORE_FAILED               prod-1
      08 2026-10-31T00:00:00Z CPS_DATA_PROTECTION_ENABLED
      09 2026-10-30T00:00:00Z CLUSTER_MUTATED                  prod-2  alice
                              (hostname, port 27017, replicaSetName)
      0a 2026-10-29T00:00:00Z CPS_SNAPSHOT_STARTED             shard-1
    staging-project (G2):
      11 2026-11-01T01:00:00Z CPS_SNAPSHOT_SUCCESSFUL          stage-1
      12 2026-10-30T00:00:00Z CPS_SNAPSHOT_DELETED_AUDIT       stage-1 bob
    analytics-project (G3): none.
    prod-org (5a0a...dc), org events:
      21 2026-11-02T08:00:00Z JOINED_ORG       carol
      22 2026-11-01T08:00:00Z API_KEY_CREATED  alice, targetPublicKey qwertyui
      23 2026-10-15T00:00:00Z INVOICE_CLOSED   invoiceId 6f1c...01
    empty-org (5a0a...dd): listed by GET /orgs, no events, no projects.
    """
    alice = ("alice@example.com", "5f1a00000000000000000001")
    bob = ("bob@example.com", "5f1a00000000000000000002")
    carol = ("carol@example.com", "5f1a00000000000000000003")
    key = ("5f1b00000000000000000001", "abcdefgh")

    def e(n):
        return "6e0e%020x" % n

    f.group_events[G1] = [
        event_doc(e(1), "2026-11-03T09:00:00Z", "CPS_SNAPSHOT_DELETED_AUDIT",
                  G1, cluster="prod-1", user=alice),
        event_doc(e(2), "2026-11-02T12:00:00Z",
                  "CPS_SNAPSHOT_RETENTION_MODIFIED_AUDIT", G1,
                  cluster="prod-1", api_key=key),
        event_doc(e(3), "2026-11-02T00:00:00Z",
                  "CPS_DATA_PROTECTION_UPDATE_REQUESTED", G1, user=bob),
        event_doc(e(4), "2026-11-01T06:00:00Z", "CPS_SNAPSHOT_FAILED", G1,
                  cluster="prod-1"),
        event_doc(e(5), "2026-11-01T00:00:00Z", "CPS_SNAPSHOT_SUCCESSFUL", G1,
                  cluster="prod-1"),
        event_doc(e(6), "2026-11-01T00:00:00Z", "CPS_SNAPSHOT_SUCCESSFUL", G1,
                  cluster="prod-2"),
        event_doc(e(7), "2026-10-31T12:00:00Z", "CPS_RESTORE_FAILED", G1,
                  cluster="prod-1"),
        event_doc(e(8), "2026-10-31T00:00:00Z", "CPS_DATA_PROTECTION_ENABLED",
                  G1),
        event_doc(e(9), "2026-10-30T00:00:00Z", "CLUSTER_MUTATED", G1,
                  cluster="prod-2", user=alice,
                  hostname="prod-2-shard-00-00.abcde.mongodb.net",
                  port=27017, replicaSetName="prod-2-shard-0"),
        event_doc(e(10), "2026-10-29T00:00:00Z", "CPS_SNAPSHOT_STARTED", G1,
                  cluster="shard-1"),
    ]
    f.group_events[G2] = [
        event_doc(e(0x11), "2026-11-01T01:00:00Z", "CPS_SNAPSHOT_SUCCESSFUL",
                  G2, cluster="stage-1"),
        event_doc(e(0x12), "2026-10-30T00:00:00Z",
                  "CPS_SNAPSHOT_DELETED_AUDIT", G2, cluster="stage-1",
                  user=bob),
    ]
    f.org_events[ORG_ID] = [
        event_doc(e(0x21), "2026-11-02T08:00:00Z", "JOINED_ORG", user=carol),
        event_doc(e(0x22), "2026-11-01T08:00:00Z", "API_KEY_CREATED",
                  user=alice, targetPublicKey="qwertyui"),
        event_doc(e(0x23), "2026-10-15T00:00:00Z", "INVOICE_CLOSED",
                  invoiceId="6f1c00000000000000000001"),
    ]
    f.orgs.append({"id": ORG2_ID, "isDeleted": False, "name": "empty-org",
                   "skipDefaultAlertsSettings": True})
    f.org_events[ORG2_ID] = []


# Restore-job download links embed this marker: tests check that it never
# reaches a log or an error message
DOWNLOAD_SECRET = "dl-token-7c1e9a"


def _test_backup_extras(f):
    """Schedules, restore/export jobs, buckets and compliance policies of
    the test fleet (see the module docstring)."""
    f.schedules[(G1, "prod-1")] = schedule_doc(
        _cid(G1, 1), "prod-1", "5f4007f327a3bd7b6f4103c0", [
            policy_item("5f4007f327a3bd7b6f4103c4", "hourly", 6, "days", 2),
            policy_item(POLICY_ITEM, "daily", 1, "days", 7),
            policy_item("5f4007f327a3bd7b6f4103c6", "weekly", 6, "weeks", 4),
            policy_item("5f4007f327a3bd7b6f4103c7", "monthly", 40, "months", 12),
        ], "2026-11-01T06:00:00Z", restore_days=7,
        export_bucket="6c0b00000000000000000001")
    f.schedules[(G1, "prod-2")] = schedule_doc(
        _cid(G1, 2), "prod-2", "5f4007f327a3bd7b6f4103d0", [
            policy_item("5f4007f327a3bd7b6f4103d1", "daily", 1, "days", 3),
        ], "2026-11-02T03:00:00Z")
    f.schedules[(G1, "shard-1")] = schedule_doc(
        _cid(G1, 3), "shard-1", "5f4007f327a3bd7b6f4103e0", [
            policy_item("5f4007f327a3bd7b6f4103e1", "daily", 1, "weeks", 2),
            policy_item("5f4007f327a3bd7b6f4103e2", "weekly", 7, "months", 1),
        ], "2026-11-02T01:30:00Z", hour=1, minute=30)
    f.schedules[(G2, "stage-1")] = schedule_doc(
        _cid(G2, 1), "stage-1", "5f4007f327a3bd7b6f4103f0", [
            policy_item("5f4007f327a3bd7b6f4103f1", "weekly", 1, "weeks", 8),
        ], "2026-11-02T00:00:00Z", hour=0)

    f.restore_jobs[(G1, "prod-1")] = ListSource([
        restore_job("6b1e00000000000000000001", "6a1f00000000000000000001", G1,
                    "prod-2", "automated", "2026-11-01T01:00:00Z",
                    finished="2026-11-01T01:20:00Z"),
        restore_job("6b1e00000000000000000002", "6a1f00000000000000000002", G1,
                    None, "download", "2026-10-31T13:00:00Z",
                    finished="2026-10-31T13:05:00Z", secret=DOWNLOAD_SECRET),
        restore_job("6b1e00000000000000000003", "6a1f00000000000000000003", G1,
                    "prod-2", "automated", "2026-10-31T02:00:00Z",
                    failed=True),
    ], time_field="timestamp")
    f.restore_jobs[(G1, "prod-2")] = ListSource([
        restore_job("6b1e00000000000000000004", "6a1f00000000000000000001", G1,
                    "prod-1", "automated", "2026-09-01T02:00:00Z",
                    finished="2026-09-01T02:30:00Z"),
    ], time_field="timestamp")

    f.flex_restore_jobs[(G1, "flex-1")] = ListSource([
        flex_restore_job("6b2e00000000000000000001", "6a3f000000000000000000b1",
                         G1, "flex-1", "flex-2", "2026-11-01T05:00:00Z",
                         "COMPLETED"),
        flex_restore_job("6b2e00000000000000000002", "6a3f000000000000000000b2",
                         G1, "flex-1", "flex-1", "2026-10-31T05:00:00Z",
                         "COMPLETED", kind="DOWNLOAD", secret=DOWNLOAD_SECRET),
    ], time_field="restoreScheduledDate")

    f.export_jobs[(G1, "prod-1")] = ListSource([
        export_job("6b3e00000000000000000001", "6a1f00000000000000000001",
                   "6c0b00000000000000000001", ORG_ID, G1, "prod-1",
                   "2026-11-01T02:00:00Z", "Successful", (12, 12)),
        export_job("6b3e00000000000000000002", "6a1f00000000000000000003",
                   "6c0b00000000000000000002", ORG_ID, G1, "prod-1",
                   "2026-10-31T02:00:00Z", "Failed", (3, 12),
                   ("EXPORT_ACCESS_DENIED",
                    "Atlas could not write to the bucket.")),
    ])

    f.export_buckets[G1] = ListSource([
        export_bucket("6c0b00000000000000000001", "prod-exports", "AWS",
                      "6c1a00000000000000000001", "US_EAST_1"),
        export_bucket("6c0b00000000000000000002", "prodexportsweu", "AZURE",
                      "6c1a00000000000000000002"),
    ], id_field="_id")

    _test_collection_restores(f)

    f.compliance[G1] = compliance_doc(
        G1, "ACTIVE", "dpo@example.com", "Dana", "Owens",
        [policy_item("5f40c0000000000000000001", "daily", 1, "days", 7)],
        restore_days=2)
    f.compliance[G2] = compliance_doc(
        G2, "ENABLING", "dpo@example.com", "Dana", "Owens",
        [policy_item("5f40c0000000000000000002", "weekly", 1, "weeks", 4)])


def _test_collection_restores(f):
    """Collection restore jobs and snapshot contents of the test fleet (see
    the module docstring)."""
    f.collection_restore_jobs[(G1, "prod-1")] = ListSource([
        collection_restore_job(
            "6b4e00000000000000000001", "2026-11-01T04:00:00Z", "SUCCESSFUL",
            snapshot_id="6a1f00000000000000000001", target="prod-2", gid=G1,
            collections=[("sales.q1", None), ("sales.q2", None)],
            collection_suffix="_restored", index_state="SUCCESSFUL",
            restored=125000, total=125000,
            finished="2026-11-01T04:12:00Z"),
        collection_restore_job(
            "6b4e00000000000000000002", "2026-11-01T03:00:00Z", "IN_PROGRESS",
            pit=1793498400, target="prod-1", gid=G1,
            databases=[("users", "users_pit")],
            index_strategy="ALL_EXCEPT_TTL", index_state="NOT_STARTED",
            restored=40000, total=98000),
        collection_restore_job(
            "6b4e00000000000000000003", "2026-10-31T05:00:00Z", "FAILED",
            oplog=(1793421000, 3), target="prod-2", gid=G1,
            collections=[("sales.q2", "sales.q2")], index_strategy="NONE",
            index_state="NOT_RESTORED", total=5000,
            finished="2026-10-31T05:01:00Z",
            error="Namespace sales.q2 already exists on the target cluster."),
    ])
    f.collection_restore_jobs[(G1, "prod-2")] = ListSource([
        collection_restore_job(
            "6b4e00000000000000000004", "2026-09-01T03:00:00Z", "CANCELED",
            snapshot_id="6a1f0000000000000000e004", target="prod-2", gid=G1,
            databases=[("orders", None)], database_suffix="_copy",
            write_strategy="OVERWRITE_EXISTING", index_state="FAILED",
            failed_indexes=2, restored=700, total=1200,
            finished="2026-09-01T03:05:00Z", error="Canceled by user."),
    ])

    f.snapshot_contents[(G1, "prod-1", "6a1f00000000000000000001")] = [
        ("caf\u00e9", ["menu"]),
        ("orders", ["line_items", "orders"]),
        ("sales", ["events 2026.archive", "q1", "q2", "q3"]),
        ("users", ["profiles", "sessions"]),
    ]
    f.snapshot_contents[(G1, "prod-1", "6a1f00000000000000000002")] = [
        ("sales", ["q1", "q2", "q3"]),
    ]
    f.snapshot_contents[(G1, "shard-1", "6a2f000000000000000000a1")] = [
        ("catalog", ["items"]),
    ]


# ---------------------------------------------------------------------------
# DEMO fleet
# ---------------------------------------------------------------------------

# Backup policies: (frequencyType, interval in hours, retention in days).
# A snapshot time wanted by several items is one snapshot whose
# frequencyType is the coarsest item and whose expiry is the longest one.
POLICIES = {
    "critical": [("hourly", 4, 40), ("daily", 24, 120), ("weekly", None, 119),
                 ("monthly", None, 365)],
    "heavy": [("hourly", 6, 21), ("daily", 24, 90), ("weekly", None, 119),
              ("monthly", None, 365)],
    "standard": [("hourly", 12, 14), ("daily", 24, 60), ("weekly", None, 119),
                 ("monthly", None, 365)],
    "light": [("daily", 24, 62), ("weekly", None, 84), ("monthly", None, 365)],
}
FREQ_RANK = {"hourly": 0, "daily": 1, "weekly": 2, "monthly": 3}
HISTORY_START = DEMO_NOW - 122 * DAY      # snapshots older than this expired

INSTANCE_GB = {"M10": 4, "M20": 12, "M30": 30, "M40": 90, "M50": 220,
               "M60": 480, "M80": 900}

ONDEMAND_REASONS = [
    "before schema migration", "pre-release 2026.10", "before index rebuild",
    "quarterly audit export", "before major version upgrade",
    "incident INC-4411 forensics", "pre-data-retention purge",
]

# (name, options) per project.  Options: type, backup, provider, regions,
# instance, policy, shards, copy (copy regions), pit, enc, paused, created,
# overdue ("stopped" days or "failing" days), empty, inprogress.
DEMO_PROJECTS = [
    ("payments-platform", "2023-03-14T09:12:44Z", [
        ("payments-prod-eu", dict(provider="AWS", regions=("EU_WEST_1", "EU_CENTRAL_1", "EU_WEST_2"),
                                  instance="M50", policy="critical", copy=["EU_CENTRAL_1"], pit=True, enc="AWS")),
        ("payments-prod-us", dict(provider="AWS", regions=("US_EAST_1", "US_EAST_2", "US_WEST_2"),
                                  instance="M50", policy="critical", copy=["US_WEST_2"], pit=True, enc="AWS",
                                  inprogress=True)),
        ("payments-ledger-prod", dict(type="SHARDED", shards=3, provider="AWS", regions=("US_EAST_1",),
                                      instance="M60", policy="standard", pit=True, enc="AWS")),
        ("payments-fraud-prod", dict(provider="AWS", regions=("US_EAST_1",), instance="M40",
                                     policy="standard", overdue=("stopped", 2.6))),
        ("payments-reporting", dict(provider="AWS", regions=("EU_WEST_1",), instance="M30", policy="light")),
        ("payments-archive", dict(provider="AWS", regions=("EU_WEST_1",), instance="M30", policy="light")),
        ("payments-staging", dict(provider="AWS", regions=("EU_WEST_1",), instance="M20", policy="light")),
        ("payments-dev", dict(provider="AWS", regions=("EU_WEST_1",), instance="M10", backup=False)),
        ("payments-sandbox", dict(provider="AWS", regions=("US_EAST_1",), instance="M10", backup=False)),
    ]),
    ("search-service", "2023-06-02T15:40:03Z", [
        ("search-prod-eu", dict(provider="GCP", regions=("WESTERN_EUROPE", "EUROPE_WEST_3"),
                                instance="M40", policy="heavy", copy=["EUROPE_WEST_3"])),
        ("search-prod-us", dict(provider="GCP", regions=("CENTRAL_US",), instance="M40", policy="heavy")),
        ("search-prod-ap", dict(provider="GCP", regions=("SOUTHEASTERN_ASIA_PACIFIC",), instance="M40",
                                policy="heavy", empty=True, created="2026-11-23T20:05:11Z")),
        ("search-index-prod", dict(type="SHARDED", shards=2, provider="GCP", regions=("CENTRAL_US",),
                                   instance="M50", policy="standard")),
        ("search-logs", dict(provider="AWS", regions=("US_EAST_1",), instance="M30", policy="standard")),
        ("search-staging", dict(provider="GCP", regions=("CENTRAL_US",), instance="M20", policy="light",
                                overdue=("failing", 3.2))),
        ("search-canary", dict(provider="GCP", regions=("CENTRAL_US",), instance="M20", policy="light")),
        ("search-dev", dict(provider="GCP", regions=("CENTRAL_US",), instance="M10", backup=False)),
    ]),
    ("analytics-warehouse", "2023-09-21T08:03:57Z", [
        ("analytics-prod", dict(provider="AZURE", regions=("EUROPE_NORTH", "EUROPE_WEST"), instance="M60",
                                policy="heavy", pit=True, enc="AZURE", inprogress=True)),
        ("analytics-events-prod", dict(type="SHARDED", shards=4, provider="AZURE", regions=("EUROPE_NORTH",),
                                       instance="M80", policy="standard")),
        ("analytics-etl", dict(provider="AZURE", regions=("EUROPE_NORTH",), instance="M40", policy="standard",
                               overdue=("stopped", 4.2))),
        ("analytics-ml-features", dict(provider="AWS", regions=("EU_WEST_1",), instance="M50",
                                       policy="standard")),
        ("analytics-bi", dict(provider="AWS", regions=("EU_WEST_1",), instance="M30", policy="light")),
        ("analytics-staging", dict(provider="AZURE", regions=("EUROPE_NORTH",), instance="M30", policy="light")),
        ("analytics-scratch", dict(provider="AWS", regions=("EU_WEST_1",), instance="M10", backup=False,
                                   paused=True)),
    ]),
    ("internal-tools", "2024-01-08T11:27:30Z", [
        ("tools-auth-prod", dict(provider="AWS", regions=("US_EAST_1", "US_WEST_2"), instance="M30",
                                 policy="heavy", copy=["US_WEST_2"], enc="AWS")),
        ("tools-prod", dict(provider="AWS", regions=("US_EAST_1",), instance="M30", policy="standard")),
        ("tools-jira-sync", dict(provider="AWS", regions=("US_EAST_1",), instance="M20", policy="light")),
        ("tools-grafana", dict(provider="AWS", regions=("US_EAST_1",), instance="M10", policy="light")),
        ("tools-wiki", dict(provider="AWS", regions=("US_EAST_1",), instance="M20", policy="light")),
        ("tools-ci", dict(provider="AWS", regions=("US_EAST_1",), instance="M10", backup=False)),
    ]),
]

DEMO_SERVERLESS = [   # (project index, name, kind)
    (1, "search-sandbox", "snapshots"),
    (2, "analytics-notebooks", "empty"),
    (3, "tools-feature-flags", "gone"),
]

DEMO_FLEX = [         # (project index, name, provider, region)
    (0, "payments-docs", "AWS", "EU_WEST_1"),
    (0, "payments-preview", "AWS", "US_EAST_1"),
    (1, "search-playground", "GCP", "CENTRAL_US"),
    (1, "search-demo", "GCP", "WESTERN_EUROPE"),
    (2, "analytics-sandbox", "AZURE", "EUROPE_NORTH"),
    (3, "tools-status-page", "AWS", "US_EAST_1"),
    (3, "tools-hackathon", "AWS", "US_EAST_1"),
    (3, "tools-onboarding", "AWS", "US_EAST_1"),
]


class _Ids:
    """Deterministic 24-hex id factory drawing from the demo RNG."""

    def __init__(self, rng):
        self.rng = rng
        self.seen = set()

    def __call__(self):
        while True:
            value = "%024x" % self.rng.getrandbits(96)
            # Atlas ObjectIds start with a timestamp; keep them plausible
            value = "6" + value[1:]
            if value not in self.seen:
                self.seen.add(value)
                return value


def _name_id(kind, name):
    """Stable 24-hex id of a named demo object (independent of the RNG)."""
    return "6" + hashlib.md5(("%s:%s" % (kind, name)).encode()).hexdigest()[:23]


def _schedule(policy, anchor, start, end):
    """Snapshot times of ``policy`` in [start, end]: {time: [freq, ...]}.

    ``anchor`` is the cluster's daily snapshot minute-of-day; hourly
    snapshots fall on the same grid, weekly ones on Saturdays and monthly
    ones on the 1st of the month.
    """
    wanted = {}
    first_day = (start // DAY) * DAY
    for freq, interval, retention in policy:
        lower = max(start, DEMO_NOW - retention * DAY)
        step = (interval or 24) * HOUR
        t = first_day + anchor * 60
        while t <= end:
            if t >= lower:
                tm = time.gmtime(t)
                ok = True
                if freq == "weekly":
                    ok = tm.tm_wday == 5
                elif freq == "monthly":
                    ok = tm.tm_mday == 1
                if ok:
                    wanted.setdefault(t, []).append(freq)
            t += step if freq == "hourly" else DAY
    return wanted


def _demo_snapshots(rng, ids, name, opts, created, version_plan,
                    out_policy_ids=None):
    """Generate (replica-set or sharded) snapshot dicts for one cluster;
    ``out_policy_ids`` (a dict) receives the policy item id of each
    frequency."""
    policy = POLICIES[opts["policy"]]
    retention = {freq: days for freq, _, days in policy}
    policy_ids = {freq: ids() for freq, _, _ in policy}
    if out_policy_ids is not None:
        out_policy_ids.update(policy_ids)
    anchor = rng.randrange(0, 24 * 60, 5)
    start = max(epoch(created), HISTORY_START)
    end = DEMO_NOW - 5 * 60                      # the last one has just finished
    overdue = opts.get("overdue")
    stop_at = end
    failing_from = None
    if overdue and overdue[0] == "stopped":
        stop_at = DEMO_NOW - int(overdue[1] * DAY)
    elif overdue and overdue[0] == "failing":
        failing_from = DEMO_NOW - int(overdue[1] * DAY)

    base_bytes = INSTANCE_GB[opts["instance"]] * 1024 ** 3 * rng.uniform(0.35, 0.7)
    growth = rng.uniform(0.08, 0.6)              # relative growth over 4 months
    copy = opts.get("copy", [])
    provider = opts["provider"]
    enc_key = ("%08x-%04x-4%03x-%04x-%012x" % (
        rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
        0x8000 | rng.getrandbits(14), rng.getrandbits(48))
        if opts.get("enc") == "AWS" else None)

    def size_at(t):
        frac = (t - HISTORY_START) / (DEMO_NOW - HISTORY_START)
        return int(base_bytes * (1 + growth * frac) * rng.uniform(0.99, 1.01))

    def version_at(t):
        for since, version in version_plan:
            if t >= since:
                return version
        return version_plan[-1][1]

    items = []
    for t, freqs in sorted(_schedule(policy, anchor, start, stop_at).items(),
                           reverse=True):
        freq = max(freqs, key=FREQ_RANK.get)
        created_at = t + rng.randrange(0, 240)
        # ~2% random failures, never in the last 36 hours (so only the
        # designated clusters look overdue)
        failed = ((rng.random() < 0.02 and t < DEMO_NOW - 36 * HOUR)
                  or (failing_from is not None and t >= failing_from))
        item = {
            "cloudProvider": provider,
            "copyRegions": list(copy),
            "createdAt": iso(created_at),
            "expiresAt": iso(t + max(retention[f] for f in freqs) * DAY),
            "frequencyType": freq,
            "id": ids(),
            "mongodVersion": version_at(t),
            "policyItems": [policy_ids[f] for f in freqs],
            "replicaSetName": name,
            "snapshotType": "scheduled",
            "status": "failed" if failed else "completed",
            "storageSizeBytes": None if failed else size_at(t),
            "type": "replicaSet",
        }
        if enc_key:
            item["masterKeyUUID"] = enc_key
        items.append(item)

    # a few on-demand snapshots with a reason
    for _ in range(rng.choice((0, 0, 0, 1, 1, 2, 3))):
        t = rng.randrange(max(start, DEMO_NOW - 100 * DAY),
                          min(stop_at, failing_from or stop_at))
        item = {
            "cloudProvider": provider,
            "copyRegions": [],
            "createdAt": iso(t),
            "description": rng.choice(ONDEMAND_REASONS),
            "expiresAt": iso(t + 30 * DAY),
            "frequencyType": "ondemand",
            "id": ids(),
            "mongodVersion": version_at(t),
            "policyItems": [],
            "replicaSetName": name,
            "snapshotType": "onDemand",
            "status": "completed",
            "storageSizeBytes": size_at(t),
            "type": "replicaSet",
        }
        if enc_key:
            item["masterKeyUUID"] = enc_key
        items.append(item)

    if opts.get("inprogress") and not overdue:
        t = DEMO_NOW - 20 * 60
        items.append({
            "cloudProvider": provider,
            "copyRegions": list(copy),
            "createdAt": iso(t),
            "expiresAt": iso(t + retention[policy[0][0]] * DAY),
            "frequencyType": policy[0][0],
            "id": ids(),
            "mongodVersion": version_at(t),
            "policyItems": [policy_ids[policy[0][0]]],
            "replicaSetName": name,
            "snapshotType": "scheduled",
            "status": "inProgress",
            "storageSizeBytes": 0,
            "type": "replicaSet",
        })
        if enc_key:
            items[-1]["masterKeyUUID"] = enc_key

    items.sort(key=lambda i: i["createdAt"], reverse=True)
    return [dict(sorted(i.items())) for i in items]


def _shardify(rng, ids, name, shards, items):
    """Turn replica-set shaped snapshots into DiskBackupShardedClusterSnapshot."""
    out = []
    for item in items:
        members = [{"cloudProvider": item["cloudProvider"], "id": ids(),
                    "replicaSetName": "%s-shard-%d" % (name, i)}
                   for i in range(shards)]
        members.append({"cloudProvider": item["cloudProvider"], "id": ids(),
                        "replicaSetName": "%s-config-0" % name})
        doc = {k: v for k, v in item.items()
               if k not in ("cloudProvider", "copyRegions", "replicaSetName")}
        doc["configServerType"] = "EMBEDDED"
        doc["members"] = members
        doc["snapshotIds"] = [m["id"] for m in members]
        doc["type"] = "shardedCluster"
        if doc["storageSizeBytes"]:
            doc["storageSizeBytes"] *= shards
        out.append(dict(sorted(doc.items())))
    return out


def build_demo_fleet():
    """The realistic demo fleet (see module docstring)."""
    rng = random.Random(DEMO_SEED)
    ids = _Ids(rng)
    f = Fleet("demo")
    group_ids = []
    schedule_plan = []
    for pname, pcreated, clusters in DEMO_PROJECTS:
        gid = _name_id("project", pname)
        group_ids.append(gid)
        f.add_group(group_doc(gid, pname, pcreated, 0))
        for name, opts in clusters:
            cid = _name_id("cluster", name)
            opts = dict(opts)
            opts.setdefault("created", iso(epoch(pcreated) + rng.randrange(
                30 * DAY, 400 * DAY) // 60 * 60))
            major = rng.choice(("7.0", "7.0", "8.0", "8.0", "8.0", "6.0"))
            patch = {"6.0": "6.0.19", "7.0": "7.0.15", "8.0": "8.0.4"}[major]
            older = {"6.0": "6.0.18", "7.0": "7.0.14", "8.0": "8.0.3"}[major]
            upgraded = DEMO_NOW - rng.randrange(10, 60) * DAY
            version_plan = [(upgraded, patch), (0, older)]
            env = ("prod" if "prod" in name else
                   "staging" if "staging" in name or "canary" in name else "dev")
            f.clusters[gid].append(cluster_doc(
                gid, cid, name,
                cluster_type=opts.get("type", "REPLICASET"),
                backup=opts.get("backup", True), pit=opts.get("pit", False),
                provider=opts["provider"], regions=opts["regions"],
                instance=opts["instance"],
                disk_gb=max(10, INSTANCE_GB[opts["instance"]] * 2),
                version=patch, created=opts["created"],
                shards=opts.get("shards", 1), paused=opts.get("paused", False),
                encryption=opts.get("enc", "NONE"),
                tags=[("env", env), ("team", pname.split("-")[0])]))
            if opts.get("empty"):
                schedule_plan.append((gid, cid, name, opts, None))
            if not opts.get("backup", True) or opts.get("empty"):
                continue
            policy_ids = {}
            items = _demo_snapshots(rng, ids, name, opts, opts["created"],
                                    version_plan, policy_ids)
            schedule_plan.append((gid, cid, name, opts, policy_ids))
            if opts.get("type") == "SHARDED":
                f.sharded_snaps[(gid, name)] = ListSource(
                    _shardify(rng, ids, name, opts["shards"], items))
            else:
                f.replica_snaps[(gid, name)] = ListSource(items)

    for pidx, name, kind in DEMO_SERVERLESS:
        gid = group_ids[pidx]
        created = iso(DEMO_NOW - rng.randrange(400, 700) * DAY)
        f.serverless[gid].append(serverless_doc(
            gid, _name_id("serverless", name), name, created))
        if kind == "gone":
            f.serverless_snaps[(gid, name)] = GONE
        elif kind == "empty":
            f.serverless_snaps[(gid, name)] = EMPTY
        else:
            snaps = []
            t = (DEMO_NOW // (6 * HOUR)) * 6 * HOUR
            for i in range(8 + 35):     # 2 days of 6-hourly + 35 daily
                when = t - i * 6 * HOUR if i < 8 else t - (i - 7) * DAY
                snaps.append({
                    "createdAt": iso(when + rng.randrange(0, 120)),
                    "expiresAt": iso(when + (2 if i < 8 else 35) * DAY),
                    "frequencyType": "hourly" if i < 8 else "daily",
                    "id": ids(),
                    "mongodVersion": "8.0.4",
                    "serverlessInstanceName": name,
                    "snapshotType": "scheduled",
                    "status": "completed",
                    "storageSizeBytes": int(1.8 * 1024 ** 3 - i * 9_000_000),
                })
            snaps.sort(key=lambda s: s["createdAt"], reverse=True)
            f.serverless_snaps[(gid, name)] = ListSource(snaps)

    for pidx, name, provider, region in DEMO_FLEX:
        gid = group_ids[pidx]
        created = iso(DEMO_NOW - rng.randrange(20, 500) * DAY)
        f.flex[gid].append(flex_doc(gid, _name_id("flex", name), name,
                                    created, provider, region))
        hour = rng.randrange(0, 24)
        day0 = (DEMO_NOW // DAY) * DAY + hour * HOUR
        if day0 > DEMO_NOW - HOUR:
            day0 -= DAY
        snaps = []
        for i in range(8):      # Flex keeps 8 daily snapshots
            status = "FAILED" if rng.random() < 0.04 else "COMPLETED"
            snaps.append(flex_snapshot(ids(), day0 - i * DAY, status))
        f.flex_snaps[(gid, name)] = ListSource(snaps,
                                               time_field="scheduledTime")

    _demo_backup_extras(f, group_ids, schedule_plan)
    _demo_deleted_clusters(f, group_ids)
    _demo_events(f, group_ids)
    return f.finish()


# Deleted clusters that still hold backups (listed only with
# includeDeletedWithRetainedBackups=true): (project index, name, type,
# deleted days ago, monthly snapshots kept, GB each).  Made without the
# demo's RNG, so the rest of the demo fleet is unchanged.
DEMO_DELETED = [
    (0, "payments-legacy-v1", "REPLICASET", 41, 6, 38),
    (2, "analytics-events-2024", "SHARDED", 118, 4, 210),
]


def _demo_deleted_clusters(f, group_ids):
    """Add DEMO_DELETED: monthly snapshots taken before the cluster was
    deleted, each kept a year from when it was taken."""
    for n, (pidx, name, ctype, gone_days, count, gb) in enumerate(DEMO_DELETED):
        gid = group_ids[pidx]
        deleted_at = (DEMO_NOW // DAY - gone_days) * DAY
        f.deleted[gid].append(deleted_cluster_doc(
            gid, _name_id("cluster", name), name, cluster_type=ctype,
            shards=3 if ctype == "SHARDED" else 1,
            created=iso(deleted_at - 700 * DAY)))
        items = []
        for k in range(count):
            taken = deleted_at - k * 30 * DAY - 2 * HOUR
            sid = "6a8f%04x%016x" % (n + 1, k + 1)
            size = (gb - k) * 1024 ** 3
            doc = {"createdAt": iso(taken), "expiresAt": iso(taken + 365 * DAY),
                   "frequencyType": "monthly", "id": sid,
                   "mongodVersion": "7.0.14", "policyItems": [POLICY_ITEM],
                   "snapshotType": "scheduled", "status": "completed",
                   "storageSizeBytes": size}
            if ctype == "SHARDED":
                members = [{"cloudProvider": "AZURE",
                            "id": "6a8f%04x%08x%08x" % (n + 1, k + 1, i + 1),
                            "replicaSetName": rs}
                           for i, rs in enumerate(
                               ["%s-shard-%d" % (name, j) for j in range(3)]
                               + ["%s-config-0" % name])]
                doc.update({"configServerType": "EMBEDDED", "members": members,
                            "snapshotIds": [m["id"] for m in members],
                            "type": "shardedCluster"})
            else:
                doc.update({"cloudProvider": "AWS", "copyRegions": [],
                            "replicaSetName": name, "type": "replicaSet"})
            items.append(dict(sorted(doc.items())))
        if ctype == "SHARDED":
            f.sharded_snaps[(gid, name)] = ListSource(items)
        else:
            f.replica_snaps[(gid, name)] = ListSource(items)


# Demo schedules that differ from the policy their snapshots were taken
# with (changed recently): what retention_below.sql finds at 30 days
DEMO_SCHEDULE_OVERRIDES = {
    "search-canary": [("weekly", None, 56)],                  # no daily item
    "tools-grafana": [("daily", 24, 7), ("weekly", None, 28)],
    "analytics-staging": [("daily", 24, 14), ("weekly", None, 56),
                          ("monthly", None, 365)],
}
# Demo clusters whose restores were never tested, or whose recent tests failed
DEMO_UNTESTED = {"payments-ledger-prod", "search-index-prod", "search-logs",
                 "analytics-etl", "tools-prod", "tools-wiki",
                 "search-prod-ap", "tools-hackathon"}
DEMO_FAILED_RESTORE = {"analytics-events-prod", "payments-fraud-prod"}


def _retention(freq, days):
    """(retentionUnit, retentionValue) of a demo policy item."""
    if freq == "monthly" and days % 365 == 0:
        return "months", 12 * days // 365
    if freq == "weekly" and days % 7 == 0:
        return "weeks", days // 7
    return "days", days


def _demo_backup_extras(f, group_ids, schedule_plan):
    """Schedules, restore/export jobs, buckets and compliance policies of
    the demo fleet, from their own RNG (the snapshot history is unchanged).
    """
    rng = random.Random(DEMO_SEED + 19)
    ids = _Ids(rng)
    staging = {}
    for gid, cid, name, opts, policy_ids in schedule_plan:
        policy = DEMO_SCHEDULE_OVERRIDES.get(name, POLICIES[opts["policy"]])
        items = []
        for freq, interval, days in policy:
            unit, value = _retention(freq, days)
            pid = (policy_ids or {}).get(freq) or ids()
            items.append(policy_item(pid, freq,
                                     {"hourly": interval or 1, "daily": 1,
                                      "weekly": 6, "monthly": 1}[freq],
                                     unit, value))
        hour = rng.randrange(0, 24)
        nxt = (DEMO_NOW // DAY + 1) * DAY + hour * HOUR
        f.schedules[(gid, name)] = schedule_doc(
            cid, name, ids(), items, iso(nxt), hour=hour,
            restore_days=7 if opts.get("pit") else None)
        if "staging" in name:
            staging[gid] = name

    buckets = {group_ids[0]: export_bucket(ids(), "payments-backup-exports",
                                           "AWS", ids(), "US_EAST_1"),
               group_ids[2]: export_bucket(ids(), "analyticsexports", "AZURE",
                                           ids())}
    for gid, bucket in buckets.items():
        f.export_buckets[gid] = ListSource([bucket], id_field="_id")

    for gid, cid, name, opts, policy_ids in schedule_plan:
        source = (f.replica_snaps.get((gid, name))
                  or f.sharded_snaps.get((gid, name)))
        completed = [s for s in (source.items if source else [])
                     if s["status"] == "completed"]
        jobs = []
        if completed and name not in DEMO_UNTESTED:
            # restore tests into the project's staging cluster
            target = staging.get(gid, name)
            for back in sorted(rng.sample(range(3, 150), 3)):
                t = DEMO_NOW - back * DAY - rng.randrange(0, DAY)
                snap = min(completed,
                           key=lambda s: abs(epoch(s["createdAt"]) - t))
                failed = name in DEMO_FAILED_RESTORE and back < 100
                jobs.append(restore_job(
                    ids(), snap["id"], gid, target, "automated", iso(t),
                    finished=None if failed else iso(t + rng.randrange(600, 5400)),
                    failed=failed))
        if completed and name not in DEMO_UNTESTED and rng.random() < 0.3:
            t = DEMO_NOW - rng.randrange(1, 60) * DAY
            snap = completed[rng.randrange(len(completed))]
            jobs.append(restore_job(ids(), snap["id"], gid, None, "download",
                                    iso(t), finished=iso(t + 300),
                                    secret=DOWNLOAD_SECRET))
        if jobs:
            jobs.sort(key=lambda j: j["timestamp"], reverse=True)
            f.restore_jobs[(gid, name)] = ListSource(jobs,
                                                     time_field="timestamp")
        if gid in buckets and completed and opts.get("policy") == "critical":
            exports = []
            for k in range(3):
                t = DEMO_NOW - (k * 30 + rng.randrange(1, 5)) * DAY
                snap = min(completed,
                           key=lambda s: abs(epoch(s["createdAt"]) - t))
                ok = k != 1
                exports.append(export_job(
                    ids(), snap["id"], buckets[gid]["_id"], ORG_ID, gid, name,
                    iso(t), "Successful" if ok else "Failed",
                    (40, 40) if ok else (7, 40),
                    None if ok else ("EXPORT_ACCESS_DENIED",
                                     "Atlas could not write to the bucket.")))
            f.export_jobs[(gid, name)] = ListSource(exports)

    for gid in group_ids:
        for doc in f.flex[gid]:
            if doc["name"] in DEMO_UNTESTED:
                continue
            snaps = f.flex_snaps[(gid, doc["name"])].items
            t = DEMO_NOW - rng.randrange(2, 40) * DAY
            f.flex_restore_jobs[(gid, doc["name"])] = ListSource([
                flex_restore_job(ids(), snaps[-1]["id"], gid, doc["name"],
                                 doc["name"], iso(t), "COMPLETED")],
                time_field="restoreScheduledDate")

    f.compliance[group_ids[0]] = compliance_doc(
        group_ids[0], "ACTIVE", "backup-owner@example.com", "Rosa",
        "Lindqvist",
        [policy_item(ids(), "daily", 1, "days", 30),
         policy_item(ids(), "monthly", 1, "months", 12)], restore_days=7,
        updated=iso(DEMO_NOW - 200 * DAY))
    f.compliance[group_ids[2]] = compliance_doc(
        group_ids[2], "ENABLING", "data-governance@example.com", "Ade",
        "Okafor", [policy_item(ids(), "daily", 1, "days", 14)],
        updated=iso(DEMO_NOW - HOUR))


DEMO_PEOPLE = [("maria.silva@example.com", "5f1a0000000000000000d001"),
               ("kenji.sato@example.com", "5f1a0000000000000000d002"),
               ("ops-bot", None)]
DEMO_KEY = ("5f1b0000000000000000d001", "tfplanok")


def _demo_events(f, group_ids):
    """The demo fleet's project events of the 60 days before DEMO_NOW,
    newest first, from their own random.Random(DEMO_SEED + 27) (the rest
    of the fleet is as without them): a CPS_SNAPSHOT_FAILED for every
    failed snapshot, snapshot deletions, retention and schedule changes
    (of the DEMO_SCHEDULE_OVERRIDES clusters), compliance-policy changes
    (payments-platform updated, analytics-warehouse being enabled), failed
    restores of the DEMO_FAILED_RESTORE clusters, and some routine events."""
    rng = random.Random(DEMO_SEED + 27)
    counter = [0]
    org_names = {g["id"]: g["name"] for g in f.groups}

    def ev(gid, when, etype, cluster=None, who=None, **extra):
        counter[0] += 1
        user = api_key = None
        if who == "key":
            api_key = DEMO_KEY
        elif who:
            user = (who[0], who[1] or "5f1a0000000000000000d0ff")
        return event_doc("6e0d%020x" % counter[0], iso(when), etype, gid,
                         cluster=cluster, user=user, api_key=api_key, **extra)

    def person():
        return rng.choice(DEMO_PEOPLE[:2])

    start = DEMO_NOW - 60 * DAY
    for gid in group_ids:
        events = []
        names = [c["name"] for c in f.clusters[gid]]
        for (g, name), src in list(f.replica_snaps.items()) + \
                list(f.sharded_snaps.items()):
            if g != gid:
                continue
            for item in src.items:
                t = epoch(item["createdAt"])
                if t < start:
                    continue
                if item.get("status") == "failed":
                    events.append(ev(gid, t + 300, "CPS_SNAPSHOT_FAILED", name))
                elif t > DEMO_NOW - 2 * DAY and rng.random() < 0.3:
                    events.append(ev(gid, t + 240, "CPS_SNAPSHOT_SUCCESSFUL",
                                     name))
        backed = [n for n in names if (gid, n) in f.replica_snaps]
        for _ in range(rng.randrange(2, 5)):
            if not backed:
                break
            name = rng.choice(backed)
            events.append(ev(gid, DEMO_NOW - rng.randrange(1 * HOUR, 50 * DAY),
                             "CPS_SNAPSHOT_DELETED_AUDIT", name,
                             rng.choice([person(), "key"])))
        for name in names:
            if name in DEMO_SCHEDULE_OVERRIDES:
                when = DEMO_NOW - rng.randrange(2 * DAY, 20 * DAY)
                who = person()
                events.append(ev(gid, when, "CPS_SNAPSHOT_SCHEDULE_UPDATED_AUDIT",
                                 name, who))
                events.append(ev(gid, when + 60,
                                 "CPS_SNAPSHOT_RETENTION_MODIFIED_AUDIT",
                                 name, who))
            if name in DEMO_FAILED_RESTORE:
                for _ in range(2):
                    when = DEMO_NOW - rng.randrange(1 * DAY, 40 * DAY)
                    events.append(ev(gid, when, "CPS_RESTORE_REQUESTED_AUDIT",
                                     name, "key"))
                    events.append(ev(gid, when + 1800, "CPS_RESTORE_FAILED",
                                     name))
        pname = org_names[gid]
        if pname == "payments-platform":
            when = DEMO_NOW - 18 * DAY - rng.randrange(0, DAY)
            events.append(ev(gid, when, "CPS_DATA_PROTECTION_UPDATE_REQUESTED",
                             who=DEMO_PEOPLE[0]))
            events.append(ev(gid, when + 2 * DAY, "CPS_DATA_PROTECTION_UPDATED"))
        elif pname == "analytics-warehouse":
            events.append(ev(gid, DEMO_NOW - 4 * DAY - rng.randrange(0, DAY),
                             "CPS_DATA_PROTECTION_ENABLE_REQUESTED",
                             who=DEMO_PEOPLE[1]))
        for _ in range(rng.randrange(3, 8)):
            events.append(ev(gid, DEMO_NOW - rng.randrange(HOUR, 60 * DAY),
                             rng.choice(("CLUSTER_MUTATED", "JOINED_GROUP",
                                         "CPS_ON_DEMAND_SNAPSHOT_REQUESTED")),
                             rng.choice(names) if names else None, person()))
        events.sort(key=lambda e: (e["created"], e["id"]), reverse=True)
        f.group_events[gid] = events
    f.orgs[0]["name"] = "acme-corp"
    f.org_events[ORG_ID] = [
        event_doc("6e0d%020x" % 0xf01, iso(DEMO_NOW - 3 * DAY), "JOINED_ORG",
                  user=DEMO_PEOPLE[1]),
    ]


def build_wide_fleet(clusters=100):
    """The test fleet, plus 100 dedicated clusters n1 .. n100 (synthetic
    snapshot lists: nK has K snapshots; REPLICASET, backup enabled) in the
    inventory of analytics-project (G3): a project of many clusters, for
    bench/joins.sh.  With more than 100 ``clusters`` (the mock's
    --wide-clusters), clusters w101 .. wN of one snapshot each follow, for
    fleet-scale organization-wide scans (bench/budget.py)."""
    f = build_test_fleet()
    f.name = "wide"
    f.clusters[G3] = [cluster_doc(G3, _cid(G3, i), "n%d" % i,
                                  created="2024-06-01T00:00:00Z")
                      for i in range(1, 101)]
    for i in range(101, clusters + 1):
        name = "w%d" % i
        f.clusters[G3].append(cluster_doc(G3, _cid(G3, i), name,
                                          created="2024-06-01T00:00:00Z"))
        f.replica_snaps[(G3, name)] = SyntheticSource(G3, name, 1)
    return f.finish()


# ---------------------------------------------------------------------------
# Variants of a fleet, switched on at run time (POST /_mock/variant) and off
# again by POST /_mock/reset, so that the outputs of the other tests stay
# as they are
# ---------------------------------------------------------------------------

G4 = "7c4e1d2a9b3f5e6d7a8b9c0d"
G5 = "8d5f2e3b0c4a6f7e8b9c0d1e"
VARIANT_KEYS = {"untyped", "wide", "projects", "retained"}


def deleted_cluster_doc(gid, cid, name, **kwargs):
    """A deleted cluster that still holds backups, as
    includeDeletedWithRetainedBackups=true lists it: the spec does not say
    how such a cluster is marked; it carries retainBackups true (the flag
    it was deleted with) and backupEnabled false, and no stateName (the
    spec's enum has no deleted state)."""
    doc = cluster_doc(gid, cid, name, backup=False, **kwargs)
    doc["retainBackups"] = True
    doc["terminationProtectionEnabled"] = False
    del doc["stateName"]
    return doc


def add_retained_project(f):
    """retired-project (G5): one live cluster and two deleted ones that
    still hold backups, listed only with includeDeletedWithRetainedBackups:

        live-rs        REPLICASET, live        1 replica-set snapshot
                                               6a7f00000000000000000001
        gone-rs        REPLICASET, deleted     3 replica-set snapshots
                                               6a7f0000000000000000001{1,2,3}
        gone-sh        SHARDED, deleted        1 sharded snapshot
                                               6a7f000000000000000000a1

    Replica-set snapshots: createdAt 2026-10-01T00:00:00Z minus k days,
    expiresAt one year later, completed, monthly, storageSizeBytes
    2000 + k."""
    f.add_group(group_doc(G5, "retired-project", "2024-01-20T10:00:00Z", 0))
    f.clusters[G5] = [cluster_doc(G5, _cid(G5, 1), "live-rs",
                                  created="2024-07-01T00:00:00Z")]
    f.deleted[G5] = [
        deleted_cluster_doc(G5, _cid(G5, 2), "gone-rs",
                            created="2024-03-01T00:00:00Z"),
        deleted_cluster_doc(G5, _cid(G5, 3), "gone-sh", cluster_type="SHARDED",
                            shards=2, created="2024-03-02T00:00:00Z"),
    ]

    def replica(k, sid, name):
        created = iso(epoch("2026-10-01T00:00:00Z") - k * DAY)
        return {"cloudProvider": "AWS", "copyRegions": [],
                "createdAt": created,
                "expiresAt": iso(epoch(created) + 365 * DAY),
                "frequencyType": "monthly", "id": sid,
                "mongodVersion": "7.0.14", "policyItems": [POLICY_ITEM],
                "replicaSetName": name, "snapshotType": "scheduled",
                "status": "completed", "storageSizeBytes": 2000 + k,
                "type": "replicaSet"}

    f.replica_snaps[(G5, "live-rs")] = ListSource(
        [replica(0, "6a7f%020x" % 1, "live-rs")])
    f.replica_snaps[(G5, "gone-rs")] = ListSource(
        [replica(k, "6a7f%020x" % (0x11 + k), "gone-rs") for k in range(3)])
    members = [{"cloudProvider": "AWS", "id": "6a7f00000000000000000%da1" % (i + 1),
                "replicaSetName": rs}
               for i, rs in enumerate(("gone-sh-shard-0", "gone-sh-config-0"))]
    f.sharded_snaps[(G5, "gone-sh")] = ListSource([{
        "configServerType": "EMBEDDED", "createdAt": "2026-09-15T00:00:00Z",
        "expiresAt": "2027-09-15T00:00:00Z", "frequencyType": "monthly",
        "id": "6a7f000000000000000000a1", "members": members,
        "mongodVersion": "7.0.14", "policyItems": [POLICY_ITEM],
        "snapshotIds": [m["id"] for m in members], "snapshotType": "scheduled",
        "status": "completed", "storageSizeBytes": 5000000000,
        "type": "shardedCluster"}])


def add_untyped_project(f):
    """legacy-project (G4), whose dedicated clusters' inventory items leave
    out optional fields (clusterType is optional in the spec):

        untyped-rs     no clusterType          2 replica-set snapshots
                                               6a6f0000000000000000000{1,2}
        untyped-sh     no clusterType          1 sharded snapshot
                                               6a6f000000000000000000a1
        future-1       clusterType FUTURE_TOPOLOGY  1 replica-set snapshot
                                               6a6f00000000000000000003
        typed-rs       REPLICASET              1 replica-set snapshot
                                               6a6f00000000000000000004
        unflagged-1    no clusterType, no backupEnabled  1 replica-set
                                               snapshot 6a6f00000000000000000005
        off-1          REPLICASET, backupEnabled false, no snapshots

    Replica-set snapshots: createdAt 2026-11-01T00:00:00Z minus k days,
    completed, daily, storageSizeBytes 1000 + k (k = last digit - 1)."""
    f.add_group(group_doc(G4, "legacy-project", "2024-01-18T10:00:00Z", 0))
    docs = []
    for i, (name, ctype, backup) in enumerate((
            ("untyped-rs", None, True), ("untyped-sh", None, True),
            ("future-1", "FUTURE_TOPOLOGY", True), ("typed-rs", "REPLICASET", True),
            ("unflagged-1", None, None), ("off-1", "REPLICASET", False))):
        doc = cluster_doc(G4, _cid(G4, i + 1), name,
                          cluster_type=ctype or "REPLICASET",
                          backup=bool(backup), created="2024-07-01T00:00:00Z")
        if ctype is None:
            del doc["clusterType"]
        elif ctype != "REPLICASET":
            doc["clusterType"] = ctype
        if backup is None:
            del doc["backupEnabled"]
        docs.append(doc)
    f.clusters[G4] = docs

    def replica(k, name):
        created = iso(epoch("2026-11-01T00:00:00Z") - k * DAY)
        return {"cloudProvider": "AWS", "copyRegions": [],
                "createdAt": created, "expiresAt": iso(epoch(created) + 7 * DAY),
                "frequencyType": "daily", "id": "6a6f%020x" % (k + 1),
                "mongodVersion": "7.0.14", "policyItems": [POLICY_ITEM],
                "replicaSetName": name, "snapshotType": "scheduled",
                "status": "completed", "storageSizeBytes": 1000 + k,
                "type": "replicaSet"}

    f.replica_snaps[(G4, "untyped-rs")] = ListSource(
        [replica(0, "untyped-rs"), replica(1, "untyped-rs")])
    f.replica_snaps[(G4, "future-1")] = ListSource([replica(2, "future-1")])
    f.replica_snaps[(G4, "typed-rs")] = ListSource([replica(3, "typed-rs")])
    f.replica_snaps[(G4, "unflagged-1")] = ListSource([replica(4, "unflagged-1")])
    members = [{"cloudProvider": "AWS", "id": "6a6f00000000000000000%da1" % (i + 1),
                "replicaSetName": rs}
               for i, rs in enumerate(("untyped-sh-shard-0", "untyped-sh-config-0"))]
    f.sharded_snaps[(G4, "untyped-sh")] = ListSource([{
        "configServerType": "EMBEDDED", "createdAt": "2026-11-01T00:00:00Z",
        "expiresAt": "2026-11-08T00:00:00Z", "frequencyType": "daily",
        "id": "6a6f000000000000000000a1", "members": members,
        "mongodVersion": "7.0.14", "policyItems": [POLICY_ITEM],
        "snapshotIds": [m["id"] for m in members], "snapshotType": "scheduled",
        "status": "completed", "storageSizeBytes": 4000000000,
        "type": "shardedCluster"}])


def add_variant(f, variant):
    """Apply a variant to fleet ``f`` (built afresh): "untyped" adds
    legacy-project (add_untyped_project); "wide" lists clusters n1 .. n100
    in analytics-project (G3), as the wide fleet does; "projects": N adds N
    empty projects (ids bf00...0001 upwards, names many-N); "retained" adds
    retired-project (add_retained_project)."""
    unknown = set(variant) - VARIANT_KEYS
    if unknown:
        raise ValueError("unknown variant keys: %s" % ", ".join(sorted(unknown)))
    if variant.get("wide") and f.has_group(G3):
        f.clusters[G3] = [cluster_doc(G3, _cid(G3, i), "n%d" % i,
                                      created="2024-06-01T00:00:00Z")
                          for i in range(1, 101)]
    if variant.get("untyped"):
        add_untyped_project(f)
    if variant.get("retained"):
        add_retained_project(f)
    for i in range(int(variant.get("projects", 0))):
        f.add_group(group_doc("bf%022x" % (i + 1), "many-%d" % (i + 1),
                              "2024-01-19T10:00:00Z", 0))
    return f.finish()


def build_fleet(name, legacy_tenant=False, wide_clusters=100):
    """Build the fleet called ``name`` ("test", "wide" or "demo"); the wide
    fleet's analytics-project lists ``wide_clusters`` clusters."""
    if name == "test":
        return build_test_fleet(legacy_tenant)
    if name == "wide":
        return build_wide_fleet(wide_clusters)
    if name == "demo":
        fleet = build_demo_fleet()
        if legacy_tenant:
            # reuse the test fleet's legacy tenant cluster under project 1
            gid = fleet.groups[0]["id"]
            base = DEMO_NOW - 6 * HOUR
            fleet.tenant_snaps[(gid, "m2-legacy")] = ListSource([
                flex_snapshot("6a5f000000000000000000d1", base, version="7.0.14"),
                flex_snapshot("6a5f000000000000000000d2", base - DAY,
                              version="7.0.14"),
            ], time_field="scheduledTime")
        return fleet
    raise ValueError("unknown fleet %r (expected test or demo)" % name)
