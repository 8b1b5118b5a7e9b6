#!/usr/bin/env python3
"""bench.py: the benchmark driver, run by run.sh inside a throwaway cluster
(throwaway_cluster sets PG* for psql).

Runs every method of a scenario BENCH_REPS times (default 3), round-robin
(repetition 1 of every method, then repetition 2, ...) so that a burst of
load from whatever else runs on the machine hits every method alike; checks
count and sum of every repetition against manifest.json of the generated
pages; counts the HTTP requests each method made from nginx's access log;
measures the CPU time of the process doing the work (the C client, or the
PostgreSQL backend with its PL/Python threads and reaped COPY programs);
and prints the table.

Environment (set by run.sh): URL_FAST, URL_SLOW, URL_FASTDIG, URL_SLOWDIG
(nginx: no delay / BENCH_DELAY_MS a request / the same two with an emulated
HTTP Digest challenge), C_CLIENT, COPY_FETCH, PAGES_DIR, ACCESS_LOG,
BENCH_REPS, BENCH_DELAY_MS, BENCH_ONLY.
"""
import json
import os
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
CLK_TCK = os.sysconf("SC_CLK_TCK")
with open(os.path.join(os.environ["PAGES_DIR"], "manifest.json")) as f:
    MANIFEST = json.load(f)

G1 = "32b6e34b3d91647abb20e7b8"
GROUPS4 = ["5e2211c17a3e5a48f5497de3", "6b8cd3c1e8f0b0a1d2c3d4e5",
           "7c9de4d2f9a1c1b2e3d4f5a6", "8daef5e3aab2d2c3f4e5a6b7"]
NAMES5 = ["orders", "billing", "catalog", "sessions", "audit"]
CRED = "bench-public:bench-private"          # what the FDW's user mappings send too

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


class BenchError(Exception):
    pass


def psql(script):
    p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"],
                       input=script, text=True, capture_output=True)
    if p.returncode != 0:
        raise BenchError((p.stderr or p.stdout).strip())
    return p.stdout


def tagged(out, tag):
    return [l[len(tag) + 1:] for l in out.splitlines() if l.startswith(tag + " ")]


def proc_cpu(stat_line):
    """utime + stime + cutime + cstime of a /proc/<pid>/stat line, in ticks."""
    fields = stat_line.rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15])


# --- nginx ---------------------------------------------------------------------

NGINX_PID = os.environ.get("NGINX_PID")


def nginx_alive():
    return not NGINX_PID or os.path.exists("/proc/%s" % NGINX_PID)


# --- nginx access log: requests per method -----------------------------------

def log_offset():
    return os.path.getsize(ACCESS_LOG)


def log_since(offset):
    """[answers 200, answers 401, other] since offset, warm-up requests excluded."""
    with open(ACCESS_LOG) as f:
        f.seek(offset)
        lines = [l.split() for l in f.read().splitlines()]
    lines = [l for l in lines if len(l) >= 3 and "/clusters/warm/" not in l[2]]
    ok = sum(1 for l in lines if l[1] == "200")
    chal = sum(1 for l in lines if l[1] == "401")
    return [ok, chal, len(lines) - ok - chal]


# --- methods -----------------------------------------------------------------

class Method:
    """One row of the table: run() does one repetition."""

    def __init__(self, scen, name, pairs, count_only=False):
        self.scen, self.name, self.pairs, self.count_only = scen, name, pairs, count_only
        self.want = expected(pairs)
        self.times, self.cpus, self.results = [], [], []
        self.hwm0, self.hwm1, self.maxrss = [], [], []
        self.reqs = [0, 0, 0]
        self.error = None

    def run(self):
        if self.error:
            return
        if not nginx_alive():
            self.error = "nginx (pid %s) is gone: something outside the benchmark ended it" % NGINX_PID
            return
        off = log_offset()
        try:
            self.once()
        except BenchError as e:
            self.error = str(e)
        for i, n in enumerate(log_since(off)):
            self.reqs[i] += n

    @staticmethod
    def med(xs):
        return statistics.median(xs) if xs else None

    @property
    def median(self):
        return self.med(self.times)

    @property
    def ok(self):
        if self.error or len(self.results) != REPS:
            return False
        return all(n == self.want[0] and (self.count_only or s == self.want[1]) for n, s in self.results)

    def check_text(self):
        if self.error:
            return "FAILED"
        if not self.ok:
            got = sorted(set(self.results))
            return "MISMATCH got %s want %d/%d" % (
                ",".join("%d/%d" % g for g in got), self.want[0], self.want[1])
        return "ok (count)" if self.count_only else "ok"

    def summary(self):
        if self.error:
            return "FAILED: " + self.error.splitlines()[0][:200]
        return "median %.3f s  runs %s  cpu %.2f s  %s" % (
            self.median, " ".join("%.3f" % t for t in self.times), self.med(self.cpus), self.check_text())


