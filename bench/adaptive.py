#!/usr/bin/env python3
"""adaptive.py: simulations of adaptive concurrency (issue 20) against the
mock Atlas server, printed as a table.  Not a test: it prints timings.

Each scenario starts its own mock (test/mock_atlas.py, fleet "test", 50 ms
added to every request) with the options it needs, reads a foreign table
at default options (max_concurrency included) with an IN list of projects
and clusters, checks the rows, and reports from the mock's request log:

  wall s      the query's wall time (psql \\timing)
  ideal s     what the scenario can do at best (see below)
  x ideal     wall / ideal
  in flight   requests in flight at the mock: mean over the wall time and
              peak (from the arrival and answer time of every request)
  429s        requests answered 429, and their share of all requests
  rows        rows read (checked against what the fleet holds)

Scenarios (a synthetic cluster nK has K snapshots; n1, n01, n001 ... are
distinct clusters with one snapshot each):
  S2  20 clusters x 2,500 snapshots in one project: 6 pages each (500 a
      page; the sixth, empty, proves the end), 120 requests; ideal: the
      parallel transfer floor, 2 round trips per cluster (first page, then
      the rest at once) or requests x 50 ms / max_concurrency if longer.
  S4  10,000 clusters across 100 projects, one page each; ideal:
      10,000 x 50 ms / max_concurrency.
  S5  2,000 clusters across 20 projects, one page each, the mock a token
      bucket (capacity 100, refill 50 a second, 429 with Retry-After in
      whole seconds); ideal: (2,000 - 100) / 50 s.  Run with RateLimit
      headers (S5h) and without (S5n).
  VmHWM of the backend after S4 (10,000 request chains) is printed too.

Environment: PG* for psql (a cluster with the extension installed, e.g.
inside throwaway_cluster, see adaptive.sh); ADAPTIVE_ONLY (S2,S4,S5h,S5n).
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
MOCK = os.path.join(HERE, "..", "test", "mock_atlas.py")
G1 = "32b6e34b3d91647abb20e7b8"
LATENCY_MS = 50
MAX_CONCURRENCY = 32                 # the default
ONLY = set(x for x in os.environ.get("ADAPTIVE_ONLY", "S2,S4,S5h,S5n").split(",") if x)


def extra_group(i):
    return "be%022x" % i


def one_snapshot_names(n):
    """n distinct cluster names of 1 or 2 snapshots: n1, n01, ... then n2,
    n02, ...; returns (names, snapshots)."""
    names, snaps = [], 0
    for value in (1, 2, 3):
        for zeros in range(0, 62):
            if len(names) == n:
                return names, snaps
            names.append("n" + "0" * zeros + str(value))
            snaps += value
    return names, snaps


def start_mock(*extra):
    p = subprocess.Popen([sys.executable, MOCK, "--fleet", "test", "--host", "127.0.0.1",
                          "--port", "0", "--latency-ms", str(LATENCY_MS)] + list(extra),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    m = re.search(r"listening on (\S+)", line)
    if not m:
        p.kill()
        raise SystemExit("the mock did not start: %r" % line)
    return p, m.group(1)


def mock_get(url, path):
    with urllib.request.urlopen(url + path, timeout=30) as r:
        return r.read().decode()


def psql(script):
    p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"],
                       input=script, text=True, capture_output=True)
    if p.returncode != 0:
        raise SystemExit("psql: " + (p.stderr or p.stdout))
    return p.stdout


def flight(lines, wall):
    """Mean and peak requests in flight at the mock (authorized ones, 401
    challenges included: they hold a transfer too)."""
    ev = []
    for l in lines:
        a, b = l.split()[:2]
        ev.append((int(a), 1))
        ev.append((int(b), -1))
    ev.sort(key=lambda e: (e[0], e[1]))
    cur = peak = 0
    busy = 0.0
    for _, d in ev:
        cur += d
        peak = max(peak, cur)
    busy = sum(int(l.split()[1]) - int(l.split()[0]) for l in lines) / 1000.0
    return busy / wall if wall > 0 else 0, peak


def run(name, mock_args, groups, names, ideal, expect_rows):
    mock, url = start_mock(*mock_args)
    try:
        gl = ", ".join("'%s'" % g for g in groups)
        nl = ", ".join("'%s'" % n for n in names)
        out = psql("""
\\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\\getenv private_key ATLAS_MOCK_PRIVATE_KEY
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS atlas_snapshot_fdw;
DROP SERVER IF EXISTS adaptive_bench CASCADE;
CREATE SERVER adaptive_bench FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url '%s');
CREATE USER MAPPING FOR CURRENT_USER SERVER adaptive_bench
  OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE adaptive_s (group_id text, cluster_name text, id text)
  SERVER adaptive_bench OPTIONS (resource 'cluster_snapshots');
SELECT 'pid', pg_backend_pid();
\\timing on
SELECT 'rows', count(*), count(DISTINCT (group_id, cluster_name)) FROM adaptive_s
 WHERE group_id IN (%s) AND cluster_name IN (%s);
