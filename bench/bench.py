#!/usr/bin/env python3
"""bench/bench.py: the benchmark driver, run by bench/run.sh inside a
throwaway cluster (pg_virtualenv sets PG* for psql).

Runs every method of every scenario BENCH_REPS times (default 3), side by
side in one run, checks count and sum of every repetition against
manifest.json of the generated pages, counts the HTTP requests each method
made from nginx's access log, and prints the table.

Environment (set by run.sh): URL_FAST, URL_SLOW, URL_FASTDIG, URL_SLOWDIG
(nginx: no delay / BENCH_DELAY_MS a request / the same two with an emulated
HTTP Digest challenge), C_CLIENT, COPY_FETCH, PAGES_DIR, ACCESS_LOG.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time

REPS = int(os.environ.get("BENCH_REPS", "3"))
URL = {k: os.environ["URL_" + k.upper()] for k in ("fast", "slow", "fastdig", "slowdig")}
C_CLIENT = os.environ["C_CLIENT"]
COPY_FETCH = os.environ["COPY_FETCH"]
ACCESS_LOG = os.environ["ACCESS_LOG"]
DELAY_MS = int(os.environ.get("BENCH_DELAY_MS", "50"))
ONLY = set(x.strip() for x in os.environ.get("BENCH_ONLY", "1,2,1d,2d,3").split(",") if x.strip())
with open(os.path.join(os.environ["PAGES_DIR"], "manifest.json")) as f:
    MANIFEST = json.load(f)

G1 = "32b6e34b3d91647abb20e7b8"
GROUPS4 = ["5e2211c17a3e5a48f5497de3", "6b8cd3c1e8f0b0a1d2c3d4e5",
           "7c9de4d2f9a1c1b2e3d4f5a6", "8daef5e3aab2d2c3f4e5a6b7"]
NAMES5 = ["orders", "billing", "catalog", "sessions", "audit"]
CRED = "bench-public:bench-private"          # what the FDW's user mapping sends

T1 = [(G1, "tp-200k")]
T2 = [(g, c) for g in GROUPS4 for c in NAMES5]


def expected(pairs):
    n = sum(MANIFEST["%s/%s" % p]["count"] for p in pairs)
    s = sum(MANIFEST["%s/%s" % p]["sum"] for p in pairs)
    return n, s


def where(pairs):
    gs = sorted({g for g, _ in pairs})
    cs = sorted({c for _, c in pairs})
    if len(gs) == 1 and len(cs) == 1:
        return "group_id = '%s' AND cluster_name = '%s'" % (gs[0], cs[0])
    return "group_id IN (%s) AND cluster_name IN (%s)" % (
        ", ".join("'%s'" % g for g in gs), ", ".join("'%s'" % c for c in cs))


def sql_array(xs):
    return "ARRAY[%s]::text[]" % ", ".join("'%s'" % x for x in xs)


class PsqlError(Exception):
    pass


def psql(script):
    p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"],
                       input=script, text=True, capture_output=True)
    if p.returncode != 0:
        raise PsqlError((p.stderr or p.stdout).strip())
    return p.stdout


def tagged(out, tag):
    return [l[len(tag) + 1:] for l in out.splitlines() if l.startswith(tag + " ")]


# --- nginx access log: requests per method -----------------------------------

def log_offset():
    return os.path.getsize(ACCESS_LOG)


def log_since(offset):
    """(answers 200, answers 401, other) since offset, warm-up requests excluded."""
    with open(ACCESS_LOG) as f:
        f.seek(offset)
        lines = [l.split() for l in f.read().splitlines()]
    lines = [l for l in lines if len(l) >= 3 and "/clusters/warm/" not in l[2]]
    ok = sum(1 for l in lines if l[1] == "200")
    chal = sum(1 for l in lines if l[1] == "401")
    return ok, chal, len(lines) - ok - chal


# --- results -----------------------------------------------------------------

class Row:
    def __init__(self, scen, method, times, results, want, reqs=None, count_only=False,
                 error=None, note=""):
        self.scen, self.method, self.times, self.results = scen, method, times, results
        self.want, self.reqs, self.count_only, self.error, self.note = want, reqs, count_only, error, note

    @property
    def median(self):
        return statistics.median(self.times) if self.times else None

    @property
    def ok(self):
        if self.error or len(self.results) != REPS:
            return False
        for n, s in self.results:
            if n != self.want[0] or (not self.count_only and s != self.want[1]):
                return False
        return True

    def check_text(self):
        if self.error:
            return "FAILED"
        if not self.ok:
            got = sorted(set(self.results))
            return "MISMATCH got %s want %d/%d" % (
                ",".join("%d/%d" % g for g in got), self.want[0], self.want[1])
        return "ok (count)" if self.count_only else "ok"


ROWS = []


def record(row):
    ROWS.append(row)
    if row.error:
        msg = "FAILED: " + row.error.splitlines()[0][:200]
    else:
        msg = "median %.3f s  runs %s  %s" % (row.median, " ".join("%.3f" % t for t in row.times),
                                              row.check_text())
    print("   %-12s %-52s %s" % (row.scen, row.method, msg), file=sys.stderr, flush=True)
    return row


def run_c(scen, method, base, pairs, args, raw=False):
    want = expected(pairs)
    off = log_offset()
    times, results, rss = [], [], []
    cmd = [C_CLIENT] + args + [base] + [x for p in pairs for x in p]
    try:
        for _ in range(REPS):
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                raise PsqlError(p.stderr.strip() or "exit %d" % p.returncode)
            rows, total, pages, reqs, nbytes, secs, maxrss = p.stdout.split()
            times.append(float(secs))
            results.append((int(rows), int(total)))
            rss.append(int(maxrss))
        err = None
    except PsqlError as e:
        err = str(e)
    row = Row(scen, method, times, results, want, log_since(off), count_only=raw, error=err)
    row.maxrss = statistics.median(rss) if rss else None
    return record(row)


def timed_block(stmts):
    return ("SELECT clock_timestamp() AS t0 \\gset\n" + stmts +
            "\nSELECT 'TIME ' || extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);\n")


def run_sql(scen, method, pairs, warm, stmts, after=""):
    """One psql session: an untimed warm-up, then REPS timed repetitions."""
    want = expected(pairs)
    script = "SET client_min_messages = warning;\n" + warm + "\n"
    for _ in range(REPS):
        script += timed_block(stmts) + after + "\n"
    off = log_offset()
    try:
        out = psql(script)
        times = [float(t) for t in tagged(out, "TIME")]
        results = [tuple(int(x) for x in r.split()) for r in tagged(out, "RESULT")]
        err = None
    except PsqlError as e:
        times, results, err = [], [], str(e)
    return record(Row(scen, method, times, results, want, log_since(off), error=err))


def fdw(scen, method, table, pairs):
    warm = "SELECT count(*) FROM %s WHERE group_id = '%s' AND cluster_name = 'warm';" % (table, G1)
    q = ("SELECT 'RESULT ' || count(*) || ' ' || coalesce(sum(storage_size_bytes), 0) "
         "FROM %s WHERE %s;" % (table, where(pairs)))
    return run_sql(scen, method, pairs, warm, q)


def plpy_lateral(scen, method, base, pairs):
    warm = "SELECT count(*) FROM py_snapshots('%s', '%s', 'warm');" % (base, G1)
    gs = sorted({g for g, _ in pairs})
    cs = sorted({c for _, c in pairs})
    q = ("SELECT 'RESULT ' || count(*) || ' ' || coalesce(sum(s.storage_size_bytes), 0) "
         "FROM unnest(%s) g CROSS JOIN unnest(%s) c CROSS JOIN LATERAL py_snapshots('%s', g, c) s;"
         % (sql_array(gs), sql_array(cs), base))
    return run_sql(scen, method, pairs, warm, q)


def plpy_pool(scen, method, base, pairs, threads):
    warm = "SELECT count(*) FROM py_snapshots_pool('%s', ARRAY['%s'], ARRAY['warm'], 1);" % (base, G1)
    gs = sorted({g for g, _ in pairs})
    cs = sorted({c for _, c in pairs})
    q = ("SELECT 'RESULT ' || count(*) || ' ' || coalesce(sum(storage_size_bytes), 0) "
         "FROM py_snapshots_pool('%s', %s, %s, %d);" % (base, sql_array(gs), sql_array(cs), threads))
    return run_sql(scen, method, pairs, warm, q)


def copy_program(scen, method, base, pairs, par):
    def prog(ps):
        return "bash %s %s %d %s" % (COPY_FETCH, base, par, " ".join("%s %s" % p for p in ps))
    copy = ("COPY bench_stage (doc) FROM PROGRAM '%s' "
            "WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02');")
    warm = copy % prog([(G1, "warm")]) + "\nTRUNCATE bench_stage;"
    q = (copy % prog(pairs) + "\n"
         "SELECT 'RESULT ' || count(*) || ' ' || coalesce(sum(r.\"storageSizeBytes\"), 0) "
         "FROM bench_stage s CROSS JOIN LATERAL jsonb_to_recordset(s.doc->'results') "
         "AS r(\"storageSizeBytes\" bigint);")
    return run_sql(scen, method, pairs, warm, q, after="TRUNCATE bench_stage;")


def memory(scen, method, table, pairs):
    """Fresh backend per repetition: VmHWM after a warm-up query and after the scan."""
    want = expected(pairs)
    hwm = "\\! echo \"%s $(awk '/^VmHWM/ {print $2}' /proc/$BPID/status)\"\n"
    script = ("SET client_min_messages = warning;\n"
              "SELECT pg_backend_pid() AS pid \\gset\n\\setenv BPID :pid\n"
              "SELECT count(*) FROM %s WHERE group_id = '%s' AND cluster_name = 'warm';\n"
              % (table, G1) + hwm % "HWM0" +
              timed_block("SELECT 'RESULT ' || count(*) || ' ' || coalesce(sum(storage_size_bytes), 0) "
                          "FROM %s WHERE %s;" % (table, where(pairs))) + hwm % "HWM1")
    times, results, h0, h1, err = [], [], [], [], None
    try:
        for _ in range(REPS):
            out = psql(script)
            times += [float(t) for t in tagged(out, "TIME")]
            results += [tuple(int(x) for x in r.split()) for r in tagged(out, "RESULT")]
            h0 += [int(x) for x in tagged(out, "HWM0")]
            h1 += [int(x) for x in tagged(out, "HWM1")]
    except PsqlError as e:
        err = str(e)
    row = record(Row(scen, method, times, results, want, error=err))
    row.hwm0 = statistics.median(h0) if h0 else None
    row.hwm1 = statistics.median(h1) if h1 else None
    return row


# --- setup -------------------------------------------------------------------

COLUMNS = """group_id text NOT NULL, cluster_name text NOT NULL, id text, cloud_provider text,
    copy_regions text[], created_at timestamptz, description text, expires_at timestamptz,
    frequency_type text, master_key_uuid uuid, mongod_version text, policy_items text[],
    replica_set_name text, snapshot_type text, status text, storage_size_bytes bigint, type text"""

PLPY = r"""
CREATE FUNCTION py_snapshots(base text, g text, c text)
RETURNS TABLE (storage_size_bytes bigint) LANGUAGE plpython3u AS $py$
import json, urllib.request
page = 1
while True:
    req = urllib.request.Request(
        "%s/api/atlas/v2/groups/%s/clusters/%s/backup/snapshots?pageNum=%d&itemsPerPage=500"
        % (base, g, c, page), headers={"Accept": "application/vnd.atlas.2023-01-01+json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        results = json.loads(resp.read())["results"]
    for item in results:
        yield item.get("storageSizeBytes")
    if len(results) < 500:
        break
    page += 1
$py$;

CREATE FUNCTION py_snapshots_pool(base text, gs text[], cs text[], threads int)
RETURNS TABLE (storage_size_bytes bigint) LANGUAGE plpython3u AS $py$
import json, urllib.request
from concurrent.futures import ThreadPoolExecutor

def one_cluster(gc):
    out, page = [], 1
    while True:
        req = urllib.request.Request(
            "%s/api/atlas/v2/groups/%s/clusters/%s/backup/snapshots?pageNum=%d&itemsPerPage=500"
            % (base, gc[0], gc[1], page), headers={"Accept": "application/vnd.atlas.2023-01-01+json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            results = json.loads(resp.read())["results"]
        out.extend(item.get("storageSizeBytes") for item in results)
        if len(results) < 500:
            return out
        page += 1

# the threads only do HTTP and JSON; rows are returned from this thread
with ThreadPoolExecutor(max_workers=threads) as pool:
    chunks = list(pool.map(one_cluster, [(g, c) for g in gs for c in cs]))
for chunk in chunks:
    for v in chunk:
        yield v
$py$;
"""


def setup():
    info = {}
    psql("CREATE EXTENSION atlas_snapshot_fdw; CREATE EXTENSION plpython3u;"
         "CREATE UNLOGGED TABLE bench_stage (doc jsonb);" + PLPY)
    info["extversion"] = psql("SELECT extversion FROM pg_extension WHERE extname = 'atlas_snapshot_fdw';").strip()
    info["pg"] = psql("SELECT version();").strip()
    info["jit"] = psql("SHOW jit;").strip()
    # does the server accept max_concurrency?
    try:
        psql("CREATE SERVER probe FOREIGN DATA WRAPPER atlas_snapshot_fdw "
             "OPTIONS (base_url '%s', max_concurrency '8'); DROP SERVER probe;" % URL["fast"])
        info["max_concurrency"] = True
    except PsqlError as e:
        info["max_concurrency"] = False
        info["max_concurrency_error"] = e.args[0].splitlines()[0]
    servers = {"fast": ("fast", None), "slow": ("slow", None),
               "fastdig": ("fastdig", None), "slowdig": ("slowdig", None)}
    if info["max_concurrency"]:
        servers.update({"fast_c1": ("fast", 1), "slow_c1": ("slow", 1), "slow_c32": ("slow", 32),
                        "slowdig_c32": ("slowdig", 32)})
    sql = ""
    for name, (url, mc) in servers.items():
        opts = "base_url '%s'" % URL[url] + (", max_concurrency '%d'" % mc if mc else "")
        sql += ("CREATE SERVER s_%s FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (%s);\n"
                "CREATE USER MAPPING FOR CURRENT_USER SERVER s_%s OPTIONS (public_key '%s', private_key '%s');\n"
                "CREATE FOREIGN TABLE snaps_%s (%s) SERVER s_%s OPTIONS (resource 'cluster_snapshots');\n"
                % (name, opts, name, CRED.split(":")[0], CRED.split(":")[1], name, COLUMNS, name))
    psql(sql)
    return info


# --- table -------------------------------------------------------------------

def fmt_ratio(t, ref):
    if t is None or ref is None or ref.median is None or ref.error:
        return "-"
    return "%.2fx" % (t / ref.median)


def print_table(refs, info, mem_rows):
    head = ("scenario", "method", "median s", "rows/s", "vs C", "vs PL/Py", "req/run", "401s", "spread", "count/sum")
    fmt = "%-13s | %-50s | %8s | %9s | %6s | %8s | %7s | %4s | %6s | %s"
    print()
    print(fmt % head)
    print("-" * 150)
    for r in ROWS:
        if r.scen.startswith("3"):
            continue
        cref, pref = refs.get(r.scen, (None, None))
        med = r.median
        rate = "%.0f" % (r.want[0] / med) if med else "-"
        reqs = "%.0f" % ((r.reqs[0] + r.reqs[1]) / REPS) if r.reqs else "-"
        chal = "%d" % r.reqs[1] if r.reqs else "-"
        spread = ("%.0f%%" % (100.0 * (max(r.times) - min(r.times)) / med)) if med else "-"
        print(fmt % (r.scen, r.method, "%.3f" % med if med else "-", rate,
                     fmt_ratio(med, cref), fmt_ratio(med, pref), reqs, chal, spread, r.check_text()))
    print()
    fmt3 = "%-13s | %-50s | %8s | %9s | %12s | %12s | %9s | %s"
    print(fmt3 % ("scenario", "method", "median s", "rows/s", "HWM before kB", "HWM after kB", "growth kB", "count/sum"))
    print("-" * 150)
    for r in mem_rows:
        med = r.median
        if getattr(r, "hwm1", None) is not None:
            before = "%d" % r.hwm0 if r.hwm0 is not None else "-"
            after = "%d" % r.hwm1
            growth = "%+d" % (r.hwm1 - r.hwm0) if r.hwm0 is not None else "-"
        elif getattr(r, "maxrss", None) is not None:
            before, after, growth = "-", "%d" % r.maxrss, "(maxrss)"
        else:
            before = after = growth = "-"
        print(fmt3 % (r.scen, r.method, "%.3f" % med if med else "-",
                      "%.0f" % (r.want[0] / med) if med else "-", before, after, growth, r.check_text()))
    print()
    print("median of %d runs; spread = (max - min) / median; rows/s = expected rows / median." % REPS)
    print("vs C / vs PL/Py = method's median / reference median (above 1 = slower than the reference):")
    for scen, (c, p) in refs.items():
        print("  %-13s C: %s; PL/Py: %s" % (scen, c.method if c else "-", p.method if p else "-"))
    print("req/run = HTTP requests nginx answered per repetition (401 challenges included); 401s = total 401 "
          "answers over all %d repetitions (warm-up excluded)." % REPS)
    print("PostgreSQL methods: one session each, one untimed warm-up query on a 10-snapshot cluster, then the "
          "repetitions, timed with clock_timestamp() around the statements;")
    print("C client: in-process wall time of a fresh process per repetition.")
    if info["max_concurrency"]:
        print("max_concurrency: the installed FDW accepts the server option (default 8 per its README); "
              "rows name the value used.")
    else:
        print("max_concurrency: NOT supported by the installed FDW (%s); FDW rows use its fixed behaviour."
              % info.get("max_concurrency_error"))
    print("The FDW's user mappings hold Digest credentials (public_key/private_key) throughout; the servers of "
          "scenarios 1, 2 and 3 never ask for them and answer 200 at once.")
    bad = [r for r in ROWS if not r.ok]
    if bad:
        print("FAILED or MISMATCHED: " + "; ".join("%s / %s" % (r.scen, r.method) for r in bad))
        for r in bad:
            if r.error:
                print("  %s / %s: %s" % (r.scen, r.method, r.error.replace("\n", " | ")[:600]))


def scenario1(mc, dflt, refs):
    """throughput: 1 cluster x 200,000 snapshots, no added latency"""
    n1 = "1 throughput"
    print("== scenario 1: 1 cluster x %s snapshots, no added latency" % format(expected(T1)[0], ","),
          file=sys.stderr)
    c1 = run_c(n1, "C client, sequential, 1 keep-alive handle", URL["fast"], T1, ["-m", "seq", "-u", CRED])
    run_c(n1, "C client, multi, 8 in flight", URL["fast"], T1, ["-m", "multi", "-n", "8", "-u", CRED])
    run_c(n1, "C raw transfers, sequential (floor)", URL["fast"], T1, ["-m", "seq", "-r", "-u", CRED], raw=True)
    run_c(n1, "C raw transfers, multi 8 (floor)", URL["fast"], T1,
          ["-m", "multi", "-n", "8", "-r", "-u", CRED], raw=True)
    fdw(n1, dflt, "snaps_fast", T1)
    if mc:
        fdw(n1, "FDW, max_concurrency 1", "snaps_fast_c1", T1)
    p1 = plpy_lateral(n1, "PL/Python urllib, sequential pages", URL["fast"], T1)
    copy_program(n1, "COPY FROM PROGRAM curl, sequential + jsonb", URL["fast"], T1, 1)
    copy_program(n1, "COPY FROM PROGRAM curl --parallel 8 + jsonb", URL["fast"], T1, 8)
    refs[n1] = (c1, p1)


def scenario2(mc, dflt, refs):
    """latency hiding: 20 clusters x 2,500 snapshots, DELAY_MS a request"""
    n2 = "2 latency"
    print("== scenario 2: 20 clusters x 2,500 snapshots, %d ms a request" % DELAY_MS, file=sys.stderr)
    run_c(n2, "C raw transfers, multi 32 (floor)", URL["slow"], T2,
          ["-m", "multi", "-n", "32", "-r", "-u", CRED], raw=True)
    run_c(n2, "C client, sequential", URL["slow"], T2, ["-m", "seq", "-u", CRED])
    run_c(n2, "C client, multi, 8 in flight", URL["slow"], T2, ["-m", "multi", "-n", "8", "-u", CRED])
    c2 = run_c(n2, "C client, multi, 32 in flight", URL["slow"], T2, ["-m", "multi", "-n", "32", "-u", CRED])
    if mc:
        fdw(n2, "FDW, max_concurrency 1", "snaps_slow_c1", T2)
    fdw(n2, dflt, "snaps_slow", T2)
    if mc:
        fdw(n2, "FDW, max_concurrency 32", "snaps_slow_c32", T2)
    plpy_lateral(n2, "PL/Python urllib, LATERAL per cluster", URL["slow"], T2)
    p2 = plpy_pool(n2, "PL/Python urllib, 20-thread pool in one call", URL["slow"], T2, 20)
    copy_program(n2, "COPY FROM PROGRAM curl, sequential + jsonb", URL["slow"], T2, 1)
    copy_program(n2, "COPY FROM PROGRAM curl --parallel 32 + jsonb", URL["slow"], T2, 32)
    refs[n2] = (c2, p2)


def scenario_digest(mc, dflt, refs):
    """1d/2d: scenarios 1 and 2 against a server that challenges like Atlas"""
    print("== scenarios 1d/2d: HTTP Digest challenge emulated (401 until an Authorization header)",
          file=sys.stderr)
    n1d, n2d = "1d digest", "2d digest"
    if "1d" in ONLY:
        c1d = run_c(n1d, "C client, sequential, 1 keep-alive handle", URL["fastdig"], T1,
                    ["-m", "seq", "-u", CRED])
        run_c(n1d, "C client, multi, 8 in flight", URL["fastdig"], T1, ["-m", "multi", "-n", "8", "-u", CRED])
        fdw(n1d, dflt, "snaps_fastdig", T1)
        refs[n1d] = (c1d, None)
    if "2d" in ONLY:
        c2d = run_c(n2d, "C client, multi, 32 in flight", URL["slowdig"], T2,
                    ["-m", "multi", "-n", "32", "-u", CRED])
        fdw(n2d, dflt, "snaps_slowdig", T2)
        if mc:
            fdw(n2d, "FDW, max_concurrency 32", "snaps_slowdig_c32", T2)
        refs[n2d] = (c2d, None)


def scenario3(mc, dflt):
    """memory: backend peak RSS for 10,000 vs 1,000,000 snapshots"""
    print("== scenario 3: backend VmHWM, 10,000 vs 1,000,000 snapshots", file=sys.stderr)
    mem = []
    tables = [("snaps_fast", dflt)] + ([("snaps_fast_c1", "FDW, max_concurrency 1")] if mc else [])
    for table, label in tables:
        for n, cl in [(10000, "mem-10k"), (1000000, "mem-1m")]:
            mem.append(memory("3 memory", "%s, %s snapshots" % (label, format(n, ",")), table, [(G1, cl)]))
            ROWS.remove(mem[-1])
    for n, cl in [(10000, "mem-10k"), (1000000, "mem-1m")]:
        r = run_c("3 memory", "C client, sequential, %s snapshots" % format(n, ","), URL["fast"], [(G1, cl)],
                  ["-m", "seq", "-u", CRED])
        ROWS.remove(r)
        mem.append(r)
    return mem


def main():
    t_start = time.time()
    info = setup()
    mc = info["max_concurrency"]
    print("== extension %s, %s, jit=%s, max_concurrency option: %s" % (
        info["extversion"], info["pg"].split(" on ")[0], info["jit"],
        "supported" if mc else "NOT supported (%s)" % info.get("max_concurrency_error")), file=sys.stderr)
    dflt = "FDW, default max_concurrency (8)" if mc else "FDW"
    refs = {}
    if "1" in ONLY:
        scenario1(mc, dflt, refs)
    if "2" in ONLY:
        scenario2(mc, dflt, refs)
    if "1d" in ONLY or "2d" in ONLY:
        scenario_digest(mc, dflt, refs)
    mem_rows = scenario3(mc, dflt) if "3" in ONLY else []
    print_table(refs, info, mem_rows)
    print("driver time %.0f s" % (time.time() - t_start))
    return 0 if all(r.ok for r in ROWS + mem_rows) else 1


if __name__ == "__main__":
    sys.exit(main())
