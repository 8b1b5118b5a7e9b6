#!/usr/bin/env python3
"""
Mock MongoDB Atlas Administration API (v2) for the atlas_snapshot_fdw tests.

Python 3.11 standard library only.  Serves the snapshot and inventory GET
operations of /work/shared/atlas-api/README.md section 3 from the
deterministic data in fleet.py, with real HTTP Digest and OAuth 2.0
client-credentials authentication, an in-memory request log and an
injectable fault queue.

Usage:

    python3 test/mock_atlas.py [--host 127.0.0.1] [--port 18443]
        [--fleet test|demo] [--public-key mockpublic]
        [--private-key mock-private-key-3f9a] [--client-id mdb_sa_id_mock]
        [--client-secret mdb_sa_sk_mock-secret] [--latency-ms 0]
        [--token-ttl 3600] [--nonce-uses 1000] [--legacy-tenant]
        [--rate-limit 1000000] [--token-bucket 0] [--refill-per-sec 50]
        [--token-limit -1]
        [--no-rate-headers] [--extra-groups 0] [--wide-clusters 100]
        [--tls-cert FILE --tls-key FILE] [--verbose]

--token-bucket N answers authorized API requests as a token bucket of N
tokens refilled at --refill-per-sec tokens a second (Atlas's rate limit):
a request finding it empty gets 429 RATE_LIMITED with Retry-After in whole
seconds (until a token is there, at least 1); answers carry RateLimit-Limit
(N) and RateLimit-Remaining (tokens left) unless --no-rate-headers.
Without --token-bucket the RateLimit headers count a 60 s window of
--rate-limit requests, never enforced.  --extra-groups N adds N empty
projects (ids be00...0001 upwards), in which synthetic nN clusters exist,
for fleet-scale simulations (bench/adaptive.sh).  --wide-clusters N (with
--fleet wide) lists N clusters in analytics-project: n1 .. n100, then
w101 .. wN of one snapshot each (bench/budget.py).

--port defaults to $ATLAS_MOCK_PORT, else 18443; --port 0 picks a free
port.  Once the socket listens, exactly one line is printed to stdout:
"mock atlas listening on http://HOST:PORT" (https:// with --tls-cert and
--tls-key, which serve TLS with that certificate chain and key).

API (all GET, under /api/atlas/v2, Digest or Bearer auth):

    /groups                                                    2023-01-01
    /groups/{g}/clusters                                       2024-08-05
        (with includeDeletedWithRetainedBackups=true also the fleet's
        deleted clusters that still hold backups; their snapshot
        endpoints answer as a live cluster's)
    /groups/{g}/clusters/{c}/backup/snapshots                  2023-01-01
    /groups/{g}/clusters/{c}/backup/snapshots/{id}             2023-01-01
    /groups/{g}/clusters/{c}/backup/snapshots/shardedClusters  2023-01-01
    /groups/{g}/clusters/{c}/backup/snapshots/shardedCluster/{id}
    /groups/{g}/clusters/{c}/backup/tenant/snapshots[/{id}]    404 (removed)
                                       unless --legacy-tenant: 2023-01-01
    /groups/{g}/serverless                                     2023-01-01
    /groups/{g}/serverless/{c}/backup/snapshots[/{id}]         2023-01-01
    /groups/{g}/flexClusters                                   2024-11-13
    /groups/{g}/flexClusters/{n}/backup/snapshots[/{id}]       2024-11-13
    /groups/{g}/clusters/{c}/backup/schedule                   2024-08-05
    /groups/{g}/clusters/{c}/backup/restoreJobs[/{id}]         2023-01-01
    /groups/{g}/flexClusters/{n}/backup/restoreJobs[/{id}]     2024-11-13
    /groups/{g}/clusters/{c}/backup/exports[/{id}]             2023-01-01
    /groups/{g}/backup/exportBuckets[/{id}]                    2024-05-30
    /groups/{g}/backupCompliancePolicy                         2023-10-01
    /groups/{g}/clusters/{c}/collectionRestoreJobs[/{id}]      2025-03-12
    /groups/{g}/clusters/{c}/backup/snapshots/{id}/databases[/{db}]
                                                               2025-03-12
    /groups/{g}/clusters/{c}/backup/snapshots/{id}/databases/{db}/collections[/{coll}]
                                                               2025-03-12
    /rateLimits  (groupId, orgId, userId, ipAddress, name)     2025-03-12

    POST /api/oauth/token    Basic client_id:client_secret,
                             grant_type=client_credentials
    POST /api/oauth/revoke   Basic auth, token=...

Request processing order for /api/atlas/v2: authentication (401) ->
fault queue -> routing (404 RESOURCE_NOT_FOUND, 405) -> path parameter
regexes (400 VALIDATION_ERROR) -> Accept header (406
INVALID_VERSION_DATE) -> query parameters (400 VALIDATION_ERROR) ->
project (404 GROUP_NOT_FOUND) -> cluster (404 CLUSTER_NOT_FOUND / 400
CANNOT_USE_*) -> snapshot (404 SNAPSHOT_NOT_FOUND).

Control API (no auth, never logged):

    POST /_mock/reset            clear request log, fault queue and stats,
                                 and serve the fleet as started again
                                 (answers to requests that arrived before
                                 it are not logged)
    POST /_mock/variant          serve the fleet with a variant (JSON body,
                                 fleet.add_variant: {"untyped": true,
                                 "wide": true, "projects": N,
                                 "retained": true}) until the
                                 next reset
    GET  /_mock/log              request log, text/plain, one line each:
                                 "STATUS METHOD PATH?QUERY" (target as sent)
    GET  /_mock/log?authorized=1 only lines whose status is not 401
    GET  /_mock/log?times=1      each line prefixed with the milliseconds
                                 (since the server started) at which the
                                 request arrived and its answer was sent:
                                 "ARRIVED ANSWERED STATUS METHOD PATH?QUERY"
    POST /_mock/fault            queue a fault (JSON body, see FAULT_KINDS)
    GET  /_mock/faults           pending faults (JSON)
    POST /_mock/revoke-tokens    invalidate every issued OAuth token
    GET  /_mock/issued-tokens    every token issued so far, one a line (for
                                 the test that no token leaks into logs)
    POST /_mock/token-limit      {"limit": N}: at most N active OAuth
                                 tokens (issued, not expired, not revoked);
                                 over it the token endpoint answers 403
                                 access_denied "Access Token limit
                                 reached. ..." as Atlas does (-1 or null:
                                 no limit; --token-limit, until the next
                                 reset)
    GET  /_mock/stats            JSON counters (token_requests: requests
                                 to the token endpoint, whatever their
                                 answer; tokens_issued: 200 answers)

Fault body: {"match": "<regex searched in PATH?QUERY>", "count": 1,
"kind": "<kind>", ...options}.  count < 0 means "until reset".  The first
queued fault whose regex matches an *authorized* API request (or a token
request with valid client credentials) consumes one count and replaces the
normal answer.  Kinds and options:

    status        status (500), errorCode, detail, retry_after (Retry-After:
                  seconds, or a string sent as it is), retry_after_date
                  (Retry-After as an HTTP-date this many seconds from now),
                  repeat (the detail this many times over)
    html          status (502): text/html error page
    invalid_json  200 with a body that is not JSON
    wrong_shape   200 {"results": {"not": "an array"}, "totalCount": 1}
    wrong_type    200 normal page, first item's storageSizeBytes = "lots"
    truncated     200, Content-Length N, only N/2 bytes sent, then close
    reset         close the socket without a response (RST; "graceful":
                  true closes with FIN instead); logged with status 000
    stall         sleep "seconds" (30), then answer normally
    slow_body     normal answer, body in "chunk_bytes" (256) pieces with
                  "delay_ms" (200) between them
    redirect      302 to "location" (http://127.0.0.1:1/redirect-target)
    big           200 valid page, first item's description padded so the
                  body is "bytes" long (64 MiB), streamed
    gone          410 VERSION_GONE
    ignore_page_num  the normal answer for pageNum=1, whatever pageNum says
                  (a server that ignores pageNum); with "cycle" N (1), the
                  answer for page (pageNum - 1) mod N + 1: pages 1..N over
                  and over (a server whose paging wraps around)
    gzip          the normal answer, gzip-compressed (Content-Encoding) if
                  the request's Accept-Encoding offers gzip, else plain;
                  counted in the stats as gzip_sent / gzip_not_offered
    token         (token endpoint) a normal token answer whose token lives
                  only "expires_in" seconds
    rate_headers  the normal answer, with RateLimit-Remaining "remaining"
                  (0) and RateLimit-Limit "limit" (--rate-limit)
    deprecation   the normal answer, with headers Deprecation "deprecation"
                  (Mon, 5 Aug 2024 00:00:00 GMT) and Sunset "sunset" (Thu, 1
                  Jul 2027 00:00:00 GMT), as Atlas sends for a deprecated
                  version; null leaves a header out
    (any kind)    "wait_ms": sleep that long before answering
    raw           status (200) with exactly the bytes of "body_b64" (base64)
                  or the UTF-8 of "body", typed as an Atlas document (for
                  malformed JSON)
    huge_headers  normal answer with "bytes" (131072) of extra headers, in
                  lines of about 1 kB
    many_items    200 list page of "items" (10,000,000) copies of "item"
                  ({}), valid JSON, streamed (a page costly to parse)

Any kind also takes "wait_ms": sleep that long before answering (the
request is authenticated, and the fault taken, on arrival).
"""

import argparse
import base64
import collections
import gzip
import hashlib
import hmac
import http
import http.server
import json
import os
import re
import secrets
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleet as fleetmod  # noqa: E402

API = "/api/atlas/v2"
REALM = "MMS Public API"

GROUP_RE = re.compile(r"^([a-f0-9]{24})$")
NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*$")
SNAPSHOT_RE = GROUP_RE
INT64_RE = re.compile(r"^-?[0-9]{1,19}$")
ANY_RE = re.compile(r"^.+$", re.S)     # databaseName, collectionName

V_2023 = "2023-01-01"
V_CLUSTERS = "2024-08-05"
V_FLEX = "2024-11-13"
V_BUCKETS = "2024-05-30"
V_COMPLIANCE = "2023-10-01"
V_CONTENTS = "2025-03-12"   # collection restores, snapshot contents
V_RATE_LIMITS = "2025-03-12"

CLUSTER_REL = "http://mms.mongodb.com/cluster"

FAULT_KINDS = {"many_items", "status", "html", "invalid_json", "raw", "wrong_shape", "wrong_type",
               "truncated", "reset", "stall", "slow_body", "redirect", "big",
               "gone", "huge_headers"}

