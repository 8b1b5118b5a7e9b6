#!/usr/bin/env python3
"""
Fault soak: N scans in one backend, each under a random fault of the mock.

    python3 test/soak.py N [--seed S] [--db contrib_regression]
                           [--warmup W] [--slack-kb K]

Runs inside a cluster (PG* environment, e.g. from pg_virtualenv) against
the mock Atlas server ($ATLAS_MOCK_URL and the ATLAS_MOCK_* credentials).
One psql process (one backend) runs every scan; before each scan the mock
gets one of these faults (or none), on an API key or a service account
table at random:

    none, 429 / 503 / reset / truncated once (retried: the right rows),
    429 / 503 / reset for good (HV000 / HV00N), bad JSON (HV00A), revoked
    access (every API request 401: 28000), a stalled request against
    statement_timeout (57014), a cancel from another session (57014).

Each scan must give the rows of a fault-free run, or the SQLSTATE its fault
allows (some faults allow either).  The backend must survive (same pid) and
its resident set (VmRSS from /proc) must not grow by more than --slack-kb
after the first W scans (warm-up).  Prints the error mix and the RSS
numbers; exits 1 on any failure.
"""

import argparse
import collections
import json
import os
import random
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mockctl  # noqa: E402

G1 = "32b6e34b3d91647abb20e7b8"
END = "@@SOAK-END@@"

SETUP = """
\\set ON_ERROR_STOP 0
\\getenv mock_url ATLAS_MOCK_URL
\\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\\getenv private_key ATLAS_MOCK_PRIVATE_KEY
\\getenv client_id ATLAS_MOCK_CLIENT_ID
\\getenv client_secret ATLAS_MOCK_CLIENT_SECRET
SET client_min_messages = warning;
DROP SERVER IF EXISTS soak_key, soak_sa CASCADE;
CREATE SERVER soak_key FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', items_per_page '10', max_retries '2',
			 max_retry_wait_ms '20', timeout_ms '5000', max_concurrency '4');
CREATE SERVER soak_sa FOREIGN DATA WRAPPER atlas_snapshot_fdw
	OPTIONS (base_url :'mock_url', items_per_page '10', max_retries '2',
			 max_retry_wait_ms '20', timeout_ms '5000', max_concurrency '4');
CREATE USER MAPPING FOR CURRENT_USER SERVER soak_key
	OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE USER MAPPING FOR CURRENT_USER SERVER soak_sa
	OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE FOREIGN TABLE soak_key_snaps (group_id text, cluster_name text, id text,
	created_at timestamptz) SERVER soak_key OPTIONS (resource 'cluster_snapshots');
CREATE FOREIGN TABLE soak_sa_snaps (group_id text, cluster_name text, id text,
	created_at timestamptz) SERVER soak_sa OPTIONS (resource 'cluster_snapshots');
"""

QUERY = ("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM %s "
         "WHERE group_id = '" + G1 + "' AND cluster_name IN ('prod-1', 'n2', 'n35')")

# fault name -> (fault definition or None, SQLSTATEs allowed besides success,
#                success allowed).  A fault whose scan must fail applies to
# every matching request ("count": -1): a request the previous scan left
# in flight may reach the mock after the fault is set and would use up a
# fault that applied once.
FAULTS = {
    "none": (None, set(), True),
    "429_once": ({"match": "n35", "kind": "status", "status": 429,
                  "retry_after": 1}, set(), True),
    "503_once": ({"match": "n35", "kind": "status", "status": 503}, set(), True),
    "reset_once": ({"match": "n35", "kind": "reset"}, set(), True),
    "truncated_once": ({"match": "n35", "kind": "truncated"}, set(), True),
    "429_always": ({"match": "n35", "kind": "status", "status": 429,
                    "retry_after": 1, "count": -1}, {"HV000"}, False),
    "503_always": ({"match": "n35", "kind": "status", "status": 503,
                    "count": -1}, {"HV000"}, False),
    "reset_always": ({"match": "n35", "kind": "reset", "count": -1},
                     {"HV00N"}, False),
    "bad_json": ({"match": "n2", "kind": "invalid_json", "count": -1},
                 {"HV00A"}, False),
    "revoked": ({"match": "/clusters/", "kind": "status", "status": 401,
                 "count": -1}, {"28000"}, False),
    "stall_timeout": ({"match": "n35", "kind": "stall", "seconds": 2,
                       "count": -1}, {"57014"}, False),
    "cancel": ({"match": "n35", "kind": "stall", "seconds": 2, "count": -1},
               {"57014"}, False),
}


