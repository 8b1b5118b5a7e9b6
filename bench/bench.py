#!/usr/bin/env python3
"""The benchmark driver (run by bench/run.sh inside a throwaway cluster).

Runs every method of every scenario REPS times, side by side in one run,
checks count and sum against the generated data, and prints a table with
medians and ratios.  Environment: FAST_URL (nginx, no delay), SLOW_URL
(50 ms a request), C_CLIENT (the compiled baseline), PG* for psql.
"""
import os
import re
import statistics
import subprocess
import sys

REPS = int(os.environ.get("BENCH_REPS", "3"))
FAST = os.environ["FAST_URL"]
SLOW = os.environ["SLOW_URL"]
C_CLIENT = os.environ["C_CLIENT"]

G1 = "32b6e34b3d91647abb20e7b8"
GROUPS4 = ["5e2211c17a3e5a48f5497de3", "6b8cd3c1e8f0b0a1d2c3d4e5",
           "7c9de4d2f9a1c1b2e3d4f5a6", "8daef5e3aab2d2c3f4e5a6b7"]
NAMES5 = ["c1", "c2", "c3", "c4", "c5"]


def expected(n):
    return n, n * 1000000 + n * (n - 1) // 2


def psql(sql):
    """Run SQL in one psql session; return (last result row, ms of the last timed query)."""
    out = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1"],
                         input="\\timing on\n" + sql, capture_output=True,
                         text=True, check=True).stdout
    times = [float(t) for t in re.findall(r"^Time: ([0-9.]+) ms", out, re.M)]
    rows = [l for l in out.splitlines() if l and not l.startswith("Time:")]
    return rows[-1] if rows else "", times[-1] / 1000.0


def c_client(mode, base, pairs):
    args = [C_CLIENT, mode, base] + [x for p in pairs for x in p]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), int(out[1]), float(out[2])


SETUP = """
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS atlas_snapshot_fdw;
CREATE EXTENSION IF NOT EXISTS plpython3u;
DROP SERVER IF EXISTS fast, slow, slow1 CASCADE;
CREATE SERVER fast FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url '{fast}');
CREATE SERVER slow FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url '{slow}', max_concurrency '32');
CREATE SERVER slow1 FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url '{slow}', max_concurrency '8');
CREATE USER MAPPING FOR CURRENT_USER SERVER fast OPTIONS (public_key 'bench', private_key 'bench');
CREATE USER MAPPING FOR CURRENT_USER SERVER slow OPTIONS (public_key 'bench', private_key 'bench');
CREATE USER MAPPING FOR CURRENT_USER SERVER slow1 OPTIONS (public_key 'bench', private_key 'bench');
CREATE FOREIGN TABLE fast_snaps (group_id text, cluster_name text, id text, created_at timestamptz,
    status text, storage_size_bytes bigint) SERVER fast OPTIONS (resource 'cluster_snapshots');
CREATE FOREIGN TABLE slow_snaps (group_id text, cluster_name text, id text, created_at timestamptz,
    status text, storage_size_bytes bigint) SERVER slow OPTIONS (resource 'cluster_snapshots');
CREATE FOREIGN TABLE slow8_snaps (group_id text, cluster_name text, id text, created_at timestamptz,
    status text, storage_size_bytes bigint) SERVER slow1 OPTIONS (resource 'cluster_snapshots');
CREATE OR REPLACE FUNCTION py_snapshots(base text, g text, c text)
RETURNS TABLE (id text, storage_size_bytes bigint) LANGUAGE plpython3u AS $$
import json, urllib.request
page = 1
while True:
    url = "%s/api/atlas/v2/groups/%s/clusters/%s/backup/snapshots?pageNum=%d&itemsPerPage=500" % (base, g, c, page)
    doc = json.loads(urllib.request.urlopen(url).read())
    for it in doc["results"]:
        yield (it["id"], it["storageSizeBytes"])
    if len(doc["results"]) < 500:
        break
    page += 1
$$;
CREATE OR REPLACE FUNCTION py_snapshots_pool(base text, gs text[], cs text[])
RETURNS TABLE (id text, storage_size_bytes bigint) LANGUAGE plpython3u AS $$
import json, urllib.request
from concurrent.futures import ThreadPoolExecutor
def one(gc):
    g, c = gc
    out, page = [], 1
    while True:
        url = "%s/api/atlas/v2/groups/%s/clusters/%s/backup/snapshots?pageNum=%d&itemsPerPage=500" % (base, g, c, page)
        doc = json.loads(urllib.request.urlopen(url).read())
        out.extend((it["id"], it["storageSizeBytes"]) for it in doc["results"])
        if len(doc["results"]) < 500:
            return out
        page += 1
with ThreadPoolExecutor(20) as ex:
    for rows in ex.map(one, [(g, c) for g in gs for c in cs]):
        for r in rows:
            yield r
$$;
CREATE UNLOGGED TABLE IF NOT EXISTS bench_stage (doc jsonb);
"""


