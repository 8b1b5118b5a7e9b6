"""
Self-test of the mock Atlas server (stdlib unittest).

Run from the repository root:

    python3 -m unittest test/test_mock.py -v

Starts test/mock_atlas.py on a free port (--port 0, the port is read from
its "mock atlas listening on ..." line) with --nonce-uses 3 and exercises
Digest and OAuth authentication, pagination, the request log and faults.
"""

import base64
import gzip
import hashlib
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
MOCK = os.path.join(HERE, "mock_atlas.py")

G1 = "32b6e34b3d91647abb20e7b8"
PUBLIC, PRIVATE = "mockpublic", "mock-private-key-3f9a"
CLIENT_ID, CLIENT_SECRET = "mdb_sa_id_mock", "mdb_sa_sk_mock-secret"
V2023 = "application/vnd.atlas.2023-01-01+json"
V_CLUSTERS = "application/vnd.atlas.2024-08-05+json"
V_FLEX = "application/vnd.atlas.2024-11-13+json"

REPLICA_FIELDS = {"cloudProvider", "copyRegions", "createdAt", "description",
                  "expiresAt", "frequencyType", "id", "links", "masterKeyUUID",
                  "mongodVersion", "policyItems", "replicaSetName",
                  "snapshotType", "status", "storageSizeBytes", "type"}