class Psql:
    """One psql process: one backend for the whole soak.  Its messages
    (errors, notices) are dropped, or with stderr=subprocess.STDOUT read
    as output lines, each after the rows printed before it."""

    def __init__(self, db, stderr=subprocess.DEVNULL):
        self.proc = subprocess.Popen(
            ["stdbuf", "-oL", "psql", "-X", "-q", "-A", "-t", "-d", db],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=stderr, text=True, bufsize=1)

    def run(self, sql):
        """Run sql; return (output lines, SQLSTATE of the last statement)."""
        self.proc.stdin.write(sql.rstrip() + "\n\\echo " + END + " :SQLSTATE\n")
        self.proc.stdin.flush()
        lines = []
        while True:
            line = self.proc.stdout.readline()
            if line == "":
                raise RuntimeError("psql exited (backend crash?)")
            line = line.rstrip("\n")
            if line.startswith(END):
                return lines, line[len(END):].strip()
            lines.append(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def vmrss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %d" % pid)


def cancel_later(db, pid, delay):
    time.sleep(delay)
    subprocess.run(["psql", "-X", "-q", "-d", db, "-c",
                    "SELECT pg_cancel_backend(%d)" % pid],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("n", type=int)
    p.add_argument("--seed", type=int, default=int(time.time()))
    p.add_argument("--db", default="contrib_regression")
    p.add_argument("--warmup", type=int, default=None,
                   help="scans before the RSS baseline (default N/4, at least 20)")
    p.add_argument("--slack-kb", type=int, default=1024,
                   help="most VmRSS may grow after warm-up")
    args = p.parse_args(argv)
    warmup = args.warmup if args.warmup is not None else max(20, args.n // 4)
    rng = random.Random(args.seed)
    print("soak: %d scans, seed %d" % (args.n, args.seed))

    mockctl.call("POST", "/_mock/reset", "")
    psql = Psql(args.db)
    psql.run(SETUP)
    out, _ = psql.run("SELECT pg_backend_pid();")
    pid = int(out[-1])

    expected = {}
    for table in ("soak_key_snaps", "soak_sa_snaps"):
        out, state = psql.run(QUERY % table + ";")
        if state != "00000":
            print("soak: fault-free scan of %s failed with %s" % (table, state))
            return 1
        expected[table] = out
    if expected["soak_key_snaps"] != expected["soak_sa_snaps"]:
        print("soak: the two tables disagree without faults")
        return 1

    mix = collections.Counter()
    failures = []
    rss_warm = None
    rss_max = 0
    start = time.monotonic()
    for i in range(args.n):
        name = rng.choice(sorted(FAULTS))
        fault, allowed, ok_allowed = FAULTS[name]
        table = rng.choice(("soak_key_snaps", "soak_sa_snaps"))
        mockctl.call("POST", "/_mock/reset", "")
        if fault is not None:
            mockctl.call("POST", "/_mock/fault", json.dumps(fault))
        sql = QUERY % table + ";"
        canceller = None
        if name == "stall_timeout":
            psql.run("SET statement_timeout = '300ms';")
        if name == "cancel":
            canceller = threading.Thread(target=cancel_later,
                                         args=(args.db, pid, 0.2 + rng.random() * 0.3))
            canceller.start()
        out, state = psql.run(sql)
        if name == "stall_timeout":
            psql.run("RESET statement_timeout;")
        if canceller is not None:
            canceller.join()
        if state == "00000":
            result = "rows"
            if not ok_allowed or out != expected[table]:
                failures.append("scan %d (%s, %s): rows %r, expected %s"
                                % (i, name, table, out,
                                   expected[table] if ok_allowed else sorted(allowed)))
        else:
            result = state
            if state not in allowed:
                failures.append("scan %d (%s, %s): SQLSTATE %s, allowed %s"
                                % (i, name, table, state,
                                   sorted(allowed) + (["rows"] if ok_allowed else [])))
        mix[(name, result)] += 1
        rss = vmrss_kb(pid)
        if i + 1 == warmup:
            rss_warm = rss
        if i + 1 > warmup:
            rss_max = max(rss_max, rss)
        if len(failures) > 20:
            break

    mockctl.call("POST", "/_mock/reset", "")
    out, state = psql.run("SELECT pg_backend_pid();")
    if state != "00000" or int(out[-1]) != pid:
        failures.append("the backend did not survive (pid %d, now %r)" % (pid, out))
    rss_end = vmrss_kb(pid)
    psql.run("DROP SERVER soak_key, soak_sa CASCADE;")
    psql.close()
    elapsed = time.monotonic() - start

    print("soak: %d scans in %.0f s; outcome by fault:" % (sum(mix.values()), elapsed))
    for (name, result), count in sorted(mix.items()):
        print("  %-16s %-6s %5d" % (name, result, count))
    if rss_warm is not None:
        print("soak: VmRSS %d kB after %d warm-up scans, at most %d kB after, "
              "%d kB at the end" % (rss_warm, warmup, rss_max, rss_end))
        if rss_max - rss_warm > args.slack_kb:
            failures.append("VmRSS grew by %d kB after warm-up (slack %d kB)"
                            % (rss_max - rss_warm, args.slack_kb))
    for f in failures:
        print("soak: FAILED: " + f)
    print("soak: %s" % ("failed" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
