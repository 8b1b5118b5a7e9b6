#!/usr/bin/env python3
"""
Session fuzzer: random, seeded, replayable SQL sessions in one backend.

    python3 test/session_fuzz.py [--sessions N] [--seed S] [--db DB]
                                 [--only KINDS] [--skip KINDS] [-v]
    python3 test/session_fuzz.py --replay SESSION_SEED
    python3 test/session_fuzz.py --list-kinds

Runs inside a cluster (PG* environment, e.g. from pg_virtualenv) against
the mock Atlas server ($ATLAS_MOCK_URL and the ATLAS_MOCK_* credentials of
scripts/common.sh), in database --db ($PGDATABASE, else postgres), where it
creates the extension if need be and its own servers and tables (sf_*,
dropped at the end).

A session is what a user does in one connection: plain queries, or a
transaction with cursors (DECLARE, FETCH n, MOVE n, FETCH ALL, CLOSE), idle
gaps longer than the servers' timeout_ms (300 ms), savepoints released or
rolled back (around a query that fails, too), slow consumers (pg_sleep in
the target list, or a slow plan step between two scans), joins of the
inventory with a snapshot table with enumeration on and off and the join
method forced (enable_hashjoin/mergejoin/nestloop), LIMIT, EXPLAIN ANALYZE,
enumerations (project-wide and organization-wide), key columns of other
types than text, request chain limits, cancels and statement_timeout, and
the mock's faults (500, 502, 503, 429 once or for good, resets, truncated
and stalled answers, bad JSON, wrong shapes, 410, huge headers, redirects,
a server that ignores pageNum, an inventory without clusterType).

Every statement is checked against the rows that test/fleet.py says the
mock serves, or the SQLSTATE its fault allows; a cursor's FETCHes must
return the right number of rows, each a row of the query, none twice, each
cluster's rows in Atlas's order.  A fault that fails a scan must count in
atlas_snapshot_fdw_stats() (errors, rate_limited); EXPLAIN ANALYZE's
Requests, Pages and Rate Limited must match the mock's log; a scan that met
a 429 keeps its cut concurrency from the inventory to the snapshots.  After
each session the backend must be the same process (every session runs in
one backend), and over the run its VmRSS and the total of
pg_backend_memory_contexts must stay flat after a warm-up.

Session k of a run with --seed S has the seed S * 100000 + k; the steps of
a session depend on its seed alone, never on what the server answered, so
--replay SEED runs the same statements (in a new backend) and prints the
psql script it ran (faults as \\! python3 test/mockctl.py lines).  A failing
session prints its seed and the replay command; the end lists the failures
by kind, and the last line reads "sessions: N passed, M failed".  Exit
status 1 on any failure.
"""

import argparse
import collections
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleet  # noqa: E402
import mockctl  # noqa: E402
import soak  # noqa: E402

FLEET = fleet.build_test_fleet()
G1, G2, G3 = fleet.G1, fleet.G2, fleet.G3
SESSION_SEED_STRIDE = 100000

TIMEOUT_MS = 300            # timeout_ms of the fuzzer's servers
IDLE_S = (0.4, 0.6)         # client-side idle gaps, longer than TIMEOUT_MS
STATEMENT_TIMEOUT = "5s"    # the backend's statement_timeout: no step hangs
WATCHDOG_S = 30             # a statement that outlives it kills psql
MSG_RE = re.compile(r"^(?:psql:[^:]*:\d+: )?"
                    r"(ERROR|WARNING|NOTICE|INFO|DETAIL|HINT|CONTEXT|LOCATION):  ?(.*)$")

# ---------------------------------------------------------------------------
# Schema: servers and tables of the fuzzer
# ---------------------------------------------------------------------------

SERVER_OPTS = ("items_per_page '10', max_retries '2', max_retry_wait_ms '20', "
               "timeout_ms '%d', max_concurrency '%%d'" % TIMEOUT_MS)
AUTHS = ("key", "sa")


def setup_sql():
    """The psql script that creates the fuzzer's objects."""
    out = ["\\set ON_ERROR_STOP 0",
           "\\set VERBOSITY default",
           "\\set SHOW_CONTEXT never",
           "\\getenv mock_url ATLAS_MOCK_URL",
           "\\getenv public_key ATLAS_MOCK_PUBLIC_KEY",
           "\\getenv private_key ATLAS_MOCK_PRIVATE_KEY",
           "\\getenv client_id ATLAS_MOCK_CLIENT_ID",
           "\\getenv client_secret ATLAS_MOCK_CLIENT_SECRET",
           "SET client_min_messages = warning;",
           "CREATE EXTENSION IF NOT EXISTS atlas_snapshot_fdw;",
           "DROP SERVER IF EXISTS sf_key, sf_sa, sf_pace CASCADE;",
           "DROP DOMAIN IF EXISTS sf_nname;",
           "CREATE DOMAIN sf_nname AS text CHECK (VALUE LIKE 'n1%');"]
    for srv, auth, conc in (("sf_key", "key", 4), ("sf_sa", "sa", 4),
                            ("sf_pace", "key", 2)):
        out.append("CREATE SERVER %s FOREIGN DATA WRAPPER atlas_snapshot_fdw "
                   "OPTIONS (base_url :'mock_url', %s);" % (srv, SERVER_OPTS % conc))
        if auth == "key":
            out.append("CREATE USER MAPPING FOR CURRENT_USER SERVER %s OPTIONS "
                       "(public_key :'public_key', private_key :'private_key');" % srv)
        else:
            out.append("CREATE USER MAPPING FOR CURRENT_USER SERVER %s OPTIONS "
                       "(client_id :'client_id', client_secret :'client_secret');" % srv)
    snap_cols = "group_id text, cluster_name %s, id text"
    for auth in AUTHS:
        srv = "sf_" + auth
        tables = [
            ("snaps", snap_cols % "text", "resource 'cluster_snapshots'"),
            ("snaps_noenum", snap_cols % "text",
             "resource 'cluster_snapshots', enumerate 'false'"),
            ("snaps_c3", snap_cols % "text",
             "resource 'cluster_snapshots', max_request_chains '3'"),
            ("clusters", "group_id text, name text, cluster_type text",
             "resource 'clusters'"),
            ("flex", snap_cols % "text", "resource 'flex_snapshots'"),
            ("flex_c2", snap_cols % "text",
             "resource 'flex_snapshots', max_request_chains '2'"),
            ("buckets", "group_id text, bucket_name text",
             "resource 'export_buckets', items_per_page '1'"),
            ("snaps_dom", snap_cols % "sf_nname", "resource 'cluster_snapshots'"),
            ("snaps_vc3", snap_cols % "varchar(3)", "resource 'cluster_snapshots'"),
            ("snaps_name", snap_cols % "name", "resource 'cluster_snapshots'"),
            ("snaps_int", snap_cols % "integer", "resource 'cluster_snapshots'"),
        ]
        for name, cols, opts in tables:
            out.append("CREATE FOREIGN TABLE %s_%s (%s) SERVER %s OPTIONS (%s);"
                       % (srv, name, cols, srv, opts))
    out.append("CREATE FOREIGN TABLE sf_pace_snaps (%s) SERVER sf_pace "
               "OPTIONS (resource 'cluster_snapshots');" % (snap_cols % "text"))
    out.append("RESET client_min_messages;")
    return "\n".join(out)


TEARDOWN = "DROP SERVER sf_key, sf_sa, sf_pace CASCADE; DROP DOMAIN sf_nname;"