class CMethod(Method):
    def __init__(self, scen, name, base, pairs, args, raw=False):
        super().__init__(scen, name, pairs, count_only=raw)
        self.cmd = [C_CLIENT] + args + [base] + [x for p in pairs for x in p]

    def once(self):
        p = subprocess.run(self.cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise BenchError(p.stderr.strip() or "exit %d" % p.returncode)
        rows, total, _pages, _reqs, _bytes, secs, cpu, maxrss = p.stdout.split()
        self.times.append(float(secs))
        self.cpus.append(float(cpu))
        self.results.append((int(rows), int(total)))
        self.maxrss.append(int(maxrss))


class SqlMethod(Method):
    """A fresh session per repetition: untimed warm-up, then the timed statements."""

    def __init__(self, scen, name, pairs, warm, stmts, after=""):
        super().__init__(scen, name, pairs)
        show = "\\! echo \"%s $(%s)\"\n"
        self.script = (
            "SET client_min_messages = warning;\n"
            "SELECT pg_backend_pid() AS pid \\gset\n"
            "\\setenv BPID :pid\n" + warm + "\n" +
            show % ("HWM0", "awk '/^VmHWM/ {print $2}' /proc/$BPID/status") +
            show % ("CPU0", "cat /proc/$BPID/stat") +
            "SELECT clock_timestamp() AS t0 \\gset\n" + stmts +
            "\nSELECT 'TIME ' || extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);\n" +
            show % ("CPU1", "cat /proc/$BPID/stat") +
            show % ("HWM1", "awk '/^VmHWM/ {print $2}' /proc/$BPID/status") + after + "\n")

    def once(self):
        out = psql(self.script)
        try:
            self.times.append(float(tagged(out, "TIME")[0]))
            self.results.append(tuple(int(x) for x in tagged(out, "RESULT")[0].split()))
            self.cpus.append((proc_cpu(tagged(out, "CPU1")[0]) - proc_cpu(tagged(out, "CPU0")[0])) / CLK_TCK)
            self.hwm0.append(int(tagged(out, "HWM0")[0]))
            self.hwm1.append(int(tagged(out, "HWM1")[0]))
        except (IndexError, ValueError) as e:
            raise BenchError("unexpected psql output (%s): %s" % (e, out[-500:]))


def fdw(scen, name, table, pairs):
    warm = "SELECT count(*) FROM %s WHERE group_id = '%s' AND cluster_name = 'warm';" % (table, G1)
    q = ("SELECT 'RESULT ' || count(*) || ' ' || coalesce(sum(storage_size_bytes), 0) "
         "FROM %s WHERE %s;" % (table, where(pairs)))
    return SqlMethod(scen, name, pairs, warm, q)


def plpy_lateral(scen, name, base, pairs):
    warm = "SELECT count(*) FROM py_snapshots('%s', '%s', 'warm');" % (base, G1)
    gs = sorted({g for g, _ in pairs})
    cs = sorted({c for _, c in pairs})
    q = ("SELECT 'RESULT ' || count(*) || ' ' || coalesce(sum(s.storage_size_bytes), 0) "
         "FROM unnest(%s) g CROSS JOIN unnest(%s) c CROSS JOIN LATERAL py_snapshots('%s', g, c) s;"
         % (sql_array(gs), sql_array(cs), base))
    return SqlMethod(scen, name, pairs, warm, q)


def plpy_pool(scen, name, base, pairs, threads):
    warm = "SELECT count(*) FROM py_snapshots_pool('%s', ARRAY['%s'], ARRAY['warm'], 1);" % (base, G1)
    gs = sorted({g for g, _ in pairs})
    cs = sorted({c for _, c in pairs})
    q = ("SELECT 'RESULT ' || count(*) || ' ' || coalesce(sum(storage_size_bytes), 0) "
         "FROM py_snapshots_pool('%s', %s, %s, %d);" % (base, sql_array(gs), sql_array(cs), threads))
    return SqlMethod(scen, name, pairs, warm, q)


def copy_program(scen, name, base, pairs, par):
    def prog(ps):
        return "bash %s %s %d %s" % (COPY_FETCH, base, par, " ".join("%s %s" % p for p in ps))
    copy = ("COPY bench_stage (doc) FROM PROGRAM '%s' "
            "WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02');")
    warm = "TRUNCATE bench_stage;\n" + copy % prog([(G1, "warm")]) + "\nTRUNCATE bench_stage;"
    q = (copy % prog(pairs) + "\n"
         "SELECT 'RESULT ' || count(*) || ' ' || coalesce(sum(r.\"storageSizeBytes\"), 0) "
         "FROM bench_stage s CROSS JOIN LATERAL jsonb_to_recordset(s.doc->'results') "
         "AS r(\"storageSizeBytes\" bigint);")
    return SqlMethod(scen, name, pairs, warm, q, after="TRUNCATE bench_stage;")


ALL = []            # every method, in table order


def run_round_robin(title, methods):
    print("== " + title, file=sys.stderr, flush=True)
    t0 = time.time()
    for rep in range(REPS):
        for m in methods:
            m.run()
        print("   round %d/%d done, %.0f s" % (rep + 1, REPS, time.time() - t0), file=sys.stderr, flush=True)
    for m in methods:
        print("   %-11s %-56s %s" % (m.scen, m.name, m.summary()), file=sys.stderr, flush=True)
    ALL.extend(methods)
    return methods


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
    except BenchError as e:
        info["max_concurrency"] = False
        info["max_concurrency_error"] = e.args[0].splitlines()[0]
    # and max_scan_memory (the budget that bounds transfers in flight by bytes)?
    try:
        psql("CREATE SERVER probe FOREIGN DATA WRAPPER atlas_snapshot_fdw "
             "OPTIONS (base_url '%s', max_scan_memory '536870912'); DROP SERVER probe;" % URL["fast"])
        info["max_scan_memory"] = True
    except BenchError:
        info["max_scan_memory"] = False
    servers = {"fast": ("fast", None), "slow": ("slow", None),
               "fastdig": ("fastdig", None), "slowdig": ("slowdig", None)}
    if info["max_concurrency"]:
        servers.update({"fast_c1": ("fast", 1), "slow_c1": ("slow", 1), "slow_c32": ("slow", 32),
                        "slow_c64": ("slow", 64), "slowdig_c32": ("slowdig", 32)})
    user, password = CRED.split(":")
    sql = ""
    for name, (url, mc) in servers.items():
        opts = "base_url '%s'" % URL[url] + (", max_concurrency '%d'" % mc if mc else "")
        if mc and mc > 32 and info["max_scan_memory"]:
            # bodies in flight count as max_page_bytes (4 MiB) against half of max_scan_memory
            opts += ", max_scan_memory '%d'" % (2 * mc * (4 << 20))
        sql += ("CREATE SERVER s_%s FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (%s);\n"
                "CREATE USER MAPPING FOR CURRENT_USER SERVER s_%s OPTIONS (public_key '%s', private_key '%s');\n"
                "CREATE FOREIGN TABLE snaps_%s (%s) SERVER s_%s OPTIONS (resource 'cluster_snapshots');\n"
                % (name, opts, name, user, password, name, COLUMNS, name))
    psql(sql)
    return info


# --- scenarios -----------------------------------------------------------------

def scenario1(mc, dflt, refs):
    """throughput: 1 cluster x 200,000 snapshots, no added latency"""
    n = "1 throughput"
    f = URL["fast"]
    ms = [CMethod(n, "C client, sequential, 1 keep-alive handle", f, T1, ["-m", "seq", "-u", CRED]),
          CMethod(n, "C client, multi, 8 in flight", f, T1, ["-m", "multi", "-n", "8", "-u", CRED]),
          CMethod(n, "C raw transfers, sequential (floor)", f, T1, ["-m", "seq", "-r", "-u", CRED], raw=True),
          CMethod(n, "C raw transfers, multi 8 (floor)", f, T1,
                  ["-m", "multi", "-n", "8", "-r", "-u", CRED], raw=True),
          fdw(n, dflt, "snaps_fast", T1)]
    if mc:
        ms.append(fdw(n, "FDW, max_concurrency 1", "snaps_fast_c1", T1))
    ms += [plpy_lateral(n, "PL/Python urllib, sequential pages", f, T1),
           copy_program(n, "COPY FROM PROGRAM curl, sequential + jsonb", f, T1, 1),
           copy_program(n, "COPY FROM PROGRAM curl --parallel 8 + jsonb", f, T1, 8)]
    run_round_robin("scenario 1: 1 cluster x %s snapshots, no added latency" % format(expected(T1)[0], ","), ms)
    refs[n] = (ms[0], ms[-3])


def scenario2(mc, dflt, refs):
    """latency hiding: 20 clusters x 2,500 snapshots, DELAY_MS a request"""
    n = "2 latency"
    s = URL["slow"]
    ms = [CMethod(n, "C raw transfers, multi 32 (floor)", s, T2,
                  ["-m", "multi", "-n", "32", "-r", "-u", CRED], raw=True),
          CMethod(n, "C raw transfers, multi 64 (floor)", s, T2,
                  ["-m", "multi", "-n", "64", "-r", "-u", CRED], raw=True),
          CMethod(n, "C client, sequential", s, T2, ["-m", "seq", "-u", CRED]),
          CMethod(n, "C client, multi, 8 in flight", s, T2, ["-m", "multi", "-n", "8", "-u", CRED])]
    c32 = CMethod(n, "C client, multi, 32 in flight", s, T2, ["-m", "multi", "-n", "32", "-u", CRED])
    ms.append(c32)
    if mc:
        ms.append(fdw(n, "FDW, max_concurrency 1", "snaps_slow_c1", T2))
    ms.append(fdw(n, dflt, "snaps_slow", T2))
    if mc:
        ms.append(fdw(n, "FDW, max_concurrency 32", "snaps_slow_c32", T2))
        ms.append(fdw(n, "FDW, max_concurrency 64", "snaps_slow_c64", T2))
    pool = plpy_pool(n, "PL/Python urllib, 20-thread pool in one call", s, T2, 20)
    ms += [plpy_lateral(n, "PL/Python urllib, LATERAL per cluster", s, T2), pool,
           copy_program(n, "COPY FROM PROGRAM curl, sequential + jsonb", s, T2, 1),
           copy_program(n, "COPY FROM PROGRAM curl --parallel 32 + jsonb", s, T2, 32)]
    run_round_robin("scenario 2: 20 clusters x 2,500 snapshots, %d ms a request" % DELAY_MS, ms)
    refs[n] = (c32, pool)


def scenario_digest(mc, dflt, refs):
    """1d/2d: scenarios 1 and 2 against servers that challenge like Atlas"""
    ms = []
    if "1d" in ONLY:
        n, f = "1d digest", URL["fastdig"]
        c = CMethod(n, "C client, sequential, 1 keep-alive handle", f, T1, ["-m", "seq", "-u", CRED])
        ms += [c, CMethod(n, "C client, multi, 8 in flight", f, T1, ["-m", "multi", "-n", "8", "-u", CRED]),
               fdw(n, dflt, "snaps_fastdig", T1)]
        refs[n] = (c, None)
    if "2d" in ONLY:
        n, s = "2d digest", URL["slowdig"]
        c = CMethod(n, "C client, multi, 32 in flight", s, T2, ["-m", "multi", "-n", "32", "-u", CRED])
        ms += [c, fdw(n, dflt, "snaps_slowdig", T2)]
        if mc:
            ms.append(fdw(n, "FDW, max_concurrency 32", "snaps_slowdig_c32", T2))
        refs[n] = (c, None)
    run_round_robin("scenarios 1d/2d: HTTP Digest challenge emulated (401 until an Authorization header)", ms)


def scenario3(mc, dflt):
    """memory: backend peak RSS for 10,000 vs 1,000,000 snapshots"""
    n = "3 memory"
    labels = [("snaps_fast", dflt)] + ([("snaps_fast_c1", "FDW, max_concurrency 1")] if mc else [])
    ms = []
    for table, label in labels:
        for size, cl in [(10000, "mem-10k"), (1000000, "mem-1m")]:
            ms.append(fdw(n, "%s, %s snapshots" % (label, format(size, ",")), table, [(G1, cl)]))
    for size, cl in [(10000, "mem-10k"), (1000000, "mem-1m")]:
        ms.append(CMethod(n, "C client, sequential, %s snapshots" % format(size, ","), URL["fast"],
                          [(G1, cl)], ["-m", "seq", "-u", CRED]))
    return run_round_robin("scenario 3: backend VmHWM, 10,000 vs 1,000,000 snapshots", ms)


# --- table -------------------------------------------------------------------

def fmt_ratio(t, ref):
    if t is None or ref is None or ref.median is None or ref.error:
        return "-"
    return "%.2fx" % (t / ref.median)


def print_table(refs, info, mem_rows):
    fmt = "%-12s | %-46s | %8s | %8s | %7s | %6s | %8s | %7s | %4s | %6s | %s"
    print()
    print(fmt % ("scenario", "method", "median s", "rows/s", "CPU s", "vs C", "vs PL/Py", "req/run", "401s",
                 "spread", "count/sum"))
    print("-" * 150)
    for r in ALL:
        if r in mem_rows:
            continue
        cref, pref = refs.get(r.scen, (None, None))
        med = r.median
        cpu = r.med(r.cpus)
        print(fmt % (r.scen, r.name, "%.3f" % med if med else "-",
                     "%.0f" % (r.want[0] / med) if med else "-",
                     "%.2f" % cpu if cpu is not None else "-",
                     fmt_ratio(med, cref), fmt_ratio(med, pref),
                     "%.0f" % ((r.reqs[0] + r.reqs[1]) / REPS), "%d" % r.reqs[1],
                     ("%.0f%%" % (100.0 * (max(r.times) - min(r.times)) / med)) if med else "-",
                     r.check_text()))
    if mem_rows:
        print()
        fmt3 = "%-12s | %-46s | %8s | %8s | %7s | %13s | %12s | %9s | %s"
        print(fmt3 % ("scenario", "method", "median s", "rows/s", "CPU s", "HWM before kB", "HWM after kB",
                      "growth kB", "count/sum"))
        print("-" * 150)
        for r in mem_rows:
            med = r.median
            cpu = r.med(r.cpus)
            if r.hwm1:
                before, after = r.med(r.hwm0), r.med(r.hwm1)
                cols = ("%d" % before, "%d" % after, "%+d" % (after - before))
            elif r.maxrss:
                cols = ("-", "%d" % r.med(r.maxrss), "(maxrss)")
            else:
                cols = ("-", "-", "-")
            print(fmt3 % ((r.scen, r.name, "%.3f" % med if med else "-",
                           "%.0f" % (r.want[0] / med) if med else "-",
                           "%.2f" % cpu if cpu is not None else "-") + cols + (r.check_text(),)))
    print()
    print("Median of %d repetitions, run round-robin across the methods of a scenario; spread = (max - min) / median;"
          % REPS)
    print("rows/s = expected rows / median.  CPU s = median CPU time (user + system) of the C client process, or of")
    print("the PostgreSQL backend during the timed statements (PL/Python threads and reaped COPY programs included);")
    print("nginx's CPU is not counted for anyone.")
    print("vs C / vs PL/Py = method's median / reference median (above 1 = slower than the reference):")
    for scen, (c, p) in refs.items():
        print("  %-12s C: %s; PL/Py: %s" % (scen, c.name if c else "-", p.name if p else "-"))
    print("req/run = HTTP requests nginx answered per repetition (401 challenges included); 401s = 401 answers over")
    print("all %d repetitions (warm-ups excluded)." % REPS)
    print("PostgreSQL methods: a fresh psql session per repetition, an untimed warm-up query on a 10-snapshot cluster,")
    print("then the statements, timed with clock_timestamp(); C client: in-process wall time of a fresh process.")
    if info["max_concurrency"]:
        print("max_concurrency: the installed FDW accepts the server option (default 32 per its README); rows name "
              "the value used.")
    else:
        print("max_concurrency: NOT supported by the installed FDW (%s); FDW rows use its fixed behaviour."
              % info.get("max_concurrency_error"))
    print("The FDW's user mappings hold Digest credentials (public_key/private_key) throughout; the servers of "
          "scenarios 1, 2, 3")
    print("never ask for them and answer 200 at once (libcurl accepts that).")
    bad = [r for r in ALL if not r.ok]
    if bad:
        print("FAILED or MISMATCHED: " + "; ".join("%s / %s" % (r.scen, r.name) for r in bad))
        for r in bad:
            if r.error:
                print("  %s / %s: %s" % (r.scen, r.name, r.error.replace("\n", " | ")[:600]))


def main():
    t_start = time.time()
    info = setup()
    mc = info["max_concurrency"]
    print("== extension %s, %s, jit=%s, max_concurrency option: %s" % (
        info["extversion"], info["pg"].split(" on ")[0], info["jit"],
        "supported" if mc else "NOT supported (%s)" % info.get("max_concurrency_error")), file=sys.stderr)
    dflt = "FDW, default max_concurrency (32)" if mc else "FDW"
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
    return 0 if all(r.ok for r in ALL) else 1


if __name__ == "__main__":
    sys.exit(main())
