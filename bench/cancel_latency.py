#!/usr/bin/env python3
"""
cancel_latency.py: how long a stalled Atlas transfer takes to give way to
a query cancel.  Not a test: it prints numbers (median of the runs).

    python3 bench/cancel_latency.py [cancel|timeout] [RUNS]

Needs a running cluster with atlas_snapshot_fdw installed (PG* environment)
and the mock (ATLAS_MOCK_URL, the mock's credentials; scripts/common.sh's
start_mock).  Each run stalls the snapshot list of one cluster (the mock's
stall fault), starts a count(*) on it in a "victim" psql, and then:

  cancel:  waits until the victim's backend shows the Extension wait event,
           then sends pg_cancel_backend from a second, already connected
           psql; the time is from just before sending that query to the
           moment the victim's psql prints the error;
  timeout: the victim runs with statement_timeout = TIMEOUT_MS; the time is
           from sending the query to the error, less TIMEOUT_MS (so it also
           counts planning and the start of the transfer).

Both clients are persistent psql processes (no connection set-up inside a
measured interval); psql prints errors on unbuffered stderr.
"""

import os
import select
import statistics
import subprocess
import sys
import time

TIMEOUT_MS = 300
STALL_SECONDS = 5
HERE = os.path.dirname(os.path.abspath(__file__))
MOCKCTL = os.path.join(HERE, "..", "test", "mockctl.py")
QUERY = ("SELECT count(*) FROM bench_cancel_snaps "
         "WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n7';\n")


def mockctl(*args):
    subprocess.run([sys.executable, MOCKCTL] + list(args), check=True)


def psql_once(sql):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                   check=True, stdout=subprocess.DEVNULL)


def start_psql(appname):
    env = dict(os.environ, PGAPPNAME=appname)
    return subprocess.Popen(["psql", "-X", "-q", "-A", "-t"], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, bufsize=0)


def read_line(stream, deadline):
    """One line from a pipe, or None at the deadline."""
    buf = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([stream], [], [], 0.05)
        if r:
            c = os.read(stream.fileno(), 1)
            if not c:
                return None
            if c == b"\n":
                return buf.decode()
            buf += c
    return None


def query_value(p, sql):
    p.stdin.write(sql.encode())
    return read_line(p.stdout, time.monotonic() + 10)


def setup():
    url = os.environ["ATLAS_MOCK_URL"]
    psql_once("CREATE EXTENSION IF NOT EXISTS atlas_snapshot_fdw")
    psql_once("DROP SERVER IF EXISTS bench_cancel_srv CASCADE")
    psql_once("CREATE SERVER bench_cancel_srv FOREIGN DATA WRAPPER atlas_snapshot_fdw "
              "OPTIONS (base_url '%s', timeout_ms '60000')" % url)
    psql_once("CREATE USER MAPPING FOR CURRENT_USER SERVER bench_cancel_srv "
              "OPTIONS (public_key '%s', private_key '%s')"
              % (os.environ["ATLAS_MOCK_PUBLIC_KEY"],
                 os.environ["ATLAS_MOCK_PRIVATE_KEY"]))
    psql_once("CREATE FOREIGN TABLE bench_cancel_snaps (group_id text, "
              "cluster_name text, id text) SERVER bench_cancel_srv "
              "OPTIONS (resource 'cluster_snapshots')")


def drain(stream):
    """Drop what a pipe holds now (the CONTEXT lines of the last error)."""
    while select.select([stream], [], [], 0.05)[0]:
        if not os.read(stream.fileno(), 4096):
            return


def one_run(mode, victim, ctl, victim_pid):
    drain(victim.stderr)
    mockctl("reset")
    mockctl("fault", '{"match": "clusters/n7/", "kind": "stall", "seconds": %d}'
            % STALL_SECONDS)
    t_send = time.monotonic()
    victim.stdin.write(QUERY.encode())
    if mode == "cancel":
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            v = query_value(ctl, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s "
                            "AND wait_event_type = 'Extension';\n" % victim_pid)
            if v == "1":
                break
            time.sleep(0.01)
        else:
            raise RuntimeError("the victim never waited on Atlas")
        t0 = time.monotonic()
        ctl.stdin.write(("SELECT pg_cancel_backend(%s);\n" % victim_pid).encode())
    else:
        t0 = t_send + TIMEOUT_MS / 1000.0
    line = read_line(victim.stderr, time.monotonic() + 2 * STALL_SECONDS)
    t1 = time.monotonic()
    if line is None or "ERROR" not in line:
        raise RuntimeError("no error from the victim: %r" % line)
    if mode == "cancel":
        read_line(ctl.stdout, time.monotonic() + 10)	# the "t" of the cancel
    # let the stalled answer go before the next run
    mockctl("reset")
    return (t1 - t0) * 1000.0


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "cancel"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    setup()
    victim = start_psql("bench_cancel_victim")
    ctl = start_psql("bench_cancel_ctl")
    victim_pid = query_value(victim, "SELECT pg_backend_pid();\n")
    if mode == "timeout":
        victim.stdin.write(("SET statement_timeout = '%dms';\n" % TIMEOUT_MS).encode())
    # one warm-up query: the connection and the extension are loaded
    victim.stdin.write(b"SELECT count(*) FROM bench_cancel_snaps "
                       b"WHERE group_id = '32b6e34b3d91647abb20e7b8' AND cluster_name = 'n1';\n")
    read_line(victim.stdout, time.monotonic() + 10)
    times = [one_run(mode, victim, ctl, victim_pid) for _ in range(runs)]
    victim.stdin.close()
    ctl.stdin.close()
    victim.wait()
    ctl.wait()
    psql_once("DROP SERVER bench_cancel_srv CASCADE")
    print("%s: median %.2f ms, min %.2f, max %.2f (%d runs): %s"
          % (mode, statistics.median(times), min(times), max(times), runs,
             " ".join("%.2f" % t for t in times)))


if __name__ == "__main__":
    main()