# ---------------------------------------------------------------------------
# What the mock serves (test/fleet.py)
# ---------------------------------------------------------------------------


def replica_ids(gid, name):
    """Ids of a cluster's replica-set snapshots, newest first ([] if none)."""
    src = FLEET.replica_source(gid, name)
    return [] if src is None else [it["id"] for it in src.page(0, len(src))]


def enumerated(gid, kind="REPLICASET"):
    """Names of the clusters of a project that an enumerating scan of
    cluster_snapshots reads (backup enabled, a replica set)."""
    return [c["name"] for c in FLEET.clusters[gid]
            if c.get("backupEnabled") and c.get("clusterType") == kind]


# the clusters that a session whose inventory lacks clusterType gets
# without it (those of G1)
UNTYPED_NAMES = [c["name"] for c in FLEET.clusters[G1]]


def all_groups():
    return [g["id"] for g in FLEET.groups]


def untyped_inventory_fault(gid):
    """A fault that serves a project's cluster list with no clusterType."""
    items = []
    for c in FLEET.clusters[gid]:
        item = dict(c)
        item.pop("clusterType", None)
        items.append(item)
    body = json.dumps({"links": [], "results": items, "totalCount": len(items)})
    return {"match": "^/api/atlas/v2/groups/%s/clusters\\?" % gid,
            "kind": "raw", "body": body, "count": -1}


# fault name -> (definition without "match", SQLSTATEs allowed, rows allowed)
# "pages" in a definition: the fault fails only a list of more than one page
FAULTS = {
    "500_once": ({"kind": "status", "status": 500}, set(), True),
    "503_once": ({"kind": "status", "status": 503}, set(), True),
    "429_once": ({"kind": "status", "status": 429, "retry_after": 0}, set(), True),
    "502_html_once": ({"kind": "html", "status": 502}, set(), True),
    "reset_once": ({"kind": "reset"}, set(), True),
    "truncated_once": ({"kind": "truncated"}, set(), True),
    "short_wait": ({"kind": "stall", "seconds": 0.05}, {"HV00N"}, True),
    "slow_body": ({"kind": "slow_body", "chunk_bytes": 2048, "delay_ms": 40},
                  {"HV00N"}, True),
    "503_always": ({"kind": "status", "status": 503, "count": -1}, {"HV000"}, False),
    "429_always": ({"kind": "status", "status": 429, "retry_after": 0, "count": -1},
                   {"HV000"}, False),
    "reset_always": ({"kind": "reset", "count": -1}, {"HV00N"}, False),
    "invalid_json": ({"kind": "invalid_json"}, {"HV00A"}, False),
    "wrong_shape": ({"kind": "wrong_shape"}, {"HV004"}, False),
    "gone": ({"kind": "gone"}, {"HV000"}, False),
    "stall": ({"kind": "stall", "seconds": 1.0}, {"HV00N"}, False),
    "huge_headers": ({"kind": "huge_headers", "bytes": 100000}, {"HV00N"}, False),
    "redirect": ({"kind": "redirect", "location": "http://127.0.0.2/"},
                 {"HV000", "HV00N"}, False),
    "ignore_page_num": ({"kind": "ignore_page_num", "count": -1, "pages": True},
                        {"HV000"}, False),
}
RETRYABLE = sorted(k for k, v in FAULTS.items() if v[2] and not v[1])
RATE_FAULTS = {"503_once", "429_once", "503_always", "429_always"}
# faults for an inventory list (a single page): what fails it for good
INVENTORY_FAULTS = ["500_once", "503_once", "429_once", "reset_once",
                    "503_always", "reset_always", "invalid_json", "wrong_shape"]


def fault_outcome(name, pages):
    """(SQLSTATEs allowed, rows allowed) of fault name on a list of that many
    pages (a fault for good on a one-page list that only repeated pages
    would catch is no fault)."""
    fdef, states, rows_ok = FAULTS[name]
    if fdef.get("pages") and pages <= 1:
        return set(), True
    return set(states), rows_ok


def pages_of(n, per_page=10):
    """Pages a list of n items takes (a full last page asks for one more)."""
    return n // per_page + 1


# ---------------------------------------------------------------------------
# Session generation: a list of steps, from the session seed alone
# ---------------------------------------------------------------------------

KINDS = ["select", "limit", "enum", "join", "slow", "slow_between", "explain",
         "pacing", "typed", "chains", "buckets", "cancel", "stmt_timeout",
         "stall", "cursor", "idle", "savepoint", "untyped_inventory"]
KIND_HELP = {
    "select": "IN list of synthetic clusters, maybe a fault on one",
    "limit": "the same with LIMIT",
    "enum": "project-wide / organization-wide scan, maybe a fault on the inventory",
    "join": "clusters JOIN / LEFT JOIN cluster_snapshots, enumerate on/off, join method forced",
    "slow": "slow consumer: pg_sleep in the target list, longer than timeout_ms",
    "slow_between": "a slow plan step (pg_sleep) between two scans",
    "explain": "EXPLAIN ANALYZE: Requests, Pages, Rate Limited against the mock's log",
    "pacing": "a 429 on the inventory: the snapshot phase keeps the cut (Peak In Flight)",
    "typed": "key columns of type domain, varchar(3), name, integer",
    "chains": "max_request_chains against an organization-wide enumeration",
    "buckets": "export_buckets, one item a page, maybe a server ignoring pageNum",
    "cancel": "pg_cancel_backend during a stalled request",
    "stmt_timeout": "statement_timeout during a stalled request",
    "stall": "a stalled request while the backend waits: timeout_ms",
    "cursor": "transactions with cursors (DECLARE, FETCH n, MOVE n, CLOSE)",
    "idle": "client idle gaps longer than timeout_ms inside a transaction",
    "savepoint": "savepoints released or rolled back, around failing queries too",
    "untyped_inventory": "a session whose inventory lacks clusterType",
}