def fdw(table, where):
    return psql("SELECT count(*) || ' ' || sum(storage_size_bytes) FROM %s WHERE %s;" % (table, where))


def copy_program(base, pairs_pages):
    urls = " ".join("'%s/api/atlas/v2/groups/%s/clusters/%s/backup/snapshots?pageNum=[1-%d]&itemsPerPage=500'"
                    % (base, g, c, n) for (g, c, n) in pairs_pages)
    cmd = "curl -s -w '\\n' %s" % urls
    sql = ("TRUNCATE bench_stage;\n"
           "BEGIN;\n"
           "COPY bench_stage (doc) FROM PROGRAM $cmd$%s$cmd$ WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02');\n"
           "SELECT count(*) || ' ' || sum((r->>'storageSizeBytes')::bigint) FROM bench_stage, jsonb_array_elements(doc->'results') r;\n"
           "COMMIT;\n") % cmd
    out = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1"],
                         input="\\timing on\n" + sql, capture_output=True, text=True, check=True).stdout
    times = [float(t) for t in re.findall(r"^Time: ([0-9.]+) ms", out, re.M)]
    rows = [l for l in out.splitlines() if re.match(r"^\d+ \d+$", l)]
    return rows[-1], sum(times) / 1000.0


def median_run(fn):
    results = [fn() for _ in range(REPS)]
    value = results[-1][0]
    return value, statistics.median(r[1] for r in results)