\\timing off
SELECT 'stats', requests, retries FROM atlas_snapshot_fdw_stats() WHERE server_name = 'adaptive_bench';
DROP SERVER adaptive_bench CASCADE;
""" % (url, gl, nl))
        rows = pairs = None
        wall = None
        for l in out.splitlines():
            if l.startswith("rows|"):
                _, rows, pairs = l.split("|")
            m = re.match(r"Time: ([\d.]+) ms", l)
            if m:
                wall = float(m.group(1)) / 1000.0
        log = [l for l in mock_get(url, "/_mock/log?times=1").splitlines() if l]
        api = [l for l in log if " /api/atlas/" in l]
        n429 = sum(1 for l in api if l.split()[2] == "429")
        mean, peak = flight([l for l in api if l.split()[2] != "401"], wall)
        ok = int(rows) == expect_rows[0] and int(pairs) == expect_rows[1]
        return {"name": name, "wall": wall, "ideal": ideal, "mean": mean, "peak": peak,
                "requests": len([l for l in api if l.split()[2] != "401"]),
                "n429": n429, "rows": int(rows), "ok": ok}
    finally:
        mock.terminate()
        mock.wait()


def vmhwm_s4(groups, names, expect):
    """VmHWM of a backend before and after a scan of 10,000 chains
    (without added latency: memory, not time).  JIT off: with it, planning
    an IN list of 100 values alone loads LLVM (+50 MB), which is not the
    FDW's memory."""
    mock, url = start_mock("--latency-ms", "0", "--extra-groups", "100")
    try:
        gl = ", ".join("'%s'" % g for g in groups)
        nl = ", ".join("'%s'" % n for n in names)
        p = subprocess.Popen(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        p.stdin.write("""
\\getenv public_key ATLAS_MOCK_PUBLIC_KEY
\\getenv private_key ATLAS_MOCK_PRIVATE_KEY
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS atlas_snapshot_fdw;
DROP SERVER IF EXISTS adaptive_bench CASCADE;
CREATE SERVER adaptive_bench FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url '%s');
CREATE USER MAPPING FOR CURRENT_USER SERVER adaptive_bench
  OPTIONS (public_key :'public_key', private_key :'private_key');
CREATE FOREIGN TABLE adaptive_s (group_id text, cluster_name text, id text)
  SERVER adaptive_bench OPTIONS (resource 'cluster_snapshots');
SET jit = off;
SELECT 'pid', pg_backend_pid();
""" % url)
        p.stdin.flush()
        pid = p.stdout.readline().strip().split("|")[1]

        def hwm():
            with open("/proc/%s/status" % pid) as f:
                return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))
        before = hwm()
        p.stdin.write("SELECT 'rows', count(*) FROM adaptive_s WHERE group_id IN (%s) AND cluster_name IN (%s);\n"
                      "SELECT 'done';\n" % (gl, nl))
        p.stdin.flush()
        rows = p.stdout.readline().strip()
        p.stdout.readline()
        after = hwm()
        p.stdin.write("DROP SERVER adaptive_bench CASCADE;\n")
        p.stdin.close()
        p.wait()
        return before, after, rows
    finally:
        mock.terminate()
        mock.wait()


def main():
    results = []
    if "S2" in ONLY:
        names = ["n" + "0" * z + "2500" for z in range(20)]
        reqs = 20 * 6
        ideal = max(2 * LATENCY_MS, reqs * LATENCY_MS / MAX_CONCURRENCY) / 1000.0
        results.append(run("S2: 20 clusters x 2,500 snapshots", [], [G1], names, ideal,
                           (50000, 20)))
    names100, snaps100 = one_snapshot_names(100)
    groups100 = [extra_group(i) for i in range(1, 101)]
    if "S4" in ONLY:
        results.append(run("S4: 10,000 clusters, 100 projects", ["--extra-groups", "100"],
                           groups100, names100, 10000 * LATENCY_MS / MAX_CONCURRENCY / 1000.0,
                           (100 * snaps100, 10000)))
    bucket = ["--extra-groups", "20", "--token-bucket", "100", "--refill-per-sec", "50"]
    if "S5h" in ONLY:
        results.append(run("S5h: 2,000 clusters, token bucket, RateLimit headers", bucket,
                           groups100[:20], names100, (2000 - 100) / 50.0,
                           (20 * snaps100, 2000)))
    if "S5n" in ONLY:
        results.append(run("S5n: 2,000 clusters, token bucket, no RateLimit headers",
                           bucket + ["--no-rate-headers"],
                           groups100[:20], names100, (2000 - 100) / 50.0,
                           (20 * snaps100, 2000)))
    fmt = "| %-55s | %7s | %7s | %7s | %9s | %5s | %9s | %14s | %6s |"
    print(fmt % ("scenario (default options, +%d ms a request)" % LATENCY_MS, "wall s", "ideal s",
                 "x ideal", "mean in flight", "peak", "requests", "429s (share)", "rows ok"))
    print(fmt % tuple(["---"] * 9))
    for r in results:
        print(fmt % (r["name"], "%.2f" % r["wall"], "%.2f" % r["ideal"],
                     "%.2fx" % (r["wall"] / r["ideal"]), "%.1f" % r["mean"], r["peak"],
                     r["requests"], "%d (%.1f%%)" % (r["n429"], 100.0 * r["n429"] / max(1, r["requests"])),
                     "yes" if r["ok"] else "NO (%d)" % r["rows"]))
    if "S4" in ONLY:
        before, after, rows = vmhwm_s4(groups100, names100, 100 * snaps100)
        print()
        print("backend VmHWM, 10,000 request chains (no added latency, jit off): %d kB before, %d kB after "
              "(+%.1f MB); %s" % (before, after, (after - before) / 1024.0, rows.replace("|", " ")))
    sys.stdout.flush()
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