class Gen:
    """Draws a session's steps.  Synthetic cluster names (nN has N
    snapshots) are unique within a session, so that a fault matching one
    hits only the step that asked for it."""

    def __init__(self, seed, kinds):
        self.rng = random.Random(seed)
        self.kinds = kinds
        self.free = list(range(1, 48))
        self.rng.shuffle(self.free)
        self.ncur = 0
        self.nsp = 0

    def on(self, kind):
        return kind in self.kinds

    def clusters(self, lo=1, hi=4):
        k = self.rng.randint(lo, hi)
        return ["n%d" % self.free.pop() for _ in range(min(k, len(self.free)))]

    def auth(self):
        return self.rng.choice(AUTHS)

    def fault_for(self, names, allow_fatal=True):
        """Maybe a fault on one of names: (fault name, cluster) or None."""
        if self.rng.random() < 0.4 or not names:
            return None
        pool = sorted(FAULTS) if allow_fatal else RETRYABLE
        return self.rng.choice(pool), self.rng.choice(names)

    def plain_step(self, in_txn):
        """One statement that is not about cursors or savepoints."""
        choices = [k for k in ("select", "limit", "enum", "join", "slow",
                               "slow_between", "typed", "chains", "buckets",
                               "cancel", "stmt_timeout", "stall")
                   if self.on(k)]
        if not in_txn:
            choices += [k for k in ("explain", "pacing") if self.on(k)]
        if not choices:
            return None
        weights = {"select": 6, "limit": 3, "enum": 4, "join": 5, "slow": 1,
                   "slow_between": 1, "explain": 3, "pacing": 1, "typed": 2,
                   "chains": 1, "buckets": 2, "cancel": 1, "stmt_timeout": 1,
                   "stall": 1}
        kind = self.rng.choices(choices, [weights[c] for c in choices])[0]
        r = self.rng
        s = {"kind": kind, "auth": self.auth()}
        if kind in ("select", "limit"):
            s["group"] = r.choice((G1, G2))
            s["names"] = self.clusters()
            s["fault"] = self.fault_for(s["names"])
            if kind == "limit":
                s["limit"] = r.randint(1, 30)
        elif kind == "enum":
            s["scope"] = r.choice(("group", "org", "names"))
            if not in_txn and r.random() < 0.5:
                # outside a transaction only: an enumerating cursor open
                # in it would send the same inventory request, and either
                # might take the fault; one for good stays queued until
                # the mock is reset after the step
                s["fault"] = r.choice(INVENTORY_FAULTS)
        elif kind == "join":
            s["left"] = r.random() < 0.5
            s["enumerate"] = r.random() < 0.6
            s["method"] = r.choice((None, "hashjoin", "mergejoin", "nestloop"))
        elif kind == "slow":
            s["group"] = G1
            s["names"] = [n for n in self.clusters(2, 3)]
            s["sleep"] = r.choice((0.01, 0.02))
            s["fault"] = self.fault_for(s["names"], allow_fatal=False)
        elif kind == "slow_between":
            s["names"] = self.clusters(2, 2)
            s["sleep"] = r.uniform(*IDLE_S)
        elif kind == "explain":
            s["auth"] = "key"
            s["scope"] = r.choice(("names", "group"))
            s["names"] = self.clusters(1, 3)
            if r.random() < 0.5:
                s["fault"] = "429_once"
                s["on_inventory"] = s["scope"] == "group" and r.random() < 0.7
        elif kind == "pacing":
            s["auth"] = "key"
        elif kind == "typed":
            s["type"] = r.choice(("dom", "vc3", "name", "int"))
            # names that fit the domain and varchar(3), of the session's
            # unused ones (no fault of another step matches them)
            fit = [n for n in self.free if n == 1 or 10 <= n <= 19][:2]
            s["scope"] = r.choice(("names", "group")) if fit else "group"
            s["names"] = ["n%d" % n for n in fit]
            for n in fit:
                self.free.remove(n)
        elif kind == "chains":
            s["table"] = r.choice(("flex_c2", "snaps_c3", "flex"))
        elif kind == "buckets":
            s["limit"] = r.choice((None, 5))
            # its fault lasts until the mock is reset: outside a transaction
            s["fault"] = "ignore_page_num" if not in_txn and r.random() < 0.5 else None
        elif kind in ("cancel", "stmt_timeout", "stall"):
            s["group"] = G1
            s["names"] = self.clusters(1, 3)
            s["fault"] = ("stall", s["names"][0])
        return s

    def cursor_decl(self):
        r = self.rng
        self.ncur += 1
        s = {"kind": "declare", "cursor": "c%d" % self.ncur, "auth": self.auth()}
        if self.on("enum") and r.random() < 0.2:
            s["scope"] = r.choice(("group", "org"))
        else:
            s["scope"] = "names"
            s["group"] = r.choice((G1, G2))
            s["names"] = self.clusters(1, 4)
            s["fault"] = self.fault_for(s["names"])
        return s

    def txn_block(self):
        r = self.rng
        steps = [{"kind": "begin"}]
        open_cursors = []

        def cursor_op():
            if not open_cursors or r.random() < 0.2:
                d = self.cursor_decl()
                open_cursors.append(d["cursor"])
                return [d]
            c = r.choice(open_cursors)
            op = r.choices(("fetch", "move", "fetch_all", "close"), (6, 2, 1, 1))[0]
            if op in ("fetch_all", "close"):
                open_cursors.remove(c)
            step = {"kind": op, "cursor": c}
            if op in ("fetch", "move"):
                step["n"] = r.choice((1, 1, 2, 3, 5, 8, 13, 40))
            return [step]

        for _ in range(r.randint(2, 6)):
            x = r.random()
            if x < 0.55:
                steps += cursor_op()
            elif x < 0.7 and self.on("idle"):
                steps.append({"kind": "idle", "seconds": round(r.uniform(*IDLE_S), 3)})
            elif x < 0.85 and self.on("savepoint"):
                self.nsp += 1
                sp = "s%d" % self.nsp
                steps.append({"kind": "savepoint", "name": sp})
                before = list(open_cursors)
                for _ in range(r.randint(1, 3)):
                    if r.random() < 0.5:
                        p = self.plain_step(True)
                        if p is not None:
                            steps.append(p)
                    else:
                        steps += cursor_op()
                rollback = r.random() < 0.6
                steps.append({"kind": "rollback_to" if rollback else "release",
                              "name": sp})
                if rollback:
                    # cursors declared since the savepoint are gone
                    open_cursors[:] = [c for c in open_cursors if c in before]
            else:
                p = self.plain_step(True)
                if p is not None:
                    steps.append(p)
        for c in list(open_cursors):
            if r.random() < 0.7:
                steps.append({"kind": "fetch_all", "cursor": c})
        steps.append({"kind": r.choice(("commit", "commit", "rollback"))})
        return steps


def gen_session(seed, kinds):
    """The steps of session seed: a list of dicts."""
    g = Gen(seed, kinds)
    steps = []
    if g.on("untyped_inventory") and g.rng.random() < 0.12:
        steps.append({"kind": "untyped_inventory"})
    for _ in range(g.rng.randint(1, 3)):
        if g.on("cursor") and g.rng.random() < 0.5:
            steps += g.txn_block()
        else:
            p = g.plain_step(False)
            if p is not None:
                steps.append(p)
    return steps


# ---------------------------------------------------------------------------
# Running a session
# ---------------------------------------------------------------------------


class Result:
    def __init__(self, lines, state):
        self.rows = []
        self.messages = []      # (severity, text)
        for line in lines:
            m = MSG_RE.match(line)
            if m:
                self.messages.append((m.group(1), m.group(2)))
            elif state != "00000" and any(s == "ERROR" for s, _ in self.messages):
                self.messages.append(("...", line))     # a message's next line
            else:
                self.rows.append(line)
        self.state = state

    def error(self):
        """The ERROR's message, with its DETAIL."""
        out = ""
        for sev, text in self.messages:
            if sev == "ERROR":
                out = text
            elif sev == "DETAIL" and out:
                return "%s (%s)" % (out, text)
        return out

    def notices(self):
        return [t for s, t in self.messages if s in ("NOTICE", "WARNING")]


def table(step, name):
    return "sf_%s_%s" % (step.get("auth", "key"), name)


def names_sql(names):
    return ", ".join("'%s'" % n for n in names)


def pair_rows(rows):
    """'a|b|...' lines as (a, b) pairs."""
    out = []
    for r in rows:
        parts = r.split("|")
        out.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return out


class Cursor:
    """The model of one open cursor: what it may still return."""

    def __init__(self, name, per_cluster, fatal_states, rows_ok, depth):
        self.name = name
        self.order = {}         # (cluster, id) -> index in its cluster
        for c, ids in per_cluster.items():
            for i, sid in enumerate(ids):
                self.order[(c, sid)] = i
        self.total = len(self.order)
        self.pos = 0
        self.seen = set()
        self.last = {}
        self.fatal_states = fatal_states    # SQLSTATEs a FETCH may raise
        self.rows_ok = rows_ok              # whether reading it all may succeed
        self.depth = depth                  # savepoint depth at DECLARE
        self.failed = False
        self.idled = False                  # an idle gap since its last FETCH/MOVE
        self.desc = ""                      # what it reads, for reports
        self.lenient = False                # fewer rows allowed (a NOTICE said why)