DEFAULT_ERROR_CODES = {
    400: "VALIDATION_ERROR", 401: "UNAUTHORIZED", 403: "FORBIDDEN",
    404: "RESOURCE_NOT_FOUND", 409: "CONFLICT", 410: "VERSION_GONE",
    429: "RATE_LIMITED", 500: "UNEXPECTED_ERROR", 502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT",
}

# faults for the README's promises (sql/promises.sql)
FAULT_KINDS = FAULT_KINDS | {"ignore_page_num", "gzip", "token"}
# the rate limit an answer tells of (sql/pacing.sql)
FAULT_KINDS = FAULT_KINDS | {"rate_headers"}
# the API's calendar (sql/calendar.sql): what a deprecated version's
# answers carry (backup-extras.md, the schedule's 2023-01-01 version)
FAULT_KINDS = FAULT_KINDS | {"deprecation"}
DEPRECATION_SAMPLE = "Mon, 5 Aug 2024 00:00:00 GMT"
SUNSET_SAMPLE = "Thu, 1 Jul 2027 00:00:00 GMT"

# the token endpoint's answer over the active-token limit (limits.md 1.2)
TOKEN_LIMIT_TEXT = ("Access Token limit reached. Please use the existing "
                    "Access Tokens or create a new Service Account.")

GONE_DETAIL = ("This happens when a resource is marked for sunset and the "
               "sunset date is in the past.")

HTML_PAGE = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
             b"<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
             b"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")

INVALID_JSON = (b'{"links":[],"results":[{"id":"6a1f00000000000000000001",'
                b'"status":completed,"storageSizeBytes":12')

PAD_MARKER = "@@MOCK_PAD@@"