class MockAtlasTest(unittest.TestCase):
    """Black-box tests against a freshly started mock."""

    @classmethod
    def setUpClass(cls):
        cls.proc = subprocess.Popen(
            [sys.executable, MOCK, "--port", "0", "--nonce-uses", "3"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = cls.proc.stdout.readline()
        m = re.fullmatch(r"mock atlas listening on (http://127\.0\.0\.1:(\d+))\n",
                         line)
        if not m:
            cls.proc.kill()
            raise RuntimeError("mock did not start: %r %s"
                               % (line, cls.proc.stderr.read()))
        cls.url = m.group(1)
        cls.port = int(m.group(2))

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(timeout=10)
        cls.proc.stdout.close()
        cls.proc.stderr.close()

    def setUp(self):
        self.control("POST", "/_mock/reset")

    # -- helpers -------------------------------------------------------------

    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else (
            b"" if method == "POST" else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.read().decode()

    def log_lines(self, authorized=False):
        text = self.control("GET", "/_mock/log" + ("?authorized=1"
                                                   if authorized else ""))
        return text.splitlines()

    def digest_get(self, path, accept=V2023, password=PRIVATE):
        """GET through urllib's HTTPDigestAuthHandler: (status, headers, body)."""
        mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        mgr.add_password(None, self.url, PUBLIC, password)
        opener = urllib.request.build_opener(
            urllib.request.HTTPDigestAuthHandler(mgr))
        req = urllib.request.Request(self.url + path)
        if accept:
            req.add_header("Accept", accept)
        try:
            with opener.open(req, timeout=10) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()

    def raw(self, method, path, headers=None, body=None, conn=None):
        """One request on an http.client connection: (status, headers, body)."""
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port,
                                                  timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read()
        finally:
            if own:
                conn.close()

    def token(self, user=CLIENT_ID, secret=CLIENT_SECRET,
              body="grant_type=client_credentials"):
        basic = base64.b64encode(("%s:%s" % (user, secret)).encode()).decode()
        return self.raw("POST", "/api/oauth/token", {
            "Authorization": "Basic " + basic,
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json"}, body)

    @staticmethod
    def digest_header(challenge, method, uri, nc, password=PRIVATE):
        """Authorization header answering ``challenge`` (RFC 7616, MD5)."""
        nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)

        def md5(s):
            return hashlib.md5(s.encode()).hexdigest()

        cnonce = secrets.token_hex(8)
        ncs = "%08x" % nc
        ha1 = md5("%s:MMS Public API:%s" % (PUBLIC, password))
        ha2 = md5("%s:%s" % (method, uri))
        resp = md5("%s:%s:%s:%s:auth:%s" % (ha1, nonce, ncs, cnonce, ha2))
        return ('Digest username="%s", realm="MMS Public API", nonce="%s", '
                'uri="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="%s", '
                'response="%s"' % (PUBLIC, nonce, uri, ncs, cnonce, resp))

    # -- tests -----------------------------------------------------------------

    def test_digest_round_trip_prod1(self):
        path = "/api/atlas/v2/groups/%s/clusters/prod-1/backup/snapshots" % G1
        status, headers, body = self.digest_get(path)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"],
                         "application/vnd.atlas.2023-01-01+json;charset=utf-8")
        self.assertIn("RateLimit-Limit", headers)
        self.assertIn("RateLimit-Remaining", headers)
        doc = json.loads(body)
        self.assertEqual(doc["totalCount"], 3)
        ids = [r["id"] for r in doc["results"]]
        self.assertEqual(ids, ["6a1f00000000000000000001",
                               "6a1f00000000000000000002",
                               "6a1f00000000000000000003"])
        first, second, third = doc["results"]
        self.assertEqual(set(first), REPLICA_FIELDS - {"description"})
        self.assertEqual(first["storageSizeBytes"], 1234567890123)
        self.assertEqual(first["copyRegions"], ["US_EAST_1", "EU_WEST_1"])
        self.assertEqual(second["description"], "before schema migration")
        self.assertNotIn("masterKeyUUID", second)
        self.assertEqual(second["snapshotType"], "onDemand")
        self.assertIsNone(third["storageSizeBytes"])
        self.assertNotIn("copyRegions", third)
        self.assertEqual(third["status"], "failed")
        self.assertTrue(set(first) <= REPLICA_FIELDS)
        self.assertEqual([l["rel"] for l in doc["links"]], ["self"])
        # one challenge, then success, both logged
        self.assertEqual([l.split()[0] for l in self.log_lines()], ["401", "200"])

        status, _, body = self.digest_get(path + "/6a1f00000000000000000002")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["storageSizeBytes"], 2048)

    def test_pagination_n1234(self):
        base = "/api/atlas/v2/groups/%s/clusters/n1234/backup/snapshots" % G1
        sizes, seen, total = [], set(), 0
        for page in (1, 2, 3):
            status, _, body = self.digest_get(
                "%s?pageNum=%d&itemsPerPage=500" % (base, page))
            self.assertEqual(status, 200)
            doc = json.loads(body)
            self.assertEqual(doc["totalCount"], 1234)
            sizes.append(len(doc["results"]))
            rels = [l["rel"] for l in doc["links"]]
            self.assertEqual(rels, ["self", "next"] if page < 3 else ["self"])
            for item in doc["results"]:
                seen.add(item["id"])
                total += item["storageSizeBytes"]
        self.assertEqual(sizes, [500, 500, 234])
        self.assertEqual(len(seen), 1234)
        self.assertEqual(total, 1234 * 1000000 + 1234 * 1233 // 2)
        self.assertIn("32b6e34b000004d200000000", seen)
        self.assertIn("32b6e34b000004d2000004d1", seen)
        # beyond the end: empty page, still a total
        status, _, body = self.digest_get(base + "?pageNum=4&itemsPerPage=500")
        self.assertEqual(json.loads(body)["results"], [])

    def test_include_count_false(self):
        path = ("/api/atlas/v2/groups/%s/clusters/n10/backup/snapshots"
                "?includeCount=false&itemsPerPage=4" % G1)
        status, _, body = self.digest_get(path)
        self.assertEqual(status, 200)
        doc = json.loads(body)
        self.assertNotIn("totalCount", doc)
        self.assertEqual(len(doc["results"]), 4)

    def test_token_and_bearer(self):
        status, _, body = self.token()
        self.assertEqual(status, 200)
        doc = json.loads(body)
        self.assertEqual(doc["token_type"], "Bearer")
        self.assertEqual(doc["expires_in"], 3600)
        token = doc["access_token"]
        path = "/api/atlas/v2/groups/%s/flexClusters/flex-1/backup/snapshots" % G1
        status, headers, body = self.raw("GET", path, {
            "Authorization": "Bearer " + token, "Accept": V_FLEX})
        self.assertEqual(status, 200)
        statuses = [r["status"] for r in json.loads(body)["results"]]
        self.assertEqual(statuses, ["COMPLETED", "COMPLETED", "FAILED"])
        # URL-escaped Basic credentials (Go oauth2 style) are accepted too
        status, _, _ = self.token(urllib.parse.quote_plus(CLIENT_ID),
                                  urllib.parse.quote_plus(CLIENT_SECRET))
        self.assertEqual(status, 200)
        # revoked tokens are refused with a Bearer challenge
        self.control("POST", "/_mock/revoke-tokens")
        status, headers, body = self.raw("GET", path, {
            "Authorization": "Bearer " + token, "Accept": V_FLEX})
        self.assertEqual(status, 401)
        self.assertEqual(headers["WWW-Authenticate"], "Bearer")
        self.assertEqual(json.loads(body)["errorCode"], "UNAUTHORIZED")
        stats = json.loads(self.control("GET", "/_mock/stats"))
        self.assertEqual(stats["tokens_issued"], 2)
        # the token never appears in the log
        self.assertFalse(any(token in l for l in self.log_lines()))

    def test_token_limit_and_429(self):
        self.control("POST", "/_mock/revoke-tokens")
        self.control("POST", "/_mock/token-limit", {"limit": 1})
        status, _, _ = self.token()
        self.assertEqual(status, 200)
        # over the limit: Atlas's OAuth error answer
        status, _, body = self.token()
        self.assertEqual(status, 403)
        doc = json.loads(body)
        self.assertEqual(doc["error"], "access_denied")
        self.assertTrue(doc["error_description"].startswith(
            "Access Token limit reached."))
        # revoked tokens no longer count; reset lifts the limit
        self.control("POST", "/_mock/revoke-tokens")
        self.assertEqual(self.token()[0], 200)
        self.control("POST", "/_mock/reset")
        self.assertEqual(self.token()[0], 200)
        # the token endpoint's own rate limit, with Retry-After
        self.control("POST", "/_mock/fault", {"match": "oauth/token",
                                              "kind": "status", "status": 429,
                                              "retry_after": 1})
        status, headers, body = self.token()
        self.assertEqual((status, headers["Retry-After"]), (429, "1"))
        self.assertEqual(json.loads(body)["detail"],
                         "Resource /api/oauth/token is limited to 10 "
                         "requests every 1 minutes.")
        stats = json.loads(self.control("GET", "/_mock/stats"))
        self.assertEqual(stats["token_requests"], 2)

    def test_bad_credentials(self):
        # urllib gives up after a few retries (no body then): check the
        # retry count, then look at one wrong answer with http.client
        status, _, _ = self.digest_get("/api/atlas/v2/groups", password="wrong")
        self.assertEqual(status, 401)
        path = "/api/atlas/v2/groups"
        _, headers, _ = self.raw("GET", path, {"Accept": V2023})
        wrong = self.digest_header(headers["WWW-Authenticate"], "GET", path, 1,
                                   password="wrong")
        status, headers, body = self.raw("GET", path, {"Accept": V2023,
                                                       "Authorization": wrong})
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(body), {
            "detail": "You are not authorized for this resource.",
            "error": 401, "errorCode": "UNAUTHORIZED", "reason": "Unauthorized"})
        self.assertRegex(headers["WWW-Authenticate"],
                         r'^Digest realm="MMS Public API", domain="", '
                         r'nonce="[^"]+", algorithm=MD5, qop="auth", stale=false$')
        self.assertEqual(self.log_lines(authorized=True), [])
        status, _, body = self.token(secret="nope")
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(body)["error"], "invalid_client")
        status, _, body = self.token(body="grant_type=password")
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["error"], "unsupported_grant_type")
        status, headers, _ = self.raw("GET", "/api/atlas/v2/groups", {
            "Authorization": "Bearer made-up", "Accept": V2023})
        self.assertEqual((status, headers["WWW-Authenticate"]), (401, "Bearer"))

    def test_fault_retry_after_date_repeat_headers(self):
        import email.utils
        import time
        path = "/api/atlas/v2/groups/%s/clusters/n7/backup/snapshots" % G1
        self.control("POST", "/_mock/fault", {
            "match": r"/clusters/n7/", "kind": "status", "status": 429,
            "retry_after_date": 3600, "detail": "ab\n", "repeat": 3})
        status, headers, body = self.digest_get(path)
        self.assertEqual(status, 429)
        when = email.utils.parsedate_to_datetime(headers["Retry-After"])
        self.assertGreater(when.timestamp(), time.time() + 3000)
        self.assertEqual(json.loads(body)["detail"], "ab\nab\nab\n")
        self.control("POST", "/_mock/fault", {
            "match": r"/clusters/n7/", "kind": "huge_headers", "bytes": 5000,
            "wait_ms": 10})
        status, headers, body = self.digest_get(path)
        self.assertEqual(status, 200)
        pads = [k for k in headers if k.startswith("X-Mock-Pad-")]
        self.assertEqual(len(pads), 5)
        self.assertEqual(json.loads(body)["totalCount"], 7)

    def test_fault_consumed_once(self):
        self.control("POST", "/_mock/fault", {
            "match": r"/clusters/n7/", "count": 1, "kind": "status",
            "status": 503, "retry_after": 2})
        path = "/api/atlas/v2/groups/%s/clusters/n7/backup/snapshots" % G1
        status, headers, body = self.digest_get(path)
        self.assertEqual(status, 503)
        self.assertEqual(headers["Retry-After"], "2")
        self.assertEqual(json.loads(body)["errorCode"], "SERVICE_UNAVAILABLE")
        status, _, body = self.digest_get(path)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["totalCount"], 7)
        self.assertEqual([l.split()[0] for l in self.log_lines()],
                         ["401", "503", "401", "200"])
        stats = json.loads(self.control("GET", "/_mock/stats"))
        self.assertEqual(stats["faults_applied"], 1)
        self.assertEqual(stats["faults_pending"], 0)

    def test_variant_and_rate_headers(self):
        """A variant changes the fleet until the next reset; rate_headers
        answers normally with the RateLimit headers it is given."""
        g4 = "7c4e1d2a9b3f5e6d7a8b9c0d"
        self.control("POST", "/_mock/variant", {"untyped": True, "projects": 2})
        status, _, body = self.digest_get("/api/atlas/v2/groups")
        self.assertEqual(json.loads(body)["totalCount"], 6)
        status, _, body = self.digest_get("/api/atlas/v2/groups/%s/clusters" % g4,
                                          accept=V_CLUSTERS)
        items = {c["name"]: c for c in json.loads(body)["results"]}
        self.assertNotIn("clusterType", items["untyped-rs"])
        self.assertNotIn("backupEnabled", items["unflagged-1"])
        self.assertEqual(items["future-1"]["clusterType"], "FUTURE_TOPOLOGY")
        status, _, body = self.digest_get(
            "/api/atlas/v2/groups/%s/clusters/untyped-sh/backup/snapshots/shardedClusters" % g4)
        self.assertEqual(json.loads(body)["totalCount"], 1)
        self.control("POST", "/_mock/fault", {
            "match": r"/v2/groups$", "kind": "rate_headers", "remaining": 0,
            "limit": 100})
        status, headers, body = self.digest_get("/api/atlas/v2/groups")
        self.assertEqual(status, 200)
        self.assertEqual(headers["RateLimit-Remaining"], "0")
        self.assertEqual(headers["RateLimit-Limit"], "100")
        self.control("POST", "/_mock/reset")
        status, _, body = self.digest_get("/api/atlas/v2/groups")
        self.assertEqual(json.loads(body)["totalCount"], 3)
        with self.assertRaises(urllib.error.HTTPError):
            self.control("POST", "/_mock/variant", {"nonsense": 1})

    def test_raw_fault_bytes(self):
        body = b'{"results":[{"status":"\xff"}]}\x00'
        self.control("POST", "/_mock/fault", {
            "match": r"/clusters/n7/", "kind": "raw",
            "body_b64": base64.b64encode(body).decode()})
        path = "/api/atlas/v2/groups/%s/clusters/n7/backup/snapshots" % G1
        status, headers, got = self.digest_get(path)
        self.assertEqual((status, got), (200, body))
        self.assertEqual(headers["Content-Type"],
                         "application/vnd.atlas.2023-01-01+json;charset=utf-8")
        self.control("POST", "/_mock/fault", {
            "match": r"/clusters/n7/", "kind": "raw", "body": "{\"a\": \"\u00e9\"}"})
        status, _, got = self.digest_get(path)
        self.assertEqual((status, got), (200, '{"a": "\u00e9"}'.encode()))

    def test_log_format(self):
        path = ("/api/atlas/v2/groups/%s/clusters/prod-1/backup/snapshots"
                "?pageNum=1&itemsPerPage=500" % G1)
        self.digest_get(path)
        self.digest_get("/api/atlas/v2/groups/%s/clusters" % G1,
                        accept=V_CLUSTERS)
        self.token()
        self.assertEqual(self.log_lines(), [
            "401 GET " + path,
            "200 GET " + path,
            "401 GET /api/atlas/v2/groups/%s/clusters" % G1,
            "200 GET /api/atlas/v2/groups/%s/clusters" % G1,
            "200 POST /api/oauth/token",
        ])
        self.assertEqual(self.log_lines(authorized=True), [
            "200 GET " + path,
            "200 GET /api/atlas/v2/groups/%s/clusters" % G1,
            "200 POST /api/oauth/token",
        ])

    def test_digest_nonce_reuse_and_stale(self):
        path = "/api/atlas/v2/groups"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            status, headers, _ = self.raw("GET", path, {"Accept": V2023},
                                          conn=conn)
            self.assertEqual(status, 401)
            challenge = headers["WWW-Authenticate"]
            for nc in (1, 2, 3):        # --nonce-uses 3, one connection
                status, _, body = self.raw("GET", path, {
                    "Accept": V2023,
                    "Authorization": self.digest_header(challenge, "GET",
                                                        path, nc)}, conn=conn)
                self.assertEqual(status, 200)
            self.assertEqual([g["name"] for g in json.loads(body)["results"]],
                             ["prod-project", "staging-project",
                              "analytics-project"])
            status, headers, _ = self.raw("GET", path, {
                "Accept": V2023,
                "Authorization": self.digest_header(challenge, "GET", path, 4)},
                conn=conn)
            self.assertEqual(status, 401)
            self.assertIn("stale=true", headers["WWW-Authenticate"])
            self.assertNotEqual(headers["WWW-Authenticate"], challenge)
            # the new nonce works; a replayed nc does not; wrong uri does not
            fresh = headers["WWW-Authenticate"]
            ok = self.digest_header(fresh, "GET", path, 1)
            self.assertEqual(self.raw("GET", path, {"Accept": V2023,
                                                    "Authorization": ok},
                                      conn=conn)[0], 200)
            status, headers, _ = self.raw("GET", path, {
                "Accept": V2023, "Authorization": ok}, conn=conn)
            self.assertEqual(status, 401)
            self.assertIn("stale=false", headers["WWW-Authenticate"])
            bad_uri = self.digest_header(fresh, "GET", "/api/atlas/v2/other", 2)
            self.assertEqual(self.raw("GET", path, {"Accept": V2023,
                                                    "Authorization": bad_uri},
                                      conn=conn)[0], 401)
        finally:
            conn.close()

    def test_errors_and_special_resources(self):
        g = "/api/atlas/v2/groups/%s" % G1
        cases = [
            (g + "/clusters/prod-1/backup/snapshots", None, 406,
             "INVALID_VERSION_DATE"),
            (g + "/clusters/prod-1/backup/snapshots?itemsPerPage=501", V2023,
             400, "VALIDATION_ERROR"),
            ("/api/atlas/v2/groups/XYZ/clusters", V_CLUSTERS, 400,
             "VALIDATION_ERROR"),
            ("/api/atlas/v2/groups/%s/clusters" % ("0" * 24), V_CLUSTERS, 404,
             "GROUP_NOT_FOUND"),
            (g + "/clusters/nope/backup/snapshots", V2023, 404,
             "CLUSTER_NOT_FOUND"),
            (g + "/clusters/prod-1/backup/snapshots/" + "f" * 24, V2023, 404,
             "SNAPSHOT_NOT_FOUND"),
            (g + "/clusters/flex-1/backup/snapshots", V2023, 400,
             "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API"),
            (g + "/flexClusters/prod-1/backup/snapshots", V_FLEX, 400,
             "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API"),
            (g + "/clusters/prod-1/backup/tenant/snapshots", V2023, 404,
             "RESOURCE_NOT_FOUND"),
            (g + "/serverless/serverless-gone/backup/snapshots", V2023, 410,
             "VERSION_GONE"),
            (g + "/clusters/prod-1/backup/snapshots?oplogTs=1", V2023, 400,
             "VALIDATION_ERROR"),
        ]
        for path, accept, want_status, want_code in cases:
            with self.subTest(path=path):
                status, headers, body = self.digest_get(path, accept=accept)
                self.assertEqual(status, want_status)
                self.assertEqual(headers["Content-Type"], "application/json")
                self.assertEqual(json.loads(body)["errorCode"], want_code)

        # point in time: newest snapshot at or before the given second
        status, _, body = self.digest_get(
            g + "/clusters/prod-1/backup/snapshots?pointInTimeUtcSeconds=1793491199")
        self.assertEqual([r["id"] for r in json.loads(body)["results"]],
                         ["6a1f00000000000000000002"])
        # sharded list and inventory shapes
        status, _, body = self.digest_get(
            g + "/clusters/shard-1/backup/snapshots/shardedClusters")
        items = json.loads(body)["results"]
        self.assertEqual([i["id"] for i in items],
                         ["6a2f000000000000000000a1", "6a2f000000000000000000a2"])
        self.assertEqual(len(items[0]["members"]), 3)
        status, _, body = self.digest_get(g + "/clusters", accept=V_CLUSTERS)
        self.assertEqual([c["name"] for c in json.loads(body)["results"]],
                         ["prod-1", "prod-2", "shard-1", "nobackup-1"])
        status, _, body = self.digest_get(g + "/serverless/serverless-empty"
                                          "/backup/snapshots")
        self.assertEqual((status, json.loads(body)["totalCount"]), (200, 0))

    def test_faults_for_promises(self):
        """ignore_page_num, gzip, short-lived tokens, wait_ms, log times."""
        g = "/api/atlas/v2/groups/%s" % G1
        path = g + "/clusters/n7/backup/snapshots?pageNum=2&itemsPerPage=2"
        status, _, body = self.digest_get(path)
        page2 = [r["id"] for r in json.loads(body)["results"]]
        self.control("POST", "/_mock/fault", {"match": "clusters/n7/",
                                              "kind": "ignore_page_num"})
        status, _, body = self.digest_get(path)
        self.assertEqual(status, 200)
        ignored = [r["id"] for r in json.loads(body)["results"]]
        status, _, body = self.digest_get(path.replace("pageNum=2", "pageNum=1"))
        self.assertEqual(ignored, [r["id"] for r in json.loads(body)["results"]])
        self.assertNotEqual(ignored, page2)
        # a cycle of 2: page 3 is page 1 again, page 4 is page 2
        self.control("POST", "/_mock/reset")
        self.control("POST", "/_mock/fault", {"match": "clusters/n7/",
                                              "kind": "ignore_page_num",
                                              "cycle": 2, "count": 2})
        for asked in (3, 4):
            status, _, body = self.digest_get(
                path.replace("pageNum=2", "pageNum=%d" % asked))
            self.assertEqual(status, 200)
            self.assertEqual([r["id"] for r in json.loads(body)["results"]],
                             ignored if asked == 3 else page2)

        # gzip only when offered
        status, _, plain = self.digest_get(path)
        self.control("POST", "/_mock/fault", {"match": "clusters/n7/",
                                              "kind": "gzip", "count": 2})
        _, challenge_headers, _ = self.raw("GET", path, {"Accept": V2023})
        uri = path
        for nc, encoding in ((1, "gzip, deflate"), (2, "identity")):
            hdr = self.digest_header(challenge_headers["WWW-Authenticate"],
                                     "GET", uri, nc)
            status, headers, body = self.raw("GET", path, {
                "Accept": V2023, "Authorization": hdr,
                "Accept-Encoding": encoding})
            self.assertEqual(status, 200)
            if nc == 1:
                self.assertEqual(headers["Content-Encoding"], "gzip")
                self.assertEqual(gzip.decompress(body), plain)
            else:
                self.assertIsNone(headers["Content-Encoding"])
                self.assertEqual(body, plain)
        stats = json.loads(self.control("GET", "/_mock/stats"))
        self.assertEqual((stats["gzip_sent"], stats["gzip_not_offered"]), (1, 1))

        # a token that lives one second
        self.control("POST", "/_mock/fault", {"match": "oauth/token",
                                              "kind": "token", "expires_in": 1})
        status, _, body = self.token()
        self.assertEqual((status, json.loads(body)["expires_in"]), (200, 1))

        # wait_ms delays an answer; the log knows arrival and answer times
        self.control("POST", "/_mock/reset")
        self.control("POST", "/_mock/fault", {"match": "clusters/n7/",
                                              "kind": "status", "status": 429,
                                              "wait_ms": 200})
        status, _, _ = self.digest_get(path)
        self.assertEqual(status, 429)
        lines = self.control("GET", "/_mock/log?times=1&authorized=1").splitlines()
        arrived, answered, rest = lines[-1].split(" ", 2)
        self.assertTrue(rest.startswith("429 GET "))
        self.assertGreaterEqual(int(answered) - int(arrived), 190)

    def test_backup_extras(self):
        g = "/api/atlas/v2/groups/%s" % G1
        v_buckets = "application/vnd.atlas.2024-05-30+json"
        v_policy = "application/vnd.atlas.2023-10-01+json"
        status, _, body = self.digest_get(g + "/clusters/prod-1/backup/schedule",
                                          accept=V_CLUSTERS)
        doc = json.loads(body)
        self.assertEqual(status, 200)
        self.assertEqual([i["frequencyType"] for i in doc["policies"][0]["policyItems"]],
                         ["hourly", "daily", "weekly", "monthly"])
        cases = [
            (g + "/clusters/nobackup-1/backup/schedule", V_CLUSTERS, 404,
             "BACKUP_CONFIG_NOT_FOUND"),
            (g + "/clusters/prod-1/backup/restoreJobs/" + "f" * 24, V2023, 404,
             "RESTORE_JOB_NOT_FOUND"),
            (g + "/flexClusters/prod-1/backup/restoreJobs", V_FLEX, 400,
             "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API"),
            (g + "/backup/exportBuckets/" + "f" * 24, v_buckets, 404,
             "EXPORT_BUCKET_NOT_FOUND"),
            ("/api/atlas/v2/groups/6b8cd3c1e8f0b0a1d2c3d4e5/backupCompliancePolicy",
             v_policy, 404, "RESOURCE_NOT_FOUND"),
            (g + "/backupCompliancePolicy", V2023, 406, "INVALID_VERSION_DATE"),
        ]
        for path, accept, want_status, want_code in cases:
            with self.subTest(path=path):
                status, _, body = self.digest_get(path, accept=accept)
                self.assertEqual(status, want_status)
                self.assertEqual(json.loads(body)["errorCode"], want_code)
        status, _, body = self.digest_get(
            g + "/clusters/prod-1/backup/restoreJobs?itemsPerPage=2")
        doc = json.loads(body)
        self.assertEqual((doc["totalCount"], len(doc["results"])), (3, 2))
        status, _, body = self.digest_get(g + "/backup/exportBuckets",
                                          accept=v_buckets)
        self.assertEqual([b["_id"] for b in json.loads(body)["results"]],
                         ["6c0b00000000000000000001", "6c0b00000000000000000002"])
        status, _, body = self.digest_get(g + "/backupCompliancePolicy",
                                          accept=v_policy)
        self.assertEqual(json.loads(body)["state"], "ACTIVE")


if __name__ == "__main__":
    unittest.main()