class Runner:
    def __init__(self, db, verbose=False, echo_script=False):
        self.db = db
        self.verbose = verbose
        self.echo_script = echo_script
        self.psql = None
        self.pid = None
        self.script = []

    # -- the backend ------------------------------------------------------

    def connect(self):
        # statement_timeout from the start, so that RESET keeps it
        opt = "-c statement_timeout=" + STATEMENT_TIMEOUT
        if opt not in os.environ.get("PGOPTIONS", ""):
            os.environ["PGOPTIONS"] = (os.environ.get("PGOPTIONS", "") + " " + opt).strip()
        self.psql = soak.Psql(self.db, stderr=subprocess.STDOUT)
        res = self.sql(setup_sql(), record=False)
        res = self.sql("SELECT count(*) FROM pg_foreign_table ft JOIN pg_class c "
                       "ON c.oid = ft.ftrelid WHERE c.relname LIKE 'sf\\_%';",
                       record=False)
        if res.state != "00000" or not res.rows or int(res.rows[0]) < 20:
            raise RuntimeError("setup failed: %s %s" % (res.state, res.messages))
        self.pid = self.backend_pid()

    def backend_pid(self):
        res = self.sql("SELECT pg_backend_pid();", record=False)
        return int(res.rows[-1]) if res.state == "00000" and res.rows else None

    def close(self):
        if self.psql is not None:
            try:
                self.sql(TEARDOWN, record=False)
                self.psql.close()
            except (RuntimeError, OSError, subprocess.TimeoutExpired):
                pass
            self.psql = None

    def sql(self, text, record=True):
        """Run text in the backend; a statement that takes longer than the
        watchdog (a hang that statement_timeout did not end) kills psql,
        and the session fails as "the backend is gone"."""
        if record:
            self.script.append(text)
        proc = self.psql.proc
        dog = threading.Timer(WATCHDOG_S, proc.kill)
        dog.start()
        try:
            lines, state = self.psql.run(text)
        finally:
            dog.cancel()
        res = Result(lines, state)
        if self.verbose and record:
            print("    %s -> %s %s" % (text.replace("\n", " ")[:150], state,
                                       res.error()[:120]))
        return res

    # -- the mock ---------------------------------------------------------

    def mock_reset(self):
        mockctl.call("POST", "/_mock/reset", "")
        self.script.append("\\! python3 test/mockctl.py reset")
        for f in self.world_faults:
            self.add_fault(f)

    def add_fault(self, fdef):
        mockctl.call("POST", "/_mock/fault", json.dumps(fdef))
        self.script.append("\\! python3 test/mockctl.py fault '%s'"
                           % json.dumps(fdef).replace("'", "'\\''"))

    def step_fault(self, name, cluster):
        fdef = dict(FAULTS[name][0])
        fdef.pop("pages", None)
        fdef["match"] = "/clusters/%s/backup" % cluster
        self.add_fault(fdef)

    def inventory_fault(self, name, gid=None):
        """Queue fault name on an inventory list (a project's clusters, or
        the projects); False if the session's inventory fault already
        answers that list (the first matching fault is taken)."""
        if self.untyped and gid == G1:
            return False
        fdef = dict(FAULTS[name][0])
        fdef.pop("pages", None)
        fdef["match"] = ("^/api/atlas/v2/groups/%s/clusters\\?" % gid if gid
                         else "^/api/atlas/v2/groups\\?")
        self.add_fault(fdef)
        return True

    def mock_log(self):
        text = mockctl.call("GET", "/_mock/log")
        return [l for l in text.splitlines() if " /api/atlas/v2/" in l]

    def stats(self, auth):
        res = self.sql("SELECT coalesce(sum(errors), 0), coalesce(sum(rate_limited), 0), "
                       "count(last_error) FROM atlas_snapshot_fdw_stats() "
                       "WHERE server_name = 'sf_%s';" % auth, record=False)
        if res.state != "00000" or not res.rows:
            return None
        return [int(x) for x in res.rows[-1].split("|")]

    # -- one session ------------------------------------------------------

    def run_session(self, seed, steps):
        """Run steps; return a list of failures (strings)."""
        self.script = []
        self.fails = []
        self.world_faults = []
        self.untyped = False
        self.in_txn = False
        self.aborted = False
        self.depth = 0
        self.savepoints = []
        self.cursors = {}
        self.cur_ctx = ""
        self.mock_reset()
        for i, step in enumerate(steps):
            self.stepno = i
            self.step = step
            try:
                self.run_step(step)
            except (RuntimeError, OSError) as exc:
                self.fail("the backend is gone: %s" % exc, sig="backend gone")
                return self.fails
        if self.in_txn:
            self.sql("ROLLBACK;")
        self.sql("RESET ALL;")
        return self.fails

    def fail(self, text, sig=None):
        step = self.step
        desc = step_desc(step)
        sig = sig or "%s: %s" % (desc_kind(step), normalize(text))
        if step["kind"] in ("fetch", "move", "fetch_all", "close") and self.cur_ctx:
            sig = sig.replace(step["kind"], "%s %s" % (step["kind"], self.cur_ctx), 1)
        if self.untyped:
            sig = "[inventory without clusterType] " + sig
        self.fails.append({"step": self.stepno, "kind": step["kind"],
                           "desc": desc, "text": text, "sig": sig})

    def expect(self, res, states, rows_ok, expected_rows=None, what=""):
        """Check a statement's outcome: success (then rows, unordered, when
        expected_rows is given) or one of states."""
        if res.state == "00000":
            if not rows_ok and not self.untyped_noticed(res):
                self.fail("succeeded%s, expected SQLSTATE %s; rows %s"
                          % (what, "/".join(sorted(states)), short(res.rows)))
                return False
            if expected_rows is not None and sorted(res.rows) != sorted(expected_rows) \
                    and not self.untyped_noticed(res):
                self.fail("wrong rows%s: got %d %s, expected %d %s%s"
                          % (what, len(res.rows), short(sorted(res.rows)),
                             len(expected_rows), short(sorted(expected_rows)),
                             notices_text(res)))
                return False
            return True
        if res.state not in states and not self.untyped_error(res):
            self.fail("SQLSTATE %s%s, expected %s: %s"
                      % (res.state, what,
                         "/".join(sorted(states) + (["rows"] if rows_ok else [])),
                         res.error()))
        return False

    def after_statement(self, res):
        """Track the transaction's state after a statement."""
        if self.in_txn and res.state not in ("00000",) and not res.state.startswith("01"):
            self.aborted = True

    def aborted_check(self, res):
        if res.state != "25P02":
            self.fail("SQLSTATE %s in an aborted transaction, expected 25P02: %s"
                      % (res.state, res.error()), sig="aborted transaction not 25P02")

    def run_step(self, s):
        k = s["kind"]
        if k == "untyped_inventory":
            self.untyped = True
            self.world_faults = [untyped_inventory_fault(G1)]
            self.mock_reset()
            return
        if k == "idle":
            for c in self.cursors.values():
                c.idled = True
            self.script.append("\\! sleep %s" % s["seconds"])
            time.sleep(s["seconds"])
            return
        if k == "begin":
            self.sql("BEGIN;")
            self.in_txn, self.aborted, self.depth = True, False, 0
            self.savepoints = []
            self.cursors = {}
            return
        if k in ("commit", "rollback"):
            res = self.sql(k.upper() + ";")
            if res.state != "00000":
                self.fail("%s: SQLSTATE %s: %s" % (k, res.state, res.error()))
            self.in_txn = self.aborted = False
            self.cursors = {}
            return
        if k == "savepoint":
            res = self.sql("SAVEPOINT %s;" % s["name"])
            if self.aborted:
                return self.aborted_check(res)
            self.savepoints.append(s["name"])
            self.depth += 1
            self.expect(res, set(), True)
            return
        if k in ("rollback_to", "release"):
            res = self.sql(("ROLLBACK TO SAVEPOINT %s;" if k == "rollback_to"
                            else "RELEASE SAVEPOINT %s;") % s["name"])
            if s["name"] not in self.savepoints:
                # never made: its SAVEPOINT ran in an aborted transaction
                return
            if k == "release" and self.aborted:
                return self.aborted_check(res)
            if not self.expect(res, set(), True):
                self.aborted = True
                return
            level = self.savepoints.index(s["name"])
            if k == "rollback_to":
                self.aborted = False
                # cursors opened since the savepoint are gone; a cursor whose
                # FETCH failed in it cannot be run any more
                for name in list(self.cursors):
                    if self.cursors[name].depth > level:
                        del self.cursors[name]
                self.savepoints = self.savepoints[:level + 1]
                self.depth = level + 1
            else:
                for c in self.cursors.values():
                    c.depth = min(c.depth, level)
                self.savepoints = self.savepoints[:level]
                self.depth = level
            return
        if k == "declare":
            return self.declare(s)
        if k in ("fetch", "move", "fetch_all", "close"):
            return self.cursor_op(s)
        return self.plain(s)

    # -- cursors ----------------------------------------------------------

    def declare(self, s):
        if s["scope"] == "names":
            where = "group_id = '%s' AND cluster_name IN (%s)" % (s["group"],
                                                                 names_sql(s["names"]))
            per = {n: replica_ids(s["group"], n) for n in s["names"]}
            states, rows_ok = set(), True
            if s.get("fault") and not self.aborted:
                fname, cl = s["fault"]
                states, rows_ok = fault_outcome(fname, pages_of(len(per[cl])))
                # a fault taken once may be followed by a good answer: the
                # request is sent again when its answer went unread (a
                # ROLLBACK TO SAVEPOINT, an idle cursor), and a stalled
                # answer may come in while the cursor is idle
                rows_ok = (rows_ok or fname == "stall"
                           or FAULTS[fname][0].get("count", 1) != -1)
                self.step_fault(fname, cl)
        else:
            where = ("group_id = '%s'" % G1) if s["scope"] == "group" else "true"
            groups = [G1] if s["scope"] == "group" else all_groups()
            per = {n: replica_ids(g, n) for g in groups for n in enumerated(g)}
            states, rows_ok = set(), True
            if self.untyped:
                states = {"XX000", "HV000", "HV004", "HV00R"}   # an error naming it
        res = self.sql("DECLARE %s CURSOR FOR SELECT cluster_name, id FROM %s WHERE %s;"
                       % (s["cursor"], table(s, "snaps"), where))
        if self.aborted:
            return self.aborted_check(res)
        if res.state != "00000":
            self.expect(res, states, False, what=" (DECLARE)")
            self.aborted = True
            return
        cur = Cursor(s["cursor"], per, states, rows_ok, self.depth)
        cur.desc = desc_kind(s).replace("declare", "cursor", 1)
        self.cursors[s["cursor"]] = cur

    def cursor_op(self, s):
        k, name = s["kind"], s["cursor"]
        n = s.get("n")
        text = {"fetch": "FETCH %s FROM %s;" % (n, name),
                "move": "MOVE %s IN %s;" % (n, name),
                "fetch_all": "FETCH ALL FROM %s;" % name,
                "close": "CLOSE %s;" % name}[k]
        res = self.sql(text)
        cur = self.cursors.get(name)
        self.cur_ctx = ""
        if cur is not None:
            self.cur_ctx = "(%s%s)" % (cur.desc, ", after an idle gap" if cur.idled else "")
            cur.idled = False
        if self.aborted:
            return self.aborted_check(res)
        if cur is None:
            # closed by a ROLLBACK TO SAVEPOINT, or never declared
            if res.state != "34000":
                self.fail("SQLSTATE %s on a cursor that does not exist, expected 34000"
                          % res.state, sig="cursor gone: not 34000")
            self.after_statement(res)
            return
        if k == "close":
            del self.cursors[name]
            self.expect(res, set(), True)
            self.after_statement(res)
            return
        if cur.failed:
            if res.state != "55000":
                self.fail("SQLSTATE %s on a failed cursor, expected 55000: %s"
                          % (res.state, res.error()), sig="failed cursor: not 55000")
            self.after_statement(res)
            return
        if res.state != "00000":
            self.after_statement(res)
            if res.state in cur.fatal_states or self.untyped_error(res):
                cur.failed = True
                return
            self.fail("SQLSTATE %s at %s (%d of %d rows read), expected %s: %s"
                      % (res.state, k.upper(), cur.pos, cur.total,
                         "/".join(sorted(cur.fatal_states) + ["rows"]), res.error()))
            cur.failed = True
            return
        if self.untyped_noticed(res):
            cur.lenient = True
        left = cur.total - cur.pos
        want = left if k == "fetch_all" else min(n, left)
        if k == "move":
            cur.pos += want
        else:
            got = pair_rows(res.rows)
            if len(got) != want and not cur.lenient:
                self.fail("%s returned %d rows, expected %d (%d of %d read before)"
                          % (k.upper(), len(got), want, cur.pos, cur.total),
                          sig="%s: wrong row count" % desc_kind(self.step))
            for row in got:
                if row not in cur.order:
                    self.fail("%s returned a row not in the query: %r" % (k.upper(), row),
                              sig="%s: foreign row" % desc_kind(self.step))
                    break
                if row in cur.seen:
                    self.fail("%s returned a row twice: %r" % (k.upper(), row),
                              sig="%s: duplicate row" % desc_kind(self.step))
                    break
                if cur.order[row] < cur.last.get(row[0], -1):
                    self.fail("%s returned %r out of its cluster's order" % (k.upper(), row),
                              sig="%s: out of order" % desc_kind(self.step))
                    break
                cur.seen.add(row)
                cur.last[row[0]] = cur.order[row]
            cur.pos += len(got)
        if cur.pos >= cur.total and not cur.rows_ok and not cur.lenient:
            self.fail("read all %d rows of a cursor whose fault should fail it (%s)"
                      % (cur.total, "/".join(sorted(cur.fatal_states))))
            cur.rows_ok = True

    # -- plain statements -------------------------------------------------

    def plain(self, s):
        k = s["kind"]
        getattr(self, "do_" + k)(s)

    def statement(self, s, text, states, rows_ok, expected_rows=None,
                  stats_check=None):
        """Run one query step; check it; returns the Result (or None when
        the transaction was aborted)."""
        before = self.stats(s["auth"]) if stats_check and not self.in_txn else None
        res = self.sql(text)
        if self.aborted:
            self.aborted_check(res)
            return None
        self.expect(res, states, rows_ok, expected_rows)
        self.after_statement(res)
        if before is not None:
            after = self.stats(s["auth"])
            fetch_error = res.state[:2] in ("HV", "28", "22")
            if after is not None and fetch_error and after[0] <= before[0]:
                self.fail("a scan failed with %s but atlas_snapshot_fdw_stats().errors "
                          "stayed at %d" % (res.state, after[0]),
                          sig="%s: stats errors not counted" % desc_kind(s))
            if after is not None and stats_check == "rate" and after[1] <= before[1]:
                self.fail("a %s was answered but atlas_snapshot_fdw_stats()"
                          ".rate_limited stayed at %d" % (fault_name(s), after[1]),
                          sig="%s: stats rate_limited not counted" % desc_kind(s))
        return res

    def names_query(self, s, select="cluster_name, id", tail=""):
        return ("SELECT %s FROM %s WHERE group_id = '%s' AND cluster_name IN (%s)%s;"
                % (select, table(s, "snaps"), s["group"], names_sql(s["names"]), tail))

    def names_expect(self, s):
        rows = ["%s|%s" % (n, i) for n in s["names"] for i in replica_ids(s["group"], n)]
        states, rows_ok = set(), True
        if s.get("fault") and not self.aborted:
            fname, cl = s["fault"]
            states, rows_ok = fault_outcome(fname, pages_of(len(replica_ids(s["group"], cl))))
            self.step_fault(fname, cl)
        return rows, states, rows_ok

    def do_select(self, s):
        rows, states, rows_ok = self.names_expect(s)
        f = fault_name(s)
        self.statement(s, self.names_query(s), states, rows_ok, rows,
                       stats_check=("rate" if f in RATE_FAULTS else "errors") if f else None)

    def do_limit(self, s):
        rows, states, rows_ok = self.names_expect(s)
        res = self.sql(self.names_query(s, tail=" LIMIT %d" % s["limit"]))
        if self.aborted:
            return self.aborted_check(res)
        self.after_statement(res)
        if res.state != "00000":
            # LIMIT may stop before the faulty cluster: rows or its error
            return self.expect(res, states, True)
        want = min(s["limit"], len(rows))
        if len(res.rows) != want or len(set(res.rows)) != len(res.rows) \
                or not set(res.rows) <= set(rows):
            self.fail("LIMIT %d: got %d rows %s, expected %d distinct of %s"
                      % (s["limit"], len(res.rows), short(res.rows), want, short(rows)),
                      sig="limit: wrong rows")

    def enum_query(self, s, tbl="snaps"):
        scope = s["scope"]
        if scope == "group":
            where, groups = "group_id = '%s'" % G1, [G1]
        elif scope == "org":
            where, groups = "true", all_groups()
        else:
            where, groups = "cluster_name IN ('prod-1', 'stage-1', 'nobackup-1')", all_groups()
        names = None if scope != "names" else ("prod-1", "stage-1")
        rows = ["%s|%s" % (n, i) for g in groups for n in enumerated(g)
                if names is None or n in names for i in replica_ids(g, n)]
        return "SELECT cluster_name, id FROM %s WHERE %s;" % (table(s, tbl), where), rows

    def do_enum(self, s):
        text, rows = self.enum_query(s)
        states, rows_ok, check = set(), True, None
        gid = G1 if s["scope"] == "group" else None
        if s.get("fault") and not self.aborted and self.inventory_fault(s["fault"], gid):
            states, rows_ok = fault_outcome(s["fault"], 1)
            check = "rate" if s["fault"] in RATE_FAULTS else "errors"
        fault_states = set(states)
        self.untyped_allowance(rows, states)
        res = self.statement(s, text, states, rows_ok, rows, stats_check=check)
        self.untyped_check(res, rows, exempt=fault_states)
        if s.get("fault") and FAULTS[s["fault"]][0].get("count") == -1:
            self.mock_reset()       # no later scan meets the fault

    def untyped_allowance(self, rows, states):
        """In a session whose inventory lacks clusterType, a scan that
        enumerates may raise an error naming the cluster."""
        if self.untyped:
            states |= {"XX000", "HV000", "HV004", "HV00R", "0A000"}

    def untyped_error(self, res):
        """In a session whose inventory lacks clusterType, an error that
        names a cluster of that inventory is an allowed outcome."""
        return (self.untyped and res.state not in ("00000", "25P02")
                and any(n in res.error() for n in UNTYPED_NAMES))

    def untyped_noticed(self, res):
        """In a session whose inventory lacks clusterType, a NOTICE or
        WARNING that names a cluster of that inventory excuses the rows
        (the cluster was left out with a word)."""
        return self.untyped and any(n in text for text in res.notices()
                                    for n in UNTYPED_NAMES)

    def untyped_check(self, res, rows, exempt=()):
        """A cluster of unknown type is never dropped without a word."""
        if not self.untyped or res is None or res.state in exempt:
            return
        if res.state != "00000":
            if not any(n in res.error() for n in UNTYPED_NAMES):
                self.fail("an error that does not name the cluster of unknown type: %s"
                          % res.error(), sig="untyped inventory: error without the cluster")

    def do_join(self, s):
        kind = "LEFT JOIN" if s["left"] else "JOIN"
        tbl = "snaps" if s["enumerate"] else "snaps_noenum"
        sets = []
        if s["method"]:
            for m in ("hashjoin", "mergejoin", "nestloop"):
                if m != s["method"]:
                    sets.append("enable_%s = off" % m)
        for st in sets:
            self.sql("SET %s;" % st)
        text = ("SELECT c.name, s.id FROM %s c %s %s s ON s.group_id = c.group_id "
                "AND s.cluster_name = c.name WHERE c.group_id = '%s';"
                % (table(s, "clusters"), kind, table(s, tbl), G1))
        rows = []
        for c in FLEET.clusters[G1]:
            ids = replica_ids(G1, c["name"])
            rows += ["%s|%s" % (c["name"], i) for i in ids]
            if not ids and s["left"]:
                rows.append("%s|" % c["name"])
        states = set()
        if not s["enumerate"] and s["method"] in ("hashjoin", "mergejoin"):
            # with nested loops off, the planner may give the snapshot scan
            # no cluster_name, which enumerate 'false' refuses
            states.add("HV002")
        self.untyped_allowance(rows, states)
        res = self.statement(s, text, states, True, rows)
        self.untyped_check(res, rows, exempt={"HV002"})
        for st in sets:
            self.sql("RESET %s;" % st.split()[0])

    def do_slow(self, s):
        rows, states, rows_ok = self.names_expect(s)
        text = self.names_query(s, select="cluster_name, id, pg_sleep(%s)" % s["sleep"])
        res = self.sql(text)
        if self.aborted:
            return self.aborted_check(res)
        self.after_statement(res)
        got = ["|".join(r.split("|")[:2]) for r in res.rows]
        res.rows = got
        self.expect(res, states, rows_ok, rows)

    def do_slow_between(self, s):
        a, b = s["names"]
        t = table(s, "snaps")
        text = ("SELECT a.count, c.count FROM (SELECT count(*) FROM %s WHERE group_id = '%s' "
                "AND cluster_name = '%s') a, (SELECT pg_sleep(%.3f)) b, (SELECT count(*) "
                "FROM %s WHERE group_id = '%s' AND cluster_name = '%s') c;"
                % (t, G1, a, s["sleep"], t, G1, b))
        rows = ["%d|%d" % (len(replica_ids(G1, a)), len(replica_ids(G1, b)))]
        self.statement(s, text, set(), True, rows)

    def do_explain(self, s):
        if s["scope"] == "group":
            text, rows = self.enum_query(s)
        else:
            s = dict(s, group=G1)
            text, rows = self.names_query(s), None
        self.mock_reset()
        fault = s.get("fault")
        states = set()
        if s["scope"] == "group":
            self.untyped_allowance(rows, states)
        if fault:
            if s.get("on_inventory"):
                self.inventory_fault(fault, G1)
            else:
                names = s["names"] if s["scope"] == "names" else ["prod-1"]
                self.step_fault(fault, names[0])
        res = self.sql("EXPLAIN (ANALYZE, COSTS, TIMING OFF, SUMMARY OFF) " + text)
        if self.aborted:
            return self.aborted_check(res)
        if not self.expect(res, states, True):
            return self.untyped_check(res, rows)
        got = {}
        for line in res.rows:
            m = re.search(r"Atlas (Requests|Pages|Rate Limited): (\d+)", line)
            if m:
                got[m.group(1)] = got.get(m.group(1), 0) + int(m.group(2))
        log = self.mock_log()
        want = {"Requests": sum(1 for l in log if not l.startswith("401 ")),
                "Pages": sum(1 for l in log if l.startswith("200 ")),
                "Rate Limited": sum(1 for l in log if l[:4] in ("429 ", "503 "))}
        for key in ("Requests", "Pages", "Rate Limited"):
            if got.get(key) != want[key]:
                self.fail("EXPLAIN ANALYZE shows Atlas %s %s, the mock's log %d"
                          % (key, got.get(key), want[key]),
                          sig="%s: EXPLAIN ANALYZE %s differs from the mock's log"
                          % (desc_kind(s), key))

    def do_pacing(self, s):
        self.mock_reset()
        if not self.inventory_fault("429_once", G1):
            return
        res = self.sql("EXPLAIN (ANALYZE, COSTS, TIMING OFF, SUMMARY OFF) "
                       "SELECT cluster_name, id FROM sf_pace_snaps WHERE group_id = '%s';"
                       % G1)
        if self.aborted:
            return self.aborted_check(res)
        if not self.expect(res, set(), True):
            return
        peak = [int(m.group(1)) for m in
                (re.search(r"Atlas Peak In Flight: (\d+)", l) for l in res.rows) if m]
        if peak != [1]:
            self.fail("after a 429 on the inventory (max_concurrency 2, halved to 1) "
                      "the scan had %s transfers in flight" % peak,
                      sig="pacing: the inventory's 429 forgotten by the snapshot phase")

    def do_typed(self, s):
        typ = s["type"]
        tbl = {"dom": "snaps_dom", "vc3": "snaps_vc3", "name": "snaps_name",
               "int": "snaps_int"}[typ]
        if s["scope"] == "group":
            where, names, gid = "group_id = '%s'" % G1, enumerated(G1), G1
        else:
            gid, names = G1, s["names"]
            where = "group_id = '%s' AND cluster_name IN (%s)" % (G1, names_sql(names))
        # what the same text read by the column's input function gives
        states, bad = set(), False
        for n in names:
            if not replica_ids(gid, n):
                continue
            if typ == "dom" and not n.startswith("n1"):
                states, bad = {"23514"}, True
            elif typ == "vc3" and len(n) > 3:
                states, bad = {"22001"}, True
            elif typ == "int" and not n.isdigit():
                states, bad = {"22P02"}, True
        if typ == "int" and s["scope"] == "names":
            states, bad = {"22P02"}, True       # 'n12' is no integer constant
        if typ == "name" and s["scope"] == "names":
            # name = name is no request key (only text equality is): the
            # scan enumerates the project and reads the clusters its
            # inventory lists, not the mock's other nK (which serve
            # snapshots when named; a real Atlas answers 404 for them)
            names = [n for n in names if n in enumerated(G1)]
        rows = ["%s|%s" % (n, i) for n in names for i in replica_ids(gid, n)]
        text = "SELECT cluster_name, id FROM %s WHERE %s;" % (table(s, tbl), where)
        self.statement(s, text, states, not bad, rows)

    def do_chains(self, s):
        tbl = s["table"]
        if tbl == "flex_c2":
            # three projects to list, two chains allowed: an error before
            # the clusters' lists are read
            states, rows_ok, rows = {"54000"}, False, None
        elif tbl == "flex":
            states, rows_ok = set(), True
            rows = ["%s|%s" % (f["name"], it["id"]) for g in all_groups()
                    for f in FLEET.flex[g]
                    for it in FLEET.flex_source(g, f["name"]).page(0, 1000)]
        else:
            states, rows_ok = set(), True
            rows = ["%s|%s" % (n, i) for g in all_groups() for n in enumerated(g)
                    for i in replica_ids(g, n)]
        text = "SELECT cluster_name, id FROM %s;" % table(s, tbl)
        exempt = set()
        if tbl != "flex_c2":
            self.untyped_allowance(rows, states)
            if self.untyped and tbl == "snaps_c3":
                # clusters of unknown type are read too: more than 3 chains
                exempt.add("54000")
                states.add("54000")
        res = self.statement(s, text, states, rows_ok, rows)
        if tbl != "flex_c2":
            self.untyped_check(res, rows, exempt=exempt)

    def do_buckets(self, s):
        if s.get("fault") and not self.aborted:
            self.add_fault({"match": "exportBuckets", "kind": "ignore_page_num",
                            "count": -1})
            states, rows_ok = {"HV000"}, False
        else:
            states, rows_ok = set(), True
        src = FLEET.export_buckets[G1]
        rows = ["%s|%s" % (G1, b["bucketName"]) for b in src.page(0, len(src))]
        tail = " LIMIT %d" % s["limit"] if s["limit"] else ""
        text = ("SELECT group_id, bucket_name FROM %s WHERE group_id = '%s'%s;"
                % (table(s, "buckets"), G1, tail))
        self.statement(s, text, states, rows_ok, rows)
        if s.get("fault"):
            self.mock_reset()       # no later scan meets the fault

    def do_stall(self, s):
        rows, states, rows_ok = self.names_expect(s)
        self.statement(s, self.names_query(s), states, rows_ok, rows)

    def do_stmt_timeout(self, s):
        rows, _, _ = self.names_expect(s)
        self.sql("SET statement_timeout = '150ms';")
        res = self.sql(self.names_query(s))
        if self.aborted:
            self.aborted_check(res)
        else:
            self.expect(res, {"57014"}, False)
            self.after_statement(res)
        self.sql("RESET statement_timeout;")

    def do_cancel(self, s):
        rows, _, _ = self.names_expect(s)
        self.script.append("-- pg_cancel_backend() of this backend from another "
                           "session 0.15 s later")
        t = threading.Thread(target=soak.cancel_later, args=(self.db, self.pid, 0.15))
        t.start()
        res = self.sql(self.names_query(s))
        t.join()
        if self.aborted:
            return self.aborted_check(res)
        # the cancel may come after the timeout_ms error of the stalled request
        self.expect(res, {"57014", "HV00N"}, False)
        self.after_statement(res)