def main():
    psql(SETUP.format(fast=FAST, slow=SLOW))
    table = []

    # 1. throughput: 1 cluster x 200,000 snapshots, no added latency
    n1 = 200000
    exp1 = "%d %d" % expected(n1)
    w1 = "group_id = '%s' AND cluster_name = 'big'" % G1
    pairs1 = [(G1, "big")]
    for name, fn in [
        ("C client, sequential", lambda: (lambda r: ("%d %d" % r[:2], r[2]))(c_client("seq", FAST, pairs1))),
        ("C client, pages fanned out", lambda: (lambda r: ("%d %d" % r[:2], r[2]))(c_client("fanout", FAST, pairs1))),
        ("FDW (max_concurrency 8)", lambda: fdw("fast_snaps", w1)),
        ("PL/Python (urllib)", lambda: psql("SELECT count(*) || ' ' || sum(storage_size_bytes) FROM py_snapshots('%s', '%s', 'big');" % (FAST, G1))),
        ("COPY FROM PROGRAM curl + jsonb", lambda: copy_program(FAST, [(G1, "big", n1 // 500 + 1)])),
    ]:
        value, secs = median_run(fn)
        table.append(("1: 200k rows, 1 cluster", name, secs, n1 / secs, value == exp1))

    # 2. latency hiding: 20 clusters x 2,500 snapshots, 50 ms per request
    n2 = 20 * 2500
    exp2 = "%d %d" % (n2, 20 * expected(2500)[1])
    ingroups = ", ".join("'%s'" % g for g in GROUPS4)
    innames = ", ".join("'%s'" % c for c in NAMES5)
    w2 = "group_id IN (%s) AND cluster_name IN (%s)" % (ingroups, innames)
    pairs2 = [(g, c) for g in GROUPS4 for c in NAMES5]
    raw = median_run(lambda: (lambda r: ("%d" % r[0], r[2]))(c_client("raw", SLOW, pairs2)))
    table.append(("2: 20 clusters x 5 pages, 50 ms", "raw parallel transfers (floor)", raw[1], n2 / raw[1], True))
    for name, fn in [
        ("C client, pages fanned out", lambda: (lambda r: ("%d %d" % r[:2], r[2]))(c_client("fanout", SLOW, pairs2))),
        ("FDW (max_concurrency 32)", lambda: fdw("slow_snaps", w2)),
        ("FDW (max_concurrency 8, default)", lambda: fdw("slow8_snaps", w2)),
        ("PL/Python, LATERAL per cluster", lambda: psql(
            "SELECT count(*) || ' ' || sum(s.storage_size_bytes) FROM unnest(ARRAY[%s]) g, unnest(ARRAY[%s]) c, "
            "LATERAL py_snapshots('%s', g, c) s;" % (ingroups, innames, SLOW))),
        ("PL/Python, 20-thread pool", lambda: psql(
            "SELECT count(*) || ' ' || sum(storage_size_bytes) FROM py_snapshots_pool('%s', ARRAY[%s], ARRAY[%s]);"
            % (SLOW, ingroups, innames))),
    ]:
        value, secs = median_run(fn)
        table.append(("2: 20 clusters x 5 pages, 50 ms", name, secs, n2 / secs, value == exp2))

    # 3. memory: backend peak RSS for 1,000,000 vs 10,000 snapshots
    mem = {}
    for n, cluster in [(10000, "m10k"), (1000000, "m1m")]:
        out = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1"], input=(
            "SELECT pg_backend_pid() AS pid \\gset\n"
            "SELECT count(*) || ' ' || sum(storage_size_bytes) FROM fast_snaps WHERE group_id = '%s' AND cluster_name = '%s';\n"
            "\\setenv PID :pid\n\\! grep VmHWM /proc/$PID/status\n") % (G1, cluster),
            capture_output=True, text=True, check=True).stdout
        kb = int(re.search(r"VmHWM:\s+(\d+)", out).group(1))
        ok = ("%d %d" % expected(n)) in out
        mem[n] = (kb, ok)

    c1 = next(r[2] for r in table if r[1] == "C client, sequential")
    py1 = next(r[2] for r in table if r[0].startswith("1") and r[1].startswith("PL/Python"))
    rawt = raw[1]
    lat = next(r[2] for r in table if r[1] == "PL/Python, LATERAL per cluster")
    pool = next(r[2] for r in table if r[1] == "PL/Python, 20-thread pool")
    print("%-34s %-34s %9s %11s %-28s %s" % ("scenario", "method", "median s", "rows/s", "ratios", "count/sum"))
    for scen, name, secs, rate, ok in table:
        if scen.startswith("1"):
            ratio = "%.2fx C seq, %.1fx PL/Py" % (c1 / secs, py1 / secs)
        else:
            ratio = "%.2fx floor, %.1fx LAT, %.1fx pool" % (secs / rawt, lat / secs, pool / secs)
        print("%-34s %-34s %9.3f %11.0f %-28s %s" % (scen, name, secs, rate, ratio, "ok" if ok else "MISMATCH"))
    print("%-34s %-34s %s" % ("3: memory (VmHWM)", "FDW, 10,000 rows", "%d kB %s" % (mem[10000][0], "ok" if mem[10000][1] else "MISMATCH")))
    print("%-34s %-34s %s" % ("3: memory (VmHWM)", "FDW, 1,000,000 rows", "%d kB (+%d kB) %s" % (
        mem[1000000][0], mem[1000000][0] - mem[10000][0], "ok" if mem[1000000][1] else "MISMATCH")))
    print("\nratios: scenario 1 = time of the C sequential client (or PL/Python) / time of the method;"
          "\n        scenario 2 = time / raw parallel transfers, and PL/Python (LATERAL, pool) time / method time;"
          "\nmedian of %d runs each." % REPS)


if __name__ == "__main__":
    main()
