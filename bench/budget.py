#!/usr/bin/env python3
"""budget.py: scenario S6, many backends behind one Atlas token bucket.
Not a test: it prints timings.

8 backends at once (BUDGET_BACKENDS), each an organization-wide scan
(SELECT count(*) FROM cluster_snapshots, no key: the projects, their
cluster lists, then every cluster's snapshots) of the wide fleet with
1,000 clusters in one project (mock --fleet wide --wide-clusters 1000),
through one service account (OAuth), behind one token bucket (mock
--token-bucket 100 --refill-per-sec 50, 429 with Retry-After in whole
seconds, RateLimit headers) with 50 ms added to every request.

Each repetition gets a fresh mock and a freshly restarted PostgreSQL
instance (nothing shared is left from the repetition before: no token,
no budget), then starts the 8 psql processes together and reports from
the mock's request log:

  wall s      from the first backend's start to the last one's end
  ideal s     what the bucket allows: (API requests answered with a
              token, i.e. not 429, - capacity) / refill
  x ideal     wall / ideal
  429s        API requests answered 429, and their share of all
  tokens      POST /api/oauth/token requests
  failed      backends whose query failed (the first error is printed)

Medians over BUDGET_REPS (3) repetitions; each repetition is printed too.
Environment: PG* for psql, PGDATA_DIR and PG_BINDIR (the instance's data
directory and server binaries, to restart it) and BUDGET_LABEL (a name
for the table's rows), as budget.sh sets them.
"""
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
MOCK = os.path.join(HERE, "..", "test", "mock_atlas.py")
BACKENDS = int(os.environ.get("BUDGET_BACKENDS", "8"))
REPS = int(os.environ.get("BUDGET_REPS", "3"))
CLUSTERS = int(os.environ.get("BUDGET_CLUSTERS", "1000"))
CAPACITY = 100
REFILL = 50
LATENCY_MS = 50
LABEL = os.environ.get("BUDGET_LABEL", "")
DATA = os.environ["PGDATA_DIR"]
BINDIR = os.environ["PG_BINDIR"]


def start_mock():
    p = subprocess.Popen([sys.executable, MOCK, "--fleet", "wide", "--host", "127.0.0.1",
                          "--port", "0", "--latency-ms", str(LATENCY_MS),
                          "--wide-clusters", str(CLUSTERS),
                          "--token-bucket", str(CAPACITY),
                          "--refill-per-sec", str(REFILL),
                          "--client-id", os.environ["ATLAS_MOCK_CLIENT_ID"],
                          "--client-secret", os.environ["ATLAS_MOCK_CLIENT_SECRET"]],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    m = re.search(r"listening on (\S+)", line)
    if not m:
        p.kill()
        raise SystemExit("the mock did not start: %r" % line)
    return p, m.group(1)


def psql(script):
    p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"],
                       input=script, text=True, capture_output=True)
    if p.returncode != 0:
        raise SystemExit("psql: " + (p.stderr or p.stdout))
    return p.stdout


def restart():
    cmd = [BINDIR + "/pg_ctl", "-D", DATA, "-m", "fast", "-w", "-s", "restart"]
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def one_run():
    mock, url = start_mock()
    try:
        psql("""
\\getenv client_id ATLAS_MOCK_CLIENT_ID
\\getenv client_secret ATLAS_MOCK_CLIENT_SECRET
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS atlas_snapshot_fdw;
DROP SERVER IF EXISTS budget_bench CASCADE;
CREATE SERVER budget_bench FOREIGN DATA WRAPPER atlas_snapshot_fdw OPTIONS (base_url '%s');
CREATE USER MAPPING FOR PUBLIC SERVER budget_bench
  OPTIONS (client_id :'client_id', client_secret :'client_secret');
CREATE FOREIGN TABLE budget_s (group_id text, cluster_name text, id text)
  SERVER budget_bench OPTIONS (resource 'cluster_snapshots');
""" % url)
        restart()
        urllib.request.urlopen(urllib.request.Request(url + "/_mock/reset", data=b"",
                                                      method="POST"), timeout=30).read()
        time.sleep(CAPACITY / REFILL + 0.5)     # a full bucket to start from
        t0 = time.monotonic()
        procs = [subprocess.Popen(["psql", "-X", "-q", "-At", "-c",
                                   "SELECT count(*) FROM budget_s"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(BACKENDS)]
        outs = [p.communicate() for p in procs]
        wall = time.monotonic() - t0
        failed = [err.strip() for p, (out, err) in zip(procs, outs) if p.returncode != 0]
        counts = set(out.strip() for p, (out, err) in zip(procs, outs) if p.returncode == 0)
        if len(counts) > 1:
            failed.append("different counts: %s" % ", ".join(sorted(counts)))
        log = [l for l in urllib.request.urlopen(url + "/_mock/log", timeout=30)
               .read().decode().splitlines() if l]
        api = [l for l in log if " /api/atlas/" in l and not l.startswith("401 ")]
        n429 = sum(1 for l in api if l.startswith("429 "))
        tokens = sum(1 for l in log if "/api/oauth/token" in l)
        return {"wall": wall, "requests": len(api), "n429": n429, "tokens": tokens,
                "failed": failed}
    finally:
        mock.terminate()
        mock.wait()


def main():
    runs = []
    for i in range(REPS):
        r = one_run()
        runs.append(r)
        print("%s rep %d: wall %.1f s, %d API requests, %d 429s (%.1f%%), %d token requests, "
              "%d of %d failed%s" % (LABEL, i + 1, r["wall"], r["requests"], r["n429"],
                                     100.0 * r["n429"] / max(1, r["requests"]), r["tokens"],
                                     len(r["failed"]), BACKENDS,
                                     (": " + r["failed"][0][:200]) if r["failed"] else ""),
              file=sys.stderr, flush=True)
    med = lambda k: statistics.median(r[k] for r in runs)  # noqa: E731
    ideal = (statistics.median(r["requests"] - r["n429"] for r in runs) - CAPACITY) / REFILL
    shares = [100.0 * r["n429"] / max(1, r["requests"]) for r in runs]
    print("| %s | %.1f | %.1f | %.2fx | %d | %d (%.1f%%) | %s | %s |" % (
        LABEL, med("wall"), ideal, med("wall") / ideal, med("requests"), med("n429"),
        statistics.median(shares), "/".join(str(r["tokens"]) for r in runs),
        "/".join(str(len(r["failed"])) for r in runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