# ---------------------------------------------------------------------------
# Reporting helpers
# ---------------------------------------------------------------------------


def fault_name(s):
    f = s.get("fault")
    return f[0] if isinstance(f, (list, tuple)) else f


def desc_kind(s):
    """A step's kind with what sets it apart, for grouping failures."""
    k = s["kind"]
    parts = [k]
    if k == "join":
        parts.append(("left" if s["left"] else "inner") + ","
                     + ("enumerate" if s["enumerate"] else "no-enumerate") + ","
                     + (s["method"] or "any"))
    elif k in ("enum", "typed", "explain", "declare"):
        parts.append(s.get("scope", ""))
        if k == "typed":
            parts.append(s["type"])
    elif k == "chains":
        parts.append(s["table"])
    elif k == "buckets":
        parts.append("limit" if s["limit"] else "all")
    if fault_name(s):
        parts.append("fault " + fault_name(s))
    return " ".join(p for p in parts if p)


def step_desc(s):
    return json.dumps(s, sort_keys=True)


def normalize(text):
    """A failure's text with numbers and names blurred, so that failures
    of one kind group together."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"\[[^\]]*\]|\([^)]*'[^)]*\)", "[…]", text)
    # numbers, but not SQLSTATEs (HV00N, 22P02, 57014)
    return re.sub(r"(?<![A-Za-z0-9])(?!\d{5}(?![A-Za-z0-9]))\d+(?![A-Za-z0-9])",
                  "#", text)[:160]


def short(rows, n=4):
    rows = list(rows)
    return repr(rows[:n])[:-1] + (", …]" if len(rows) > n else "]")


def notices_text(res):
    ns = res.notices()
    return (" (notices: %s)" % "; ".join(ns)) if ns else ""


def memory(runner):
    res = runner.sql("SELECT sum(total_bytes) FROM pg_backend_memory_contexts;",
                     record=False)
    ctx = int(res.rows[-1]) if res.state == "00000" and res.rows else 0
    return soak.vmrss_kb(runner.pid), ctx


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------


def parse_kinds(text):
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise SystemExit("session_fuzz: unknown kind(s) %s; see --list-kinds"
                         % ", ".join(bad))
    return kinds


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--sessions", type=int, default=200)
    p.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    p.add_argument("--replay", type=int, metavar="SESSION_SEED",
                   help="run one session, print its script and each outcome")
    p.add_argument("--db", default=os.environ.get("PGDATABASE") or "postgres")
    p.add_argument("--only", help="comma-separated kinds to draw from")
    p.add_argument("--skip", help="comma-separated kinds never to draw")
    p.add_argument("--list-kinds", action="store_true")
    p.add_argument("--warmup", type=int, default=None,
                   help="sessions before the memory baseline (default N/4, at least 10)")
    p.add_argument("--slack-kb", type=int, default=8192,
                   help="most VmRSS may grow after warm-up")
    p.add_argument("--ctx-slack-kb", type=int, default=2048,
                   help="most pg_backend_memory_contexts' total may grow after warm-up")
    p.add_argument("--max-report", type=int, default=3,
                   help="failing sessions shown in full per kind of failure")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)

    if args.list_kinds:
        for k in KINDS:
            print("%-18s %s" % (k, KIND_HELP[k]))
        return 0
    kinds = parse_kinds(args.only) if args.only else list(KINDS)
    if args.skip:
        kinds = [k for k in kinds if k not in parse_kinds(args.skip)]
    kind_arg = ""
    if args.only:
        kind_arg += " --only " + args.only
    if args.skip:
        kind_arg += " --skip " + args.skip

    runner = Runner(args.db, verbose=args.verbose or args.replay is not None)
    runner.connect()

    if args.replay is not None:
        steps = gen_session(args.replay, kinds)
        print("-- session %d: setup (psql script)" % args.replay)
        print(setup_sql())
        fails = runner.run_session(args.replay, steps)
        print("-- session %d: the script it ran" % args.replay)
        print("\n".join(runner.script))
        for f in fails:
            print("FAILED step %d (%s): %s" % (f["step"], f["desc"], f["text"]))
        runner.close()
        print("sessions: %d passed, %d failed" % (0 if fails else 1, 1 if fails else 0))
        return 1 if fails else 0

    n = args.sessions
    warmup = args.warmup if args.warmup is not None else max(10, n // 4)
    print("session_fuzz: %d sessions, seed %d (session k: seed %d + k)%s"
          % (n, args.seed, args.seed * SESSION_SEED_STRIDE,
             (", kinds: " + ",".join(kinds)) if kind_arg else ""))
    passed = failed = 0
    by_sig = collections.OrderedDict()
    mix = collections.Counter()
    base = peak = None
    start = time.monotonic()
    for k in range(n):
        sseed = args.seed * SESSION_SEED_STRIDE + k
        steps = gen_session(sseed, kinds)
        for st in steps:
            mix[st["kind"]] += 1
        pid = runner.pid
        fails = runner.run_session(sseed, steps)
        try:
            now_pid = runner.backend_pid()
        except (RuntimeError, OSError):
            now_pid = None
        if now_pid != pid:
            fails.append({"step": len(steps), "kind": "end", "desc": "after the session",
                          "text": "the backend changed (pid %s, now %s)" % (pid, now_pid),
                          "sig": "backend gone"})
            if runner.psql is not None:
                runner.psql.proc.kill()
                runner.psql = None
            runner.connect()
            base = peak = None
        elif k + 1 >= warmup:
            mem = memory(runner)
            if base is None:
                base = peak = mem
            peak = (max(peak[0], mem[0]), max(peak[1], mem[1]))
        if fails:
            failed += 1
            print("session %d: FAILED (%d steps): %s" % (sseed, len(steps), fails[0]["text"]))
            print("  replay: python3 test/session_fuzz.py --replay %d%s" % (sseed, kind_arg))
            for f in fails:
                by_sig.setdefault(f["sig"], []).append((sseed, f))
        else:
            passed += 1
    elapsed = time.monotonic() - start
    mem_end = memory(runner) if runner.psql is not None else None
    runner.close()

    print("session_fuzz: %d sessions in %.0f s (%.2f s a session); steps by kind:"
          % (n, elapsed, elapsed / max(n, 1)))
    print("  " + ", ".join("%s %d" % kv for kv in sorted(mix.items())))
    mem_fail = []
    if base is not None and mem_end is not None:
        print("session_fuzz: after %d warm-up sessions VmRSS %d kB, memory contexts %d kB; "
              "at most %d kB / %d kB after; %d kB / %d kB at the end"
              % (warmup, base[0], base[1] // 1024, peak[0], peak[1] // 1024,
                 mem_end[0], mem_end[1] // 1024))
        if peak[0] - base[0] > args.slack_kb:
            mem_fail.append("VmRSS grew by %d kB after warm-up (slack %d kB)"
                            % (peak[0] - base[0], args.slack_kb))
        if (mem_end[1] - base[1]) // 1024 > args.ctx_slack_kb:
            mem_fail.append("memory contexts grew by %d kB after warm-up (slack %d kB)"
                            % ((mem_end[1] - base[1]) // 1024, args.ctx_slack_kb))
    if by_sig:
        print("session_fuzz: failures by kind (sessions: first seeds):")
        for sig, items in sorted(by_sig.items(), key=lambda kv: -len(kv[1])):
            seeds = sorted({s for s, _ in items})
            print("  %4d  %s" % (len(seeds), sig))
            sseed, f = items[0]
            print("        e.g. session %d step %d: %s" % (sseed, f["step"], f["text"][:300]))
            print("        replay: %s" % " ".join(
                "--replay %d" % x for x in seeds[:args.max_report]) + kind_arg)
    for m in mem_fail:
        print("session_fuzz: FAILED: " + m)
    if mem_fail and not failed:
        failed, passed = 1, passed - 1
    print("sessions: %d passed, %d failed" % (passed, failed))
    return 1 if failed or mem_fail else 0


if __name__ == "__main__":
    sys.exit(main())