def reason(status):
    """HTTP reason phrase of ``status``."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# ---------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------

class Reply:
    """A complete HTTP answer before it is written.

    ``doc`` keeps the JSON document of successful API answers so that
    faults (wrong_type, big) can alter it.
    """

    def __init__(self, status, body=b"", ctype="application/json",
                 headers=None, doc=None):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = list(headers or [])
        self.doc = doc


def json_bytes(doc, pretty=False):
    if pretty:
        return json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")
    return json.dumps(doc, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def error_reply(status, code, detail, headers=None):
    """An Atlas ApiError body: {detail, error, errorCode, reason}."""
    doc = {"detail": detail, "error": status, "errorCode": code,
           "reason": reason(status)}
    return Reply(status, json_bytes(doc), "application/json", headers)


def vendor_type(version):
    return "application/vnd.atlas.%s+json;charset=utf-8" % version


# ---------------------------------------------------------------------------
# Shared server state
# ---------------------------------------------------------------------------

class State:
    """Everything mutable, guarded by one lock: request log, fault queue,
    Digest nonces, OAuth tokens, counters and the rate-limit window."""

    MAX_NONCES = 20000

    def __init__(self, args, fleet, build_fleet=None):
        self.args = args
        self.fleet = fleet
        self.variant = {}
        self.build_fleet = build_fleet or (lambda variant: fleet)
        self.lock = threading.Lock()
        self.log = []
        self.times = []                           # (arrived, answered) per line
        self.started = time.monotonic()
        self.reset_at = self.started
        self.faults = []
        self.nonces = collections.OrderedDict()  # nonce -> [uses, set(nc)]
        self.tokens = {}                          # token -> expiry (monotonic)
        self.issued = []                          # every token ever issued
        self.stats = collections.Counter()
        self.window = collections.deque()         # times of API answers
        self.bucket = float(args.token_bucket)    # tokens (--token-bucket)
        self.bucket_at = time.monotonic()
        self.tls = threading.local()              # this request's Remaining
        self.token_limit = args.token_limit       # active tokens (-1: any)

    # -- request log -------------------------------------------------------

    def record(self, status, method, target, arrived=None):
        """Log one answer; not if its request arrived before the last
        reset (a stalled answer belongs to the test that caused it)."""
        with self.lock:
            now = time.monotonic()
            if arrived is not None and arrived < self.reset_at:
                return
            self.log.append("%03d %s %s" % (status, method, target))
            self.times.append((arrived if arrived is not None else now, now))

    def set_variant(self, variant):
        """Serve the fleet built afresh with ``variant`` (fleet.add_variant);
        {} is the fleet as started."""
        fleet = self.build_fleet(variant)
        with self.lock:
            self.fleet = fleet
            self.variant = dict(variant)

    def reset(self):
        if self.variant:
            self.set_variant({})
        with self.lock:
            self.reset_at = time.monotonic()
            self.log.clear()
            self.times.clear()
            self.faults.clear()
            self.stats.clear()
            self.window.clear()
            self.token_limit = self.args.token_limit

    # -- faults --------------------------------------------------------------

    def add_fault(self, fault):
        with self.lock:
            self.faults.append(fault)
            return len(self.faults)

    def take_fault(self, target):
        """Consume one count of the first matching fault; return it."""
        with self.lock:
            for i, fault in enumerate(self.faults):
                if fault["_re"].search(target):
                    if fault["count"] > 0:
                        fault["count"] -= 1
                        if fault["count"] == 0:
                            del self.faults[i]
                    self.stats["faults_applied"] += 1
                    return fault
        return None

    # -- Digest nonces -------------------------------------------------------

    def new_nonce(self):
        nonce = base64.b64encode(secrets.token_bytes(24)).decode("ascii")
        with self.lock:
            self.nonces[nonce] = [0, set()]
            while len(self.nonces) > self.MAX_NONCES:
                self.nonces.popitem(last=False)
            self.stats["challenges"] += 1
        return nonce

    def use_nonce(self, nonce, nc):
        """Count one authorized use: "ok", "stale" or "replay"."""
        with self.lock:
            entry = self.nonces.get(nonce)
            if entry is None or entry[0] >= self.args.nonce_uses:
                return "stale"
            if nc in entry[1]:
                return "replay"
            entry[0] += 1
            entry[1].add(nc)
            return "ok"

    # -- OAuth tokens --------------------------------------------------------

    def token_limit_reached(self):
        """Whether the active tokens (not expired, not revoked) are at
        the token limit (POST /_mock/token-limit)."""
        with self.lock:
            if self.token_limit is None or self.token_limit < 0:
                return False
            now = time.monotonic()
            return sum(1 for e in self.tokens.values() if e > now) >= self.token_limit

    def issue_token(self, ttl=None):
        token = secrets.token_urlsafe(32)
        with self.lock:
            now = time.monotonic()
            for t, exp in list(self.tokens.items()):     # drop expired ones
                if exp <= now:
                    del self.tokens[t]
            self.tokens[token] = now + (self.args.token_ttl if ttl is None
                                        else ttl)
            self.issued.append(token)
            self.stats["tokens_issued"] += 1
        return token

    def token_valid(self, token):
        with self.lock:
            exp = self.tokens.get(token)
        return exp is not None and time.monotonic() < exp

    def revoke(self, token=None):
        with self.lock:
            if token is None:
                n = len(self.tokens)
                self.tokens.clear()
                return n
            return 1 if self.tokens.pop(token, None) else 0

    # -- rate-limit headers --------------------------------------------------

    def take_token(self):
        """Token-bucket mode: take a token for one request.  Returns None
        if one was there, else the whole seconds until one is."""
        cap = self.args.token_bucket
        rate = self.args.refill_per_sec
        with self.lock:
            now = time.monotonic()
            self.bucket = min(cap, self.bucket + (now - self.bucket_at) * rate)
            self.bucket_at = now
            if self.bucket >= 1:
                self.bucket -= 1
                self.tls.remaining = int(self.bucket)
                self.stats["bucket_ok"] += 1
                return None
            self.tls.remaining = 0
            self.stats["bucket_429"] += 1
            return max(1, int(-(-(1 - self.bucket) // rate)))

    def rate_headers(self):
        """RateLimit-Limit / RateLimit-Remaining: of the token bucket, or
        over a 60 s window; none with --no-rate-headers."""
        if self.args.no_rate_headers:
            return []
        if self.args.token_bucket > 0:
            return [("RateLimit-Limit", str(self.args.token_bucket)),
                    ("RateLimit-Remaining",
                     str(getattr(self.tls, "remaining", 0)))]
        limit = self.args.rate_limit
        with self.lock:
            now = time.monotonic()
            self.window.append(now)
            while self.window and self.window[0] < now - 60:
                self.window.popleft()
            remaining = max(0, limit - len(self.window))
        return [("RateLimit-Limit", str(limit)),
                ("RateLimit-Remaining", str(remaining))]


# ---------------------------------------------------------------------------
# Routing table
# ---------------------------------------------------------------------------

# (path segments after /api/atlas/v2, Accept version, handler method name).
# "{g}", "{c}", "{id}" are parameters; literal routes come before "{id}".
ROUTES = [
    (("groups",), V_2023, "op_list_groups"),
    (("groups", "{g}", "clusters"), V_CLUSTERS, "op_list_clusters"),
    (("groups", "{g}", "clusters", "{c}", "backup", "snapshots"),
     V_2023, "op_list_replica"),
    (("groups", "{g}", "clusters", "{c}", "backup", "snapshots",
      "shardedClusters"), V_2023, "op_list_sharded"),
    (("groups", "{g}", "clusters", "{c}", "backup", "snapshots",
      "shardedCluster", "{id}"), V_2023, "op_get_sharded"),
    (("groups", "{g}", "clusters", "{c}", "backup", "snapshots", "{id}"),
     V_2023, "op_get_replica"),
    (("groups", "{g}", "clusters", "{c}", "backup", "tenant", "snapshots"),
     V_2023, "op_list_tenant"),
    (("groups", "{g}", "clusters", "{c}", "backup", "tenant", "snapshots",
      "{id}"), V_2023, "op_get_tenant"),
    (("groups", "{g}", "serverless"), V_2023, "op_list_serverless"),
    (("groups", "{g}", "serverless", "{c}", "backup", "snapshots"),
     V_2023, "op_list_serverless_snaps"),
    (("groups", "{g}", "serverless", "{c}", "backup", "snapshots", "{id}"),
     V_2023, "op_get_serverless_snap"),
    (("groups", "{g}", "flexClusters"), V_FLEX, "op_list_flex"),
    (("groups", "{g}", "flexClusters", "{c}", "backup", "snapshots"),
     V_FLEX, "op_list_flex_snaps"),
    (("groups", "{g}", "flexClusters", "{c}", "backup", "snapshots", "{id}"),
     V_FLEX, "op_get_flex_snap"),
    # backup extras
    (("groups", "{g}", "clusters", "{c}", "backup", "schedule"),
     V_CLUSTERS, "op_get_schedule"),
    (("groups", "{g}", "clusters", "{c}", "backup", "restoreJobs"),
     V_2023, "op_list_restores"),
    (("groups", "{g}", "clusters", "{c}", "backup", "restoreJobs", "{id}"),
     V_2023, "op_get_restore"),
    (("groups", "{g}", "flexClusters", "{c}", "backup", "restoreJobs"),
     V_FLEX, "op_list_flex_restores"),
    (("groups", "{g}", "flexClusters", "{c}", "backup", "restoreJobs", "{id}"),
     V_FLEX, "op_get_flex_restore"),
    (("groups", "{g}", "clusters", "{c}", "backup", "exports"),
     V_2023, "op_list_exports"),
    (("groups", "{g}", "clusters", "{c}", "backup", "exports", "{id}"),
     V_2023, "op_get_export"),
    (("groups", "{g}", "backup", "exportBuckets"), V_BUCKETS,
     "op_list_buckets"),
    (("groups", "{g}", "backup", "exportBuckets", "{id}"), V_BUCKETS,
     "op_get_bucket"),
    (("groups", "{g}", "backupCompliancePolicy"), V_COMPLIANCE,
     "op_get_compliance"),
    # collection restores and snapshot contents
    (("groups", "{g}", "clusters", "{c}", "collectionRestoreJobs"),
     V_CONTENTS, "op_list_coll_restores"),
    (("groups", "{g}", "clusters", "{c}", "collectionRestoreJobs", "{id}"),
     V_CONTENTS, "op_get_coll_restore"),
    (("groups", "{g}", "clusters", "{c}", "backup", "snapshots", "{id}",
      "databases"), V_CONTENTS, "op_list_snap_databases"),
    (("groups", "{g}", "clusters", "{c}", "backup", "snapshots", "{id}",
      "databases", "{db}"), V_CONTENTS, "op_get_snap_database"),
    (("groups", "{g}", "clusters", "{c}", "backup", "snapshots", "{id}",
      "databases", "{db}", "collections"), V_CONTENTS,
     "op_list_snap_collections"),
    (("groups", "{g}", "clusters", "{c}", "backup", "snapshots", "{id}",
      "databases", "{db}", "collections", "{coll}"), V_CONTENTS,
     "op_get_snap_collection"),
    # events and organizations
    (("groups", "{g}", "events"), V_2023, "op_list_group_events"),
    (("groups", "{g}", "events", "{id}"), V_2023, "op_get_group_event"),
    (("orgs",), V_2023, "op_list_orgs"),
    (("orgs", "{o}"), V_2023, "op_get_org"),
    (("orgs", "{o}", "events"), V_2023, "op_list_org_events"),
    (("orgs", "{o}", "events", "{id}"), V_2023, "op_get_org_event"),
    (("rateLimits",), V_RATE_LIMITS, "op_list_rate_limits"),
]

PARAM_RULES = {
    "{g}": ("groupId", GROUP_RE),
    "{c}": ("clusterName", NAME_RE),
    "{id}": ("snapshotId", SNAPSHOT_RE),
    "{db}": ("databaseName", ANY_RE),
    "{coll}": ("collectionName", ANY_RE),
    "{o}": ("orgId", GROUP_RE),
}

EVENT_TYPE_RE = re.compile(r"^[A-Z0-9_]+$")
DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?"
                     r"(Z|[+-]\d{2}:\d{2})$")


def match_route(segments):
    """Return (pattern, version, handler name, params) or None."""
    for pattern, version, handler in ROUTES:
        if len(pattern) != len(segments):
            continue
        params = {}
        for pat, seg in zip(pattern, segments):
            if pat.startswith("{"):
                params[pat] = seg
            elif pat != seg:
                break
        else:
            return pattern, version, handler, params
    return None


class BadRequest(Exception):
    """Raised by query-parameter parsing; becomes 400 VALIDATION_ERROR."""


# ---------------------------------------------------------------------------
# Request handler
# ---------------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    """One instance per connection; one call of dispatch() per request."""

    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes: without TCP_NODELAY the
    # body waits for the client's delayed ACK (up to 40 ms an answer)
    disable_nagle_algorithm = True
    server_version = "mock-atlas/1.0"
    sys_version = ""
    state = None            # set by make_server()

    # -- plumbing --------------------------------------------------------

    def handle(self):
        """Serve the connection; a vanishing client is not an error."""
        try:
            super().handle()
        except (ConnectionError, TimeoutError, socket.timeout, ssl.SSLError):
            self.close_connection = True

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        """Access logging to stderr only with --verbose."""
        if self.state.args.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def read_body(self):
        """Read the request body (Content-Length or chunked), max 1 MiB."""
        limit = 1 << 20
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > limit:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > limit:
            raise ValueError("body too large")
        return self.rfile.read(length) if length > 0 else b""

    def send_reply(self, reply, log_target=None, method=None):
        """Write ``reply`` with a correct Content-Length."""
        if log_target is not None:
            self.state.record(reply.status, method, log_target,
                              getattr(self, "arrived", None))
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.ctype)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if reply.body and self.command != "HEAD":
            self.wfile.write(reply.body)
        self.wfile.flush()

    def base_url(self):
        """scheme://host[:port] the client used, for links."""
        host = self.headers.get("Host")
        if not host:
            h, p = self.server.server_address[:2]
            host = "%s:%d" % (h, p)
        return ("https://" if self.state.args.tls_cert else "http://") + host

    # -- dispatch --------------------------------------------------------

    def dispatch(self, method):
        """Serve one request; a bug in the mock becomes a 500, not a hang."""
        try:
            self.dispatch_inner(method)
        except (ConnectionError, TimeoutError, socket.timeout):
            raise
        except Exception:                               # pragma: no cover
            traceback.print_exc()
            self.close_connection = True
            try:
                self.send_reply(error_reply(500, "UNEXPECTED_ERROR",
                                            "Internal error in the mock."))
            except OSError:
                pass

    def dispatch_inner(self, method):
        """Read the body, then route to control, OAuth or API handling."""
        target = self.path
        path, _, query = target.partition("?")
        self.arrived = time.monotonic()
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self.send_reply(error_reply(413, "PAYLOAD_TOO_LARGE",
                                        "Request body rejected."))
            return
        if path.startswith("/_mock/") or path == "/_mock":
            self.control(method, path, query, body)
        elif path.startswith("/api/"):
            self.api(method, path, query, target, body)
        else:
            self.send_reply(Reply(404, b"not found\n", "text/plain"))

    # -- API entry point -------------------------------------------------

    def api(self, method, path, query, target, body):
        """Authenticate, apply faults, answer one /api request."""
        st = self.state
        with st.lock:
            st.stats["requests"] += 1
        if st.args.latency_ms > 0:
            time.sleep(st.args.latency_ms / 1000.0)

        if path == "/api/oauth/token":
            return self.oauth_token(method, target, body)
        if path == "/api/oauth/revoke":
            return self.oauth_revoke(method, target, body)

        denial = self.authenticate(method, target, path)
        if denial is not None:
            return self.send_reply(denial, target, method)

        if st.args.token_bucket > 0:
            wait = st.take_token()
            if wait is not None:
                return self.send_reply(error_reply(
                    429, "RATE_LIMITED",
                    "Rate limit exceeded. Try again in %d seconds." % wait,
                    [("Retry-After", str(wait))] + st.rate_headers()),
                    target, method)

        fault = st.take_fault(target)
        normal = lambda: self.route(method, path, query)  # noqa: E731
        if fault is not None and fault["kind"] == "ignore_page_num":
            cycle = max(1, int(fault.get("cycle", 1)))
            asked = re.search(r"(?:^|&)pageNum=([0-9]+)", query)
            served = (int(asked.group(1)) - 1) % cycle + 1 if asked else 1
            wrapped = re.sub(r"(^|&)pageNum=[^&]*",
                             lambda m: "%spageNum=%d" % (m.group(1), served),
                             query)
            return self.send_reply(self.route(method, path, wrapped),
                                   target, method)
        if fault is not None:
            return self.send_fault(fault, normal, method, target)
        self.send_reply(normal(), target, method)

    # -- authentication ----------------------------------------------------

    def unauthorized_body(self):
        return json_bytes({"detail": "You are not authorized for this resource.",
                           "error": 401, "errorCode": "UNAUTHORIZED",
                           "reason": "Unauthorized"})

    def digest_challenge(self, stale=False):
        """401 with a fresh Digest nonce."""
        nonce = self.state.new_nonce()
        header = ('Digest realm="%s", domain="", nonce="%s", algorithm=MD5, '
                  'qop="auth", stale=%s' % (REALM, nonce,
                                            "true" if stale else "false"))
        return Reply(401, self.unauthorized_body(), "application/json",
                     [("WWW-Authenticate", header)])

    def authenticate(self, method, target, path):
        """None when authorized, else the 401 Reply to send."""
        st = self.state
        header = self.headers.get("Authorization", "")
        scheme, _, rest = header.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer":
            if st.token_valid(rest.strip()):
                with st.lock:
                    st.stats["bearer_ok"] += 1
                return None
            with st.lock:
                st.stats["unauthorized"] += 1
            return Reply(401, self.unauthorized_body(), "application/json",
                         [("WWW-Authenticate", "Bearer")])
        result = "bad"
        if scheme == "digest":
            result = self.check_digest(method, target, path, rest)
            if result == "ok":
                with st.lock:
                    st.stats["digest_ok"] += 1
                return None
        with st.lock:
            st.stats["unauthorized"] += 1
        return self.digest_challenge(stale=(result == "stale"))

    _PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')

    def check_digest(self, method, target, path, text):
        """Validate an RFC 7616 MD5/qop=auth response: ok, stale or bad."""
        st = self.state
        params = {}
        for m in self._PARAM.finditer(text):
            value = m.group(2)
            if value is not None:
                value = re.sub(r"\\(.)", r"\1", value)
            else:
                value = m.group(3)
            params[m.group(1).lower()] = value
        for key in ("username", "realm", "nonce", "uri", "response", "qop",
                    "nc", "cnonce"):
            if not params.get(key):
                return "bad"
        if params.get("algorithm", "MD5").upper() != "MD5":
            return "bad"
        if params["qop"] != "auth" or params["realm"] != REALM:
            return "bad"
        if params["username"] != st.args.public_key:
            return "bad"
        if params["uri"] not in (target, path):
            return "bad"
        if not re.fullmatch(r"[0-9a-fA-F]{1,8}", params["nc"]):
            return "bad"

        def md5(s):
            return hashlib.md5(s.encode("utf-8")).hexdigest()

        ha1 = md5("%s:%s:%s" % (params["username"], REALM, st.args.private_key))
        ha2 = md5("%s:%s" % (method, params["uri"]))
        expected = md5("%s:%s:%s:%s:%s:%s" % (ha1, params["nonce"], params["nc"],
                                             params["cnonce"], params["qop"],
                                             ha2))
        if not hmac.compare_digest(expected, params["response"].lower()):
            return "bad"
        outcome = st.use_nonce(params["nonce"], int(params["nc"], 16))
        return "bad" if outcome == "replay" else outcome

    def basic_credentials(self):
        """(user, password) from a Basic Authorization header, or None."""
        header = self.headers.get("Authorization", "")
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        return (user, password) if sep else None

    def client_ok(self):
        """Basic client_id:client_secret, raw or URL-escaped (Go oauth2)."""
        creds = self.basic_credentials()
        if creds is None:
            return False
        want = (self.state.args.client_id, self.state.args.client_secret)
        unescaped = tuple(urllib.parse.unquote_plus(x) for x in creds)
        return any(hmac.compare_digest(a.encode(), b.encode()) and
                   hmac.compare_digest(c.encode(), d.encode())
                   for (a, c), (b, d) in ((creds, want), (unescaped, want)))

    # -- OAuth endpoints -------------------------------------------------------

    def oauth_error(self, status, error, description, headers=None):
        body = json_bytes({"error": error, "error_description": description})
        return Reply(status, body, "application/json",
                     [("Cache-Control", "no-store")] + list(headers or []))

    def oauth_token(self, method, target, body):
        """POST /api/oauth/token: client-credentials grant."""
        st = self.state
        with st.lock:
            st.stats["token_requests"] += 1
        if method != "POST":
            return self.send_reply(self.oauth_error(
                405, "invalid_request", "Use POST.", [("Allow", "POST")]),
                target, method)
        if not self.client_ok():
            return self.send_reply(self.oauth_error(
                401, "invalid_client", "Invalid client credentials.",
                [("WWW-Authenticate", 'Basic realm="%s"' % REALM)]),
                target, method)

        def answer(ttl=None):
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            grant = form.get("grant_type", [""])[0]
            if grant != "client_credentials":
                return self.oauth_error(
                    400, "unsupported_grant_type",
                    "Only grant_type=client_credentials is supported.")
            if st.token_limit_reached():
                with st.lock:
                    st.stats["token_limit_403"] += 1
                return self.oauth_error(403, "access_denied", TOKEN_LIMIT_TEXT)
            token = st.issue_token(ttl)
            doc = {"access_token": token, "token_type": "Bearer",
                   "expires_in": st.args.token_ttl if ttl is None else ttl}
            return Reply(200, json_bytes(doc), "application/json",
                         [("Cache-Control", "no-store"), ("Pragma", "no-cache")],
                         doc=None)

        fault = st.take_fault(target)
        if fault is not None and fault["kind"] == "token":
            if fault.get("wait_ms"):
                time.sleep(float(fault["wait_ms"]) / 1000.0)
            return self.send_reply(answer(int(fault.get("expires_in", 3600))),
                                   target, method)
        if fault is not None:
            return self.send_fault(fault, answer, method, target)
        self.send_reply(answer(), target, method)

    def oauth_revoke(self, method, target, body):
        """POST /api/oauth/revoke: RFC 7009 revocation (always 200)."""
        if method != "POST":
            return self.send_reply(self.oauth_error(
                405, "invalid_request", "Use POST.", [("Allow", "POST")]),
                target, method)
        if not self.client_ok():
            return self.send_reply(self.oauth_error(
                401, "invalid_client", "Invalid client credentials.",
                [("WWW-Authenticate", 'Basic realm="%s"' % REALM)]),
                target, method)
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        token = form.get("token", [""])[0]
        if token:
            self.state.revoke(token)
        self.send_reply(Reply(200, b"", "application/json"), target, method)

    # -- faults ----------------------------------------------------------------

    def send_fault(self, fault, normal, method, target):
        """Answer with ``fault`` instead of (or around) ``normal()``."""
        kind = fault["kind"]
        st = self.state
        if fault.get("wait_ms"):
            time.sleep(float(fault["wait_ms"]) / 1000.0)
        if kind == "status":
            status = int(fault.get("status", 500))
            code = fault.get("errorCode") or DEFAULT_ERROR_CODES.get(
                status, "UNEXPECTED_ERROR")
            retry = fault.get("retry_after")
            if fault.get("retry_after_date") is not None:
                import email.utils
                retry = email.utils.formatdate(
                    time.time() + float(fault["retry_after_date"]), usegmt=True)
            detail = fault.get("detail")
            if detail is not None and fault.get("repeat"):
                detail = detail * int(fault["repeat"])
            if detail is None:
                if status == 429 and target.startswith("/api/oauth/token"):
                    detail = ("Resource /api/oauth/token is limited to 10 "
                              "requests every 1 minutes.")
                elif status == 429:
                    detail = ("Rate limit exceeded for %s. Please retry after "
                              "%s seconds." % (target.split("?")[0].lstrip("/"),
                                               retry if retry is not None else 60))
                else:
                    detail = "Mock fault: %s." % reason(status)
            headers = []
            if retry is not None:
                headers.append(("Retry-After", str(retry)))
            if status == 429 and not st.args.no_rate_headers:
                headers += [("RateLimit-Limit", str(st.args.rate_limit)),
                            ("RateLimit-Remaining", "0")]
            reply = error_reply(status, code, detail, headers)
            if status == 401:
                reply.headers.append(self.digest_challenge().headers[0])
            return self.send_reply(reply, target, method)
        if kind == "rate_headers":
            reply = normal()
            reply.headers = [(n, v) for n, v in reply.headers
                             if not n.lower().startswith("ratelimit-")]
            reply.headers += [
                ("RateLimit-Limit", str(fault.get("limit", st.args.rate_limit))),
                ("RateLimit-Remaining", str(fault.get("remaining", 0)))]
            return self.send_reply(reply, target, method)
        if kind == "deprecation":
            reply = normal()
            reply.headers = list(reply.headers)
            if fault.get("deprecation", DEPRECATION_SAMPLE) is not None:
                reply.headers.append(
                    ("Deprecation", fault.get("deprecation", DEPRECATION_SAMPLE)))
            if fault.get("sunset", SUNSET_SAMPLE) is not None:
                reply.headers.append(("Sunset", fault.get("sunset", SUNSET_SAMPLE)))
            return self.send_reply(reply, target, method)
        if kind == "html":
            return self.send_reply(Reply(int(fault.get("status", 502)),
                                         HTML_PAGE, "text/html"),
                                   target, method)
        if kind == "gone":
            return self.send_reply(error_reply(410, "VERSION_GONE", GONE_DETAIL),
                                   target, method)
        if kind == "invalid_json":
            return self.send_reply(Reply(200, INVALID_JSON, vendor_type(V_2023)),
                                   target, method)
        if kind == "raw":
            if "body_b64" in fault:
                body = base64.b64decode(fault["body_b64"])
            else:
                body = str(fault.get("body", "")).encode("utf-8")
            return self.send_reply(Reply(int(fault.get("status", 200)), body,
                                         vendor_type(V_2023)), target, method)
        if kind == "many_items":
            count = max(1, int(fault.get("items", 10_000_000)))
            item = json.dumps(fault.get("item", {}), separators=(",", ":")).encode()
            head = b'{"results":[' + item
            tail = b'],"totalCount":%d}' % count
            block = (b"," + item) * 4096
            st.record(200, method, target)
            self.send_response(200)
            self.send_header("Content-Type", vendor_type(V_2023))
            self.send_header("Content-Length",
                             str(len(head) + (count - 1) * (len(item) + 1) + len(tail)))
            self.end_headers()
            try:
                self.wfile.write(head)
                left = count - 1
                while left > 0:
                    n = min(left, 4096)
                    self.wfile.write(block[:n * (len(item) + 1)])
                    left -= n
                self.wfile.write(tail)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            return None
        if kind == "wrong_shape":
            doc = {"results": {"not": "an array"}, "totalCount": 1}
            return self.send_reply(Reply(200, json_bytes(doc),
                                         vendor_type(V_2023)), target, method)
        if kind == "redirect":
            location = fault.get("location", "http://127.0.0.1:1/redirect-target")
            return self.send_reply(Reply(302, b"", "text/plain",
                                         [("Location", location)]),
                                   target, method)
        if kind == "reset":
            st.record(0, method, target, getattr(self, "arrived", None))
            self.close_connection = True
            if not fault.get("graceful"):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            self.connection.close()
            return None
        if kind == "stall":
            time.sleep(float(fault.get("seconds", 30)))
            return self.send_reply(normal(), target, method)

        reply = normal()
        if kind == "huge_headers":
            total = int(fault.get("bytes", 128 << 10))
            line = "x" * 1000
            for i in range((total + len(line) - 1) // len(line)):
                reply.headers.append(("X-Mock-Pad-%d" % i, line))
            return self.send_reply(reply, target, method)
        if kind == "truncated":
            st.record(reply.status, method, target,
                      getattr(self, "arrived", None))
            self.close_connection = True
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.ctype)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body[:len(reply.body) // 2])
            self.wfile.flush()
            return None
        if kind == "slow_body":
            st.record(reply.status, method, target,
                      getattr(self, "arrived", None))
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.ctype)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            step = max(1, int(fault.get("chunk_bytes", 256)))
            delay = float(fault.get("delay_ms", 200)) / 1000.0
            for i in range(0, len(reply.body), step):
                if i:
                    time.sleep(delay)
                self.wfile.write(reply.body[i:i + step])
                self.wfile.flush()
            return None
        if kind == "gzip":
            offered = [part.split(";")[0].strip().lower() for part in
                       self.headers.get("Accept-Encoding", "").split(",")]
            with st.lock:
                st.stats["gzip_sent" if "gzip" in offered
                         else "gzip_not_offered"] += 1
            if "gzip" in offered:
                reply.body = gzip.compress(reply.body, mtime=0)
                reply.headers = list(reply.headers) + [
                    ("Content-Encoding", "gzip")]
            return self.send_reply(reply, target, method)
        if kind in ("wrong_type", "big"):
            doc, ctype, headers = self.page_doc_for_fault(reply)
            item = doc["results"][0] if "results" in doc else doc
            if kind == "wrong_type":
                item["storageSizeBytes"] = "lots"
                return self.send_reply(Reply(200, json_bytes(doc), ctype, headers),
                                       target, method)
            item["description"] = PAD_MARKER
            head, tail = json_bytes(doc).split(PAD_MARKER.encode(), 1)
            total = int(fault.get("bytes", 64 << 20))
            pad = max(0, total - len(head) - len(tail))
            st.record(200, method, target, getattr(self, "arrived", None))
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(head) + pad + len(tail)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(head)
            chunk = b"x" * (1 << 20)
            left = pad
            while left > 0:
                n = min(left, len(chunk))
                self.wfile.write(chunk[:n])
                left -= n
            self.wfile.write(tail)
            self.wfile.flush()
            return None
        raise AssertionError("unhandled fault kind %r" % kind)

    def page_doc_for_fault(self, reply):
        """A JSON document with at least one item, derived from ``reply``."""
        doc = reply.doc
        if reply.status == 200 and isinstance(doc, dict):
            if doc.get("results"):
                return doc, reply.ctype, reply.headers
            if "results" not in doc and doc:
                return doc, reply.ctype, reply.headers
        # error or empty page: synthesize a one-item replica-set page
        item = fleetmod.SyntheticSource(fleetmod.G1, "n1", 1).item(0)
        doc = {"links": [], "results": [item], "totalCount": 1}
        return doc, vendor_type(V_2023), self.state.rate_headers()

    # -- API routing -----------------------------------------------------------

    def route(self, method, path, query):
        """Produce the normal Reply for an authorized API request."""
        rest = path[len(API):] if path.startswith(API + "/") else None
        found = None
        if rest is not None:
            segments = [urllib.parse.unquote(s) for s in rest[1:].split("/")]
            if all(segments):
                found = match_route(segments)
        if found is None:
            return error_reply(404, "RESOURCE_NOT_FOUND",
                               "Cannot find resource %s." % path)
        pattern, version, handler, params = found
        if method != "GET":
            return error_reply(405, "METHOD_NOT_ALLOWED",
                               "Method %s is not allowed for %s." % (method, path),
                               [("Allow", "GET")])
        if handler in ("op_list_tenant", "op_get_tenant") and \
                not self.state.args.legacy_tenant:
            return error_reply(404, "RESOURCE_NOT_FOUND",
                               "Cannot find resource %s." % path)
        for key, value in params.items():
            name, regex = PARAM_RULES[key]
            if not regex.match(value):
                return error_reply(
                    400, "VALIDATION_ERROR",
                    "The path parameter %s with value %s does not match %s."
                    % (name, value, regex.pattern))
        wanted = "application/vnd.atlas.%s+json" % version
        offered = [part.split(";")[0].strip().lower()
                   for part in self.headers.get("Accept", "").split(",")]
        if wanted not in offered:
            return error_reply(
                406, "INVALID_VERSION_DATE",
                "Invalid Accept header: this resource requires %s." % wanted)
        q = urllib.parse.parse_qs(query, keep_blank_values=True)
        g = params.get("{g}")
        try:
            if g is not None and not self.state.fleet.has_group(g):
                self.parse_common(q)    # a bad parameter still wins over 404
                return error_reply(404, "GROUP_NOT_FOUND",
                                   "No group with ID %s exists." % g)
            self.route_params = params
            o = params.get("{o}")
            if o is not None and not self.state.fleet.has_org(o):
                self.parse_common(q)
                return error_reply(404, "ORG_NOT_FOUND",
                                   "No organization with ID %s exists." % o)
            if o is not None:
                g = o       # the org handlers take the org id there
            return getattr(self, handler)(version, path, q, g,
                                          params.get("{c}"), params.get("{id}"))
        except BadRequest as exc:
            return error_reply(400, "VALIDATION_ERROR", str(exc))

    # -- parameter helpers -------------------------------------------------------

    @staticmethod
    def qget(q, name):
        values = q.get(name)
        return values[0] if values else None

    def parse_common(self, q):
        """(pageNum, itemsPerPage, includeCount, envelope, pretty)."""
        def boolean(name, default):
            value = self.qget(q, name)
            if value is None:
                return default
            if value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise BadRequest("Invalid value %r for boolean parameter %s."
                             % (value, name))

        def integer(name, default, lo, hi):
            value = self.qget(q, name)
            if value is None:
                return default
            if not re.fullmatch(r"-?[0-9]{1,12}", value.strip()) or \
                    not lo <= int(value) <= hi:
                raise BadRequest("Invalid %s value %r: must be an integer "
                                 "between %d and %d." % (name, value, lo, hi))
            return int(value)

        return (integer("pageNum", 1, 1, 2 ** 31 - 1),
                integer("itemsPerPage", 100, 1, 500),
                boolean("includeCount", True),
                boolean("envelope", False),
                boolean("pretty", False))

    def parse_int64(self, q, name):
        value = self.qget(q, name)
        if value is None:
            return None
        if not INT64_RE.fullmatch(value) or \
                not -2 ** 63 <= int(value) < 2 ** 63:
            raise BadRequest("Invalid value %r for int64 parameter %s."
                             % (value, name))
        return int(value)

    # -- response builders -----------------------------------------------------

    def with_links(self, item, self_path, cluster_path=None):
        """Item plus its links array (keys sorted like the spec)."""
        base = self.base_url()
        links = [{"href": base + self_path, "rel": "self"}]
        if cluster_path:
            links.append({"href": base + cluster_path, "rel": CLUSTER_REL})
        item = dict(item)
        item["links"] = links
        return dict(sorted(item.items()))

    def ok(self, doc, version, pretty=False):
        return Reply(200, json_bytes(doc, pretty), vendor_type(version),
                     self.state.rate_headers(), doc=doc)

    def list_page(self, version, path, q, source, decorate, paged=True):
        """A paginated envelope over ``source`` (len/page interface)."""
        page_num, ipp, include_count, envelope, pretty = self.parse_common(q)
        total = len(source)
        if not paged:                      # old tenant list: everything
            page_num, ipp = 1, max(total, 1)
        start = (page_num - 1) * ipp
        items = [decorate(item) for item in source.page(start, start + ipp)]
        base = self.base_url() + path
        if paged:
            links = [{"href": "%s?pageNum=%d&itemsPerPage=%d"
                              % (base, page_num, ipp), "rel": "self"}]
        else:
            links = [{"href": base, "rel": "self"}]
        if paged and page_num * ipp < total:
            links.append({"href": "%s?pageNum=%d&itemsPerPage=%d"
                                  % (base, page_num + 1, ipp),
                          "rel": "next"})
        doc = {"links": links, "results": items}
        if include_count:
            doc["totalCount"] = total
        if envelope:
            doc["status"] = 200
        return self.ok(doc, version, pretty)

    def single(self, version, q, item):
        """A single-object answer (honours envelope/pretty)."""
        _, _, _, envelope, pretty = self.parse_common(q)
        doc = {"content": item, "status": 200} if envelope else item
        return self.ok(doc, version, pretty)

    # -- cluster look-ups ----------------------------------------------------------

    def dedicated_check(self, g, c):
        """Error Reply when ``c`` is not usable with the cluster API."""
        f = self.state.fleet
        if f.is_flex(g, c):
            return error_reply(
                400, "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API",
                "Cannot use the cluster API for flex cluster %s; use the "
                "flex cluster API instead." % c)
        if f.dedicated_type(g, c) is None:
            return error_reply(404, "CLUSTER_NOT_FOUND",
                               "No cluster named %s exists in group %s." % (c, g))
        return None

    def flex_check(self, g, c):
        f = self.state.fleet
        if f.is_flex(g, c):
            return None
        if f.dedicated_type(g, c) is not None:
            return error_reply(
                400, "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API",
                "Cannot use the flex cluster API for cluster %s because it is "
                "not a flex cluster." % c)
        return error_reply(404, "CLUSTER_NOT_FOUND",
                           "No cluster named %s exists in group %s." % (c, g))

    @staticmethod
    def snapshot_missing(snapshot_id, c):
        return error_reply(404, "SNAPSHOT_NOT_FOUND",
                           "No snapshot with ID %s exists for cluster %s."
                           % (snapshot_id, c))

    # -- operations ----------------------------------------------------------------

    def op_list_groups(self, version, path, q, g, c, sid):
        """listGroups: all projects of the fleet."""
        groups = fleetmod.ListSource(self.state.fleet.groups, time_field="created")
        return self.list_page(version, path, q, groups, lambda item: self.with_links(
            item, "%s/groups/%s" % (API, item["id"])))

    def op_list_clusters(self, version, path, q, g, c, sid):
        """listGroupClusters (2024-08-05): dedicated clusters of a project,
        and with includeDeletedWithRetainedBackups=true the deleted ones
        that still hold backups."""
        items = list(self.state.fleet.clusters[g])
        flag = self.qget(q, "includeDeletedWithRetainedBackups")
        if flag is not None and flag.lower() not in ("true", "false"):
            raise BadRequest("Invalid value %r for boolean parameter "
                             "includeDeletedWithRetainedBackups." % flag)
        if flag is not None and flag.lower() == "true":
            items += self.state.fleet.deleted.get(g, [])
        src = fleetmod.ListSource(items, time_field="createDate")
        return self.list_page(version, path, q, src, lambda item: self.with_links(
            item, "%s/groups/%s/clusters/%s" % (API, g, item["name"])))

    def op_list_serverless(self, version, path, q, g, c, sid):
        """listGroupServerlessInstances."""
        src = fleetmod.ListSource(self.state.fleet.serverless[g],
                                  time_field="createDate")
        return self.list_page(version, path, q, src, lambda item: self.with_links(
            item, "%s/groups/%s/serverless/%s" % (API, g, item["name"])))

    def op_list_flex(self, version, path, q, g, c, sid):
        """listGroupFlexClusters (2024-11-13)."""
        src = fleetmod.ListSource(self.state.fleet.flex[g], time_field="createDate")
        return self.list_page(version, path, q, src, lambda item: self.with_links(
            item, "%s/groups/%s/flexClusters/%s" % (API, g, item["name"])))

    def replica_decorator(self, g, c):
        cluster_path = "%s/groups/%s/clusters/%s" % (API, g, c)
        return lambda item: self.with_links(
            item, "%s/backup/snapshots/%s" % (cluster_path, item["id"]),
            cluster_path)

    def op_list_replica(self, version, path, q, g, c, sid):
        """listGroupClusterBackupSnapshots, incl. point-in-time filters."""
        pit = self.parse_int64(q, "pointInTimeUtcSeconds")
        oplog_ts = self.parse_int64(q, "oplogTs")
        oplog_inc = self.parse_int64(q, "oplogInc")
        if (oplog_ts is None) != (oplog_inc is None):
            raise BadRequest("oplogTs and oplogInc must be used together.")
        if pit is not None and oplog_ts is not None:
            raise BadRequest("pointInTimeUtcSeconds is mutually exclusive with "
                             "oplogTs and oplogInc.")
        self.parse_common(q)
        err = self.dedicated_check(g, c)
        if err:
            return err
        source = self.state.fleet.replica_source(g, c)
        when = pit if pit is not None else oplog_ts
        if when is not None:
            found = source.newest_at_or_before(when)
            source = fleetmod.ListSource([found] if found else [])
        return self.list_page(version, path, q, source,
                              self.replica_decorator(g, c))

    def op_get_replica(self, version, path, q, g, c, sid):
        """getGroupClusterBackupSnapshot."""
        self.parse_common(q)
        err = self.dedicated_check(g, c)
        if err:
            return err
        item = self.state.fleet.replica_source(g, c).get(sid)
        if item is None:
            return self.snapshot_missing(sid, c)
        return self.single(version, q, self.replica_decorator(g, c)(item))

    def sharded_decorator(self, g, c):
        cluster_path = "%s/groups/%s/clusters/%s" % (API, g, c)
        return lambda item: self.with_links(
            item, "%s/backup/snapshots/shardedCluster/%s" % (cluster_path,
                                                             item["id"]),
            cluster_path)

    def op_list_sharded(self, version, path, q, g, c, sid):
        """listGroupClusterBackupSnapshotShardedClusters (paging honoured)."""
        self.parse_common(q)
        err = self.dedicated_check(g, c)
        if err:
            return err
        return self.list_page(version, path, q,
                              self.state.fleet.sharded_source(g, c),
                              self.sharded_decorator(g, c))

    def op_get_sharded(self, version, path, q, g, c, sid):
        """getGroupClusterBackupSnapshotShardedCluster."""
        self.parse_common(q)
        err = self.dedicated_check(g, c)
        if err:
            return err
        item = self.state.fleet.sharded_source(g, c).get(sid)
        if item is None:
            return self.snapshot_missing(sid, c)
        return self.single(version, q, self.sharded_decorator(g, c)(item))

    def serverless_lookup(self, g, c):
        """(source, None) or (None, error Reply) for a serverless instance."""
        source = self.state.fleet.serverless_source(g, c)
        if source is None:
            return None, error_reply(
                404, "CLUSTER_NOT_FOUND",
                "No serverless instance named %s exists in group %s." % (c, g))
        if source is fleetmod.GONE:
            return None, error_reply(410, "VERSION_GONE", GONE_DETAIL)
        return source, None

    def serverless_decorator(self, g, c):
        return lambda item: self.with_links(
            item, "%s/groups/%s/serverless/%s/backup/snapshots/%s"
            % (API, g, c, item["id"]))

    def op_list_serverless_snaps(self, version, path, q, g, c, sid):
        """listGroupServerlessBackupSnapshots (410 for serverless-gone)."""
        self.parse_common(q)
        source, err = self.serverless_lookup(g, c)
        if err:
            return err
        return self.list_page(version, path, q, source,
                              self.serverless_decorator(g, c))

    def op_get_serverless_snap(self, version, path, q, g, c, sid):
        """getGroupServerlessBackupSnapshot."""
        self.parse_common(q)
        source, err = self.serverless_lookup(g, c)
        if err:
            return err
        item = source.get(sid)
        if item is None:
            return self.snapshot_missing(sid, c)
        return self.single(version, q, self.serverless_decorator(g, c)(item))

    def flex_decorator(self, g, c):
        return lambda item: self.with_links(
            item, "%s/groups/%s/flexClusters/%s/backup/snapshots/%s"
            % (API, g, c, item["id"]))

    def op_list_flex_snaps(self, version, path, q, g, c, sid):
        """listGroupFlexClusterBackupSnapshots."""
        self.parse_common(q)
        err = self.flex_check(g, c)
        if err:
            return err
        return self.list_page(version, path, q,
                              self.state.fleet.flex_source(g, c),
                              self.flex_decorator(g, c))

    def op_get_flex_snap(self, version, path, q, g, c, sid):
        """getGroupFlexClusterBackupSnapshot."""
        self.parse_common(q)
        err = self.flex_check(g, c)
        if err:
            return err
        item = self.state.fleet.flex_source(g, c).get(sid)
        if item is None:
            return self.snapshot_missing(sid, c)
        return self.single(version, q, self.flex_decorator(g, c)(item))

    def tenant_decorator(self, g, c):
        return lambda item: self.with_links(
            item, "%s/groups/%s/clusters/%s/backup/tenant/snapshots/%s"
            % (API, g, c, item["id"]))

    def op_list_tenant(self, version, path, q, g, c, sid):
        """Removed tenant list (--legacy-tenant only): unpaginated."""
        self.parse_common(q)
        source = self.state.fleet.tenant_source(g, c)
        if source is None:
            return error_reply(404, "CLUSTER_NOT_FOUND",
                               "No cluster named %s exists in group %s." % (c, g))
        return self.list_page(version, path, q, source,
                              self.tenant_decorator(g, c), paged=False)

    def op_get_tenant(self, version, path, q, g, c, sid):
        """Removed tenant get (--legacy-tenant only)."""
        self.parse_common(q)
        source = self.state.fleet.tenant_source(g, c)
        if source is None:
            return error_reply(404, "CLUSTER_NOT_FOUND",
                               "No cluster named %s exists in group %s." % (c, g))
        item = source.get(sid)
        if item is None:
            return self.snapshot_missing(sid, c)
        return self.single(version, q, self.tenant_decorator(g, c)(item))

    # -- backup extras ---------------------------------------------------------------

    def op_get_schedule(self, version, path, q, g, c, sid):
        """getGroupClusterBackupSchedule (2024-08-05): one document."""
        self.parse_common(q)
        err = self.dedicated_check(g, c)
        if err:
            return err
        doc = self.state.fleet.schedules.get((g, c))
        if doc is None:
            cid = next((x["id"] for x in self.state.fleet.clusters.get(g, ())
                        if x["name"] == c), c)
            return error_reply(404, "BACKUP_CONFIG_NOT_FOUND",
                               "No backup configuration exists for cluster %s "
                               "in group %s." % (cid, g))
        return self.single(version, q, self.with_links(
            doc, "%s/groups/%s/clusters/%s/backup/schedule" % (API, g, c)))

    def restore_decorator(self, g, c):
        cluster_path = "%s/groups/%s/clusters/%s" % (API, g, c)
        return lambda item: self.with_links(
            item, "%s/backup/restoreJobs/%s" % (cluster_path, item["id"]),
            cluster_path)

    def op_list_restores(self, version, path, q, g, c, sid):
        """listGroupClusterBackupRestoreJobs."""
        self.parse_common(q)
        err = self.dedicated_check(g, c)
        if err:
            return err
        return self.list_page(version, path, q,
                              self.state.fleet.restore_jobs.get((g, c), fleetmod.EMPTY),
                              self.restore_decorator(g, c))

    def op_get_restore(self, version, path, q, g, c, sid):
        """getGroupClusterBackupRestoreJob."""
        self.parse_common(q)
        err = self.dedicated_check(g, c)
        if err:
            return err
        item = self.state.fleet.restore_jobs.get((g, c), fleetmod.EMPTY).get(sid)
        if item is None:
            return error_reply(404, "RESTORE_JOB_NOT_FOUND",
                               "No restore job with ID %s exists for cluster %s."
                               % (sid, c))
        return self.single(version, q, self.restore_decorator(g, c)(item))

    def op_list_flex_restores(self, version, path, q, g, c, sid):
        """listGroupFlexClusterBackupRestoreJobs (no links, as recorded)."""
        self.parse_common(q)
        err = self.flex_check(g, c)
        if err:
            return err
        return self.list_page(version, path, q,
                              self.state.fleet.flex_restore_jobs.get((g, c), fleetmod.EMPTY),
                              lambda item: item)

    def op_get_flex_restore(self, version, path, q, g, c, sid):
        """getGroupFlexClusterBackupRestoreJob."""
        self.parse_common(q)
        err = self.flex_check(g, c)
        if err:
            return err
        item = self.state.fleet.flex_restore_jobs.get((g, c), fleetmod.EMPTY).get(sid)
        if item is None:
            return error_reply(404, "RESOURCE_NOT_FOUND",
                               "Cannot find resource %s." % path)
        return self.single(version, q, item)

    def op_list_exports(self, version, path, q, g, c, sid):
        """listGroupClusterBackupExports (no links, as recorded)."""
        self.parse_common(q)
        err = self.dedicated_check(g, c)
        if err:
            return err
        return self.list_page(version, path, q,
                              self.state.fleet.export_jobs.get((g, c), fleetmod.EMPTY),
                              lambda item: item)

    def op_get_export(self, version, path, q, g, c, sid):
        """getGroupClusterBackupExport."""
        self.parse_common(q)
        err = self.dedicated_check(g, c)
        if err:
            return err
        item = self.state.fleet.export_jobs.get((g, c), fleetmod.EMPTY).get(sid)
        if item is None:
            return error_reply(404, "RESOURCE_NOT_FOUND",
                               "Cannot find resource %s." % path)
        return self.single(version, q, item)

    def op_list_buckets(self, version, path, q, g, c, sid):
        """listGroupBackupExportBuckets (2024-05-30; items without region)."""
        self.parse_common(q)

        def strip(item):
            item = dict(item)
            item.pop("region", None)
            return item
        return self.list_page(version, path, q,
                              self.state.fleet.export_buckets.get(g, fleetmod.EMPTY),
                              strip)

    def op_get_bucket(self, version, path, q, g, c, sid):
        """getGroupBackupExportBucket (2024-05-30)."""
        self.parse_common(q)
        item = self.state.fleet.export_buckets.get(g, fleetmod.EMPTY).get(sid)
        if item is None:
            return error_reply(404, "EXPORT_BUCKET_NOT_FOUND",
                               "No export Bucket with ID %s does not exist." % sid)
        return self.single(version, q, item)

    def rate_limit_sets(self):
        """The mock's endpoint sets (RateLimitEndpointSetResponse): its
        token bucket (--token-bucket, refilled --refill-per-sec tokens a
        second), organization-scoped, over every endpoint it serves; else
        the --rate-limit window of 60 s, never enforced; and the
        project-scoped set of the rate-limit inspection itself."""
        a = self.state.args
        if a.token_bucket > 0:
            cap, rate, secs = a.token_bucket, a.refill_per_sec, 1
        else:
            cap, rate, secs = a.rate_limit, a.rate_limit, 60
        if rate != int(rate):              # a fraction a second: per minute
            rate, secs = rate * 60, 60
        endpoints = [{"method": "GET",
                      "path": API + "/" + "/".join(
                          {"{g}": "{groupId}", "{c}": "{clusterName}",
                           "{id}": "{snapshotId}"}.get(seg, seg) for seg in pattern)}
                     for pattern, _, handler in ROUTES
                     if handler != "op_list_rate_limits"]
        return [
            {"capacity": {"value": int(cap)},
             "endpointSetId": "mockAdminApi_org",
             "endpointSetName": "Mock Admin API",
             "endpoints": endpoints,
             "refillDurationSeconds": {"value": secs},
             "refillRate": {"value": int(rate)},
             "scope": "ORGANIZATION"},
            {"capacity": {"defaultValue": 10, "value": 20},
             "endpointSetId": "rateLimitsInspection_group",
             "endpointSetName": "Rate Limits Inspection",
             "endpoints": [{"method": "GET", "path": API + "/rateLimits"}],
             "refillDurationSeconds": {"value": 60},
             "refillRate": {"value": 10},
             "scope": "GROUP"},
        ]

    def op_list_rate_limits(self, version, path, q, g, c, sid):
        """listRateLimits (2025-03-12): groupId keeps the GROUP-scoped
        sets (404 GROUP_NOT_FOUND for a project the fleet lacks), orgId
        the ORGANIZATION-scoped ones (404 ORG_NOT_FOUND for another
        organization), name the sets so named (repeatable); no
        includeCount."""
        self.parse_common(q)
        sets = self.rate_limit_sets()
        gid = self.qget(q, "groupId")
        oid = self.qget(q, "orgId")
        for name, value in (("groupId", gid), ("orgId", oid)):
            if value is not None and not GROUP_RE.match(value):
                raise BadRequest("Invalid value %r for parameter %s." % (value, name))
        if gid is not None:
            if not self.state.fleet.has_group(gid):
                return error_reply(404, "GROUP_NOT_FOUND",
                                   "No group with ID %s exists." % gid)
            sets = [s for s in sets if s["scope"] == "GROUP"]
        if oid is not None:
            if oid != fleetmod.ORG_ID:
                return error_reply(404, "ORG_NOT_FOUND",
                                   "No organization with ID %s exists." % oid)
            sets = [s for s in sets if s["scope"] == "ORGANIZATION"]
        if "name" in q:
            sets = [s for s in sets if s["endpointSetName"] in q["name"]]
        return self.list_page(version, path, q, fleetmod.ListSource(sets, id_field="endpointSetId"),
                              lambda item: item)

    def op_get_compliance(self, version, path, q, g, c, sid):
        """getGroupBackupCompliancePolicy (2023-10-01): 404 without one."""
        self.parse_common(q)
        doc = self.state.fleet.compliance.get(g)
        if doc is None:
            return error_reply(404, "RESOURCE_NOT_FOUND",
                               "Cannot find resource %s." % path)
        return self.single(version, q, doc)

    # -- collection restores and snapshot contents (2025-03-12) ------------------

    def op_list_coll_restores(self, version, path, q, g, c, sid):
        """listGroupClusterCollectionRestoreJobs (no links on the jobs)."""
        self.parse_common(q)
        err = self.dedicated_check(g, c)
        if err:
            return err
        return self.list_page(
            version, path, q,
            self.state.fleet.collection_restore_jobs.get((g, c), fleetmod.EMPTY),
            lambda item: item)

    def op_get_coll_restore(self, version, path, q, g, c, sid):
        """getGroupClusterCollectionRestoreJob: 404 RESOURCE_NOT_FOUND."""
        self.parse_common(q)
        err = self.dedicated_check(g, c)
        if err:
            return err
        item = self.state.fleet.collection_restore_jobs.get(
            (g, c), fleetmod.EMPTY).get(sid)
        if item is None:
            return error_reply(404, "RESOURCE_NOT_FOUND",
                               "Cannot find resource %s." % path)
        return self.single(version, q, item)

    def snapshot_databases(self, path, g, c, sid):
        """(databases, None) of a dedicated cluster's snapshot (replica-set
        or sharded), or (None, error Reply)."""
        err = self.dedicated_check(g, c)
        if err:
            return None, err
        f = self.state.fleet
        if f.replica_source(g, c).get(sid) is None and \
                f.sharded_source(g, c).get(sid) is None:
            return None, self.snapshot_missing(sid, c)
        return f.snapshot_contents.get((g, c, sid), []), None

    def content_item(self, self_path, name):
        """A DiskBackupDatabaseResponse / DiskBackupCollectionResponse."""
        return self.with_links({"name": name}, self_path)

    def content_list(self, version, path, q, names):
        """A page of database or collection items (self links below path)."""
        return self.list_page(
            version, path, q, fleetmod.ListSource([{"id": n} for n in names]),
            lambda item: self.content_item(
                "%s/%s" % (path, urllib.parse.quote(item["id"], safe="")),
                item["id"]))

    def op_list_snap_databases(self, version, path, q, g, c, sid):
        """listGroupClusterBackupSnapshotDatabases."""
        self.parse_common(q)
        dbs, err = self.snapshot_databases(path, g, c, sid)
        if err:
            return err
        return self.content_list(version, path, q, [d for d, _ in dbs])

    def snapshot_collections(self, path, g, c, sid):
        """(collections, None) of the route's database, or (None, error)."""
        dbs, err = self.snapshot_databases(path, g, c, sid)
        if err:
            return None, err
        db = self.route_params["{db}"]
        for name, colls in dbs:
            if name == db:
                return colls, None
        return None, error_reply(404, "RESOURCE_NOT_FOUND",
                                 "Cannot find resource %s." % path)

    def op_get_snap_database(self, version, path, q, g, c, sid):
        """getGroupClusterBackupSnapshotDatabase."""
        self.parse_common(q)
        colls, err = self.snapshot_collections(path, g, c, sid)
        if err:
            return err
        return self.single(version, q,
                           self.content_item(path, self.route_params["{db}"]))

    def op_list_snap_collections(self, version, path, q, g, c, sid):
        """listGroupClusterBackupSnapshotDatabaseCollections."""
        self.parse_common(q)
        colls, err = self.snapshot_collections(path, g, c, sid)
        if err:
            return err
        return self.content_list(version, path, q, colls)

    def op_get_snap_collection(self, version, path, q, g, c, sid):
        """getGroupClusterBackupSnapshotDatabaseCollection."""
        self.parse_common(q)
        colls, err = self.snapshot_collections(
            path.rsplit("/collections/", 1)[0], g, c, sid)
        if err:
            return err
        name = self.route_params["{coll}"]
        if name not in colls:
            return error_reply(404, "RESOURCE_NOT_FOUND",
                               "Cannot find resource %s." % path)
        return self.single(version, q, self.content_item(path, name))
    # -- events and organizations ------------------------------------------------

    def parse_date(self, q, name):
        """An ISO 8601 date-time parameter as UNIX seconds, or None."""
        value = self.qget(q, name)
        if value is None:
            return None
        m = DATE_RE.match(value)
        if not m:
            raise BadRequest("Invalid value %r for date-time parameter %s."
                             % (value, name))
        secs = fleetmod.epoch(m.group(1) + "Z")
        if m.group(2) != "Z":
            sign = 1 if m.group(2)[0] == "+" else -1
            secs -= sign * (int(m.group(2)[1:3]) * 3600 + int(m.group(2)[4:6]) * 60)
        return secs

    def event_filter(self, q, org):
        """The events a list request's filters keep: eventType and
        clusterNames (repeated; any one value matches), minDate and maxDate
        (inclusive here: the spec does not say).  Organization lists take
        no clusterNames."""
        types = q.get("eventType", [])
        for t in types:
            if not EVENT_TYPE_RE.match(t):
                raise BadRequest("Invalid eventType %r." % t)
        names = q.get("clusterNames", [])
        if org and names:
            raise BadRequest("Parameter clusterNames is not accepted by "
                             "listOrgEvents.")
        for n in names:
            if not NAME_RE.match(n):
                raise BadRequest("Invalid clusterNames value %r." % n)
        lo = self.parse_date(q, "minDate")
        hi = self.parse_date(q, "maxDate")
        include_raw = (self.qget(q, "includeRaw") or "false").lower() == "true"

        def keep(item):
            t = fleetmod.epoch(item["created"])
            return ((not types or item["eventTypeName"] in types) and
                    (not names or item.get("clusterName") in names) and
                    (lo is None or t >= lo) and (hi is None or t <= hi))
        return keep, include_raw

    def event_decorator(self, owner_path, include_raw):
        def decorate(item):
            item = dict(item)
            if not include_raw:
                item.pop("raw", None)
            return self.with_links(item, "%s/%s/events/%s"
                                   % (API, owner_path, item["id"]))
        return decorate

    def list_events(self, version, path, q, events, owner_path, org):
        keep, include_raw = self.event_filter(q, org)
        src = fleetmod.ListSource([e for e in events if keep(e)],
                                  time_field="created")
        return self.list_page(version, path, q, src,
                              self.event_decorator(owner_path, include_raw))

    def get_event(self, version, q, events, owner_path, eid):
        include_raw = (self.qget(q, "includeRaw") or "false").lower() == "true"
        item = next((e for e in events if e["id"] == eid), None)
        if item is None:
            return error_reply(404, "RESOURCE_NOT_FOUND",
                               "Cannot find resource event %s." % eid)
        return self.single(version, q,
                           self.event_decorator(owner_path, include_raw)(item))

    def op_list_group_events(self, version, path, q, g, c, sid):
        """listGroupEvents (2023-01-01), newest first."""
        return self.list_events(version, path, q,
                                self.state.fleet.group_events.get(g, []),
                                "groups/" + g, False)

    def op_get_group_event(self, version, path, q, g, c, sid):
        """getGroupEvent (2023-01-01)."""
        return self.get_event(version, q,
                              self.state.fleet.group_events.get(g, []),
                              "groups/" + g, sid)

    def op_list_org_events(self, version, path, q, o, c, sid):
        """listOrgEvents (2023-01-01): no clusterNames."""
        return self.list_events(version, path, q,
                                self.state.fleet.org_events.get(o, []),
                                "orgs/" + o, True)

    def op_get_org_event(self, version, path, q, o, c, sid):
        """getOrgEvent (2023-01-01)."""
        return self.get_event(version, q,
                              self.state.fleet.org_events.get(o, []),
                              "orgs/" + o, sid)

    def op_list_orgs(self, version, path, q, g, c, sid):
        """listOrgs (2023-01-01); name is a case-insensitive prefix."""
        prefix = (self.qget(q, "name") or "").lower()
        orgs = [o for o in self.state.fleet.orgs
                if o["name"].lower().startswith(prefix)]
        src = fleetmod.ListSource(orgs, time_field="name")
        return self.list_page(version, path, q, src, lambda item: self.with_links(
            item, "%s/orgs/%s" % (API, item["id"])))

    def op_get_org(self, version, path, q, o, c, sid):
        """getOrg (2023-01-01)."""
        item = next(o2 for o2 in self.state.fleet.orgs if o2["id"] == o)
        return self.single(version, q, self.with_links(
            item, "%s/orgs/%s" % (API, o)))

    # -- control endpoints ---------------------------------------------------------

    def control(self, method, path, query, body):
        """/_mock/* endpoints (no auth, not logged)."""
        st = self.state
        q = urllib.parse.parse_qs(query)

        def text(status, payload):
            return Reply(status, payload.encode("utf-8"),
                         "text/plain; charset=utf-8")

        def js(status, doc):
            return Reply(status, json_bytes(doc) + b"\n", "application/json")

        routes = {
            ("POST", "/_mock/reset"), ("GET", "/_mock/log"),
            ("POST", "/_mock/fault"), ("GET", "/_mock/faults"),
            ("POST", "/_mock/revoke-tokens"), ("GET", "/_mock/stats"),
            ("GET", "/_mock/issued-tokens"), ("POST", "/_mock/variant"),
            ("POST", "/_mock/token-limit"),
        }
        if (method, path) not in routes:
            known = {p for _, p in routes}
            status = 405 if path in known else 404
            return self.send_reply(js(status, {"error": "no such control "
                                               "endpoint: %s %s" % (method, path)}))

        if path == "/_mock/reset":
            st.reset()
            return self.send_reply(js(200, {"ok": True}))
        if path == "/_mock/log":
            authorized = q.get("authorized", ["0"])[0] in ("1", "true", "yes")
            times = q.get("times", ["0"])[0] in ("1", "true", "yes")
            with st.lock:
                lines = [("%d %d %s" % ((t[0] - st.started) * 1000,
                                        (t[1] - st.started) * 1000, line))
                         if times else line
                         for line, t in zip(st.log, st.times)
                         if not (authorized and line.startswith("401 "))]
            return self.send_reply(text(200, "".join(l + "\n" for l in lines)))
        if path == "/_mock/fault":
            try:
                fault = self.parse_fault(body)
            except ValueError as exc:
                return self.send_reply(js(400, {"error": str(exc)}))
            return self.send_reply(js(200, {"queued": st.add_fault(fault)}))
        if path == "/_mock/faults":
            with st.lock:
                doc = [{k: v for k, v in f.items() if not k.startswith("_")}
                       for f in st.faults]
            return self.send_reply(js(200, doc))
        if path == "/_mock/variant":
            try:
                variant = json.loads(body.decode("utf-8") or "{}")
                if not isinstance(variant, dict):
                    raise ValueError("a variant is a JSON object")
                st.set_variant(variant)
            except ValueError as exc:
                return self.send_reply(js(400, {"error": str(exc)}))
            return self.send_reply(js(200, {"variant": variant}))
        if path == "/_mock/token-limit":
            try:
                doc = json.loads(body.decode("utf-8") or "{}")
                limit = doc.get("limit") if isinstance(doc, dict) else None
                if limit is not None and not isinstance(limit, int):
                    raise ValueError("limit is an integer or null")
            except ValueError as exc:
                return self.send_reply(js(400, {"error": str(exc)}))
            with st.lock:
                st.token_limit = -1 if limit is None else limit
            return self.send_reply(js(200, {"limit": st.token_limit}))
        if path == "/_mock/revoke-tokens":
            return self.send_reply(js(200, {"revoked": st.revoke()}))
        if path == "/_mock/issued-tokens":
            with st.lock:
                issued = list(st.issued)
            return self.send_reply(text(200, "".join(t + "\n" for t in issued)))
        if path == "/_mock/stats":
            with st.lock:
                doc = {"requests": 0, "challenges": 0, "tokens_issued": 0,
                       "token_requests": 0, "token_limit_403": 0,
                       "faults_applied": 0, "digest_ok": 0, "bearer_ok": 0,
                       "unauthorized": 0}
                doc.update(st.stats)
                doc["tokens_active"] = sum(1 for e in st.tokens.values()
                                           if e > time.monotonic())
                doc["faults_pending"] = len(st.faults)
                doc["log_lines"] = len(st.log)
            return self.send_reply(js(200, doc))
        raise AssertionError(path)

    @staticmethod
    def parse_fault(body):
        """Validate a fault definition (raises ValueError)."""
        try:
            fault = json.loads(body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError("fault body is not JSON: %s" % exc)
        if not isinstance(fault, dict):
            raise ValueError("fault must be a JSON object")
        kind = fault.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError("kind must be one of %s" % ", ".join(sorted(FAULT_KINDS)))
        fault.setdefault("match", "")
        fault.setdefault("count", 1)
        if not isinstance(fault["count"], int) or fault["count"] == 0:
            raise ValueError("count must be a non-zero integer (negative = "
                             "unlimited)")
        if "expires_in" in fault and not isinstance(fault["expires_in"], int):
            raise ValueError("expires_in must be an integer")
        if "wait_ms" in fault and not isinstance(fault["wait_ms"], (int, float)):
            raise ValueError("wait_ms must be a number")
        try:
            fault["_re"] = re.compile(fault["match"])
        except (re.error, TypeError) as exc:
            raise ValueError("bad match regex: %s" % exc)
        for key in ("status", "bytes", "chunk_bytes", "repeat"):
            if key in fault and not isinstance(fault[key], int):
                raise ValueError("%s must be an integer" % key)
        if "retry_after" in fault and not isinstance(fault["retry_after"], (int, str)):
            raise ValueError("retry_after must be an integer or a string")
        for key in ("seconds", "delay_ms", "wait_ms", "retry_after_date"):
            if key in fault and not isinstance(fault[key], (int, float)):
                raise ValueError("%s must be a number" % key)
        return fault


# ---------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------

class Server(http.server.ThreadingHTTPServer):
    """Threaded HTTP/1.1 server that ignores vanished clients."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout,
                            ssl.SSLError)):
            return
        super().handle_error(request, client_address)


def make_server(args):
    """Build the fleet, state and listening server from parsed ``args``."""
    def build(variant):
        fleet = fleetmod.build_fleet(args.fleet, legacy_tenant=args.legacy_tenant,
                                     wide_clusters=getattr(args, "wide_clusters", 100))
        for i in range(getattr(args, "extra_groups", 0)):
            fleet.add_group(fleetmod.group_doc("be%022x" % (i + 1), "bench-%d" % (i + 1),
                                               "2024-01-15T10:00:00Z", 0))
        return fleetmod.add_variant(fleet, variant) if variant else fleet

    state = State(args, build({}), build)
    handler = type("BoundHandler", (Handler,), {"state": state})
    server_cls = Server
    if ":" in args.host:
        server_cls = type("Server6", (Server,), {"address_family": socket.AF_INET6})
    server = server_cls((args.host, args.port), handler)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        # the handshake runs in the connection's thread, not the acceptor's
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    server.state = state
    return server


def parse_args(argv=None):
    env_port = os.environ.get("ATLAS_MOCK_PORT")
    p = argparse.ArgumentParser(description="Mock MongoDB Atlas Admin API v2")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int,
                   default=int(env_port) if env_port else 18443,
                   help="0 = any free port (default $ATLAS_MOCK_PORT or 18443)")
    p.add_argument("--fleet", choices=("test", "wide", "demo"), default="test")
    p.add_argument("--public-key", default="mockpublic")
    p.add_argument("--private-key", default="mock-private-key-3f9a")
    p.add_argument("--client-id", default="mdb_sa_id_mock")
    p.add_argument("--client-secret", default="mdb_sa_sk_mock-secret")
    p.add_argument("--latency-ms", type=float, default=0,
                   help="delay added to every /api request")
    p.add_argument("--token-ttl", type=int, default=3600,
                   help="OAuth token lifetime in seconds")
    p.add_argument("--token-limit", type=int, default=-1,
                   help="active OAuth tokens allowed (403 over it; -1: any)")
    p.add_argument("--nonce-uses", type=int, default=1000,
                   help="authorized requests per Digest nonce")
    p.add_argument("--legacy-tenant", action="store_true",
                   help="serve the removed tenant snapshot endpoints")
    p.add_argument("--rate-limit", type=int, default=1000000,
                   help="RateLimit-Limit value (per 60 s window, never enforced)")
    p.add_argument("--token-bucket", type=int, default=0,
                   help="answer as a token bucket of this many tokens (0: off)")
    p.add_argument("--refill-per-sec", type=float, default=50,
                   help="tokens added to the bucket a second")
    p.add_argument("--no-rate-headers", action="store_true",
                   help="send no RateLimit-Limit / RateLimit-Remaining")
    p.add_argument("--wide-clusters", type=int, default=100,
                   help="clusters in the wide fleet's analytics-project "
                        "(beyond 100: w101 .. wN, one snapshot each)")
    p.add_argument("--extra-groups", type=int, default=0,
                   help="add this many empty projects (synthetic clusters)")
    p.add_argument("--tls-cert", default=None,
                   help="serve HTTPS with this PEM certificate (chain)")
    p.add_argument("--tls-key", default=None,
                   help="PEM private key of --tls-cert")
    p.add_argument("--verbose", action="store_true",
                   help="access log on stderr")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        server = make_server(args)
    except OSError as exc:
        sys.stderr.write("mock atlas: cannot listen on %s:%d: %s\n"
                         % (args.host, args.port, exc))
        return 1
    host, port = server.server_address[:2]
    shown = "[%s]" % host if ":" in host else host
    sys.stdout.write("mock atlas listening on %s://%s:%d\n"
                     % ("https" if args.tls_cert else "http", shown, port))
    sys.stdout.flush()
    try:
        import signal
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
