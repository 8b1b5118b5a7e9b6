#!/usr/bin/env python3
"""
Tiny client for the mock Atlas server's control endpoints (/_mock/...).

The server's base URL comes from $ATLAS_MOCK_URL (default
http://127.0.0.1:18443).

    python3 test/mockctl.py reset                    clear log, faults, stats
    python3 test/mockctl.py log [--authorized] [--grep REGEX]
    python3 test/mockctl.py fault '{"match": "n1234", "kind": "status", "status": 503}'
    python3 test/mockctl.py faults                   list pending faults
    python3 test/mockctl.py revoke-tokens
    python3 test/mockctl.py token-limit N            at most N active OAuth
        tokens (403 access_denied over it, as Atlas's limit); "off": none
    python3 test/mockctl.py issued-tokens        # every OAuth token issued
    python3 test/mockctl.py stats [--key NAME]       all counters, or one
    python3 test/mockctl.py quiet --after REGEX --ms N
        whether no request arrived within N ms after the answer of the
        first log line matching REGEX (prints a verdict, for a 429's
        hold-back: a lower bound on time, never an upper one)
    python3 test/mockctl.py in-flight [--grep REGEX]
        the most requests (log lines matching REGEX) the mock had in hand
        at once: by the order of arrivals and answers in the log, a lower
        bound of what the client had in flight (a request counts from its
        arrival to its answer, to the millisecond; the next request of a
        client that waits for an answer never overlaps it)
    python3 test/mockctl.py wait [--timeout 10]      exit 1 if not up in time
    python3 test/mockctl.py variant '{"untyped": true}'
        serve the fleet with a variant (fleet.add_variant) until the next
        reset
    python3 test/mockctl.py overlap --first REGEX --others REGEX
        how many requests matching --others arrived while the first
        request matching --first was in flight (after it arrived, before
        its answer was sent): concurrency read from the log, in order

reset, fault, revoke-tokens and token-limit print nothing on success.  Any failure
prints a message to stderr and exits with status 1.
"""

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request


def base_url():
    return os.environ.get("ATLAS_MOCK_URL", "http://127.0.0.1:18443").rstrip("/")


def call(method, path, body=None, timeout=10):
    """Send one control request; return the body as text (raises on error)."""
    data = body.encode("utf-8") if body is not None else None
    req = urllib.request.Request(base_url() + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.read().decode("utf-8")


def timed_entries(text):
    """The lines of the mock's log with times (/_mock/log?times=1) as
    (arrived, answered, rest) tuples, times in milliseconds."""
    entries = []
    for line in text.splitlines():
        arrived, answered, rest = line.split(" ", 2)
        entries.append((int(arrived), int(answered), rest))
    return entries


def first_match(entries, pattern):
    """The first entry whose request matches pattern, or None (then says
    so)."""
    start = next((e for e in entries if pattern.search(e[2])), None)
    if start is None:
        print("no request matches %s" % pattern.pattern)
    return start


def quiet_after(text, pattern, ms):
    """Print whether any request arrived in the ms after the answer of the
    first line matching pattern; exit status 1 if one did or none matched."""
    entries = timed_entries(text)
    start = first_match(entries, pattern)
    if start is None:
        return 1
    early = [e[2] for e in entries
             if start[1] < e[0] < start[1] + ms]
    if not early:
        print("no request arrived within %d ms after: %s" % (ms, start[2]))
        return 0
    print("requests arrived within %d ms after: %s" % (ms, start[2]))
    for rest in early:
        print("  " + rest)
    return 1


def overlap(text, first, others):
    """Print how many requests matching ``others`` (not the first one
    itself) arrived while the first matching ``first`` was in flight."""
    entries = timed_entries(text)
    start = first_match(entries, first)
    if start is None:
        return 1
    during = [e for e in entries if e is not start and others.search(e[2])
              and start[0] <= e[0] < start[1]]
    print("%d requests arrived while the first was in flight" % len(during))
    return 0


def most_in_flight(text, pattern):
    """The most requests among the log lines (with times) matching pattern
    that had arrived and were not answered yet at the arrival of one of
    them, that one included."""
    spans = [(arrived, answered)
             for arrived, answered, rest in timed_entries(text)
             if pattern is None or pattern.search(rest)]
    most = 0
    for i, (a, _) in enumerate(spans):
        n = 1 + sum(1 for j, (oa, ob) in enumerate(spans)
                    if j != i and oa <= a < ob)
        most = max(most, n)
    return most


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("reset")
    log = sub.add_parser("log")
    log.add_argument("--authorized", action="store_true",
                     help="only lines whose status is not 401")
    log.add_argument("--grep", metavar="REGEX", help="only matching lines")
    log.add_argument("--times", action="store_true",
                     help="prefix arrival and answer times (ms)")
    fault = sub.add_parser("fault")
    fault.add_argument("json", help="fault definition as a JSON object")
    sub.add_parser("faults")
    sub.add_parser("revoke-tokens")
    sub.add_parser("issued-tokens")
    tl = sub.add_parser("token-limit")
    tl.add_argument("limit", help="active tokens allowed, or off")
    stats = sub.add_parser("stats")
    stats.add_argument("--key", help="print only this counter")
    quiet = sub.add_parser("quiet")
    quiet.add_argument("--after", required=True, metavar="REGEX")
    quiet.add_argument("--ms", required=True, type=int)
    variant = sub.add_parser("variant")
    variant.add_argument("json", help="variant as a JSON object")
    ov = sub.add_parser("overlap")
    ov.add_argument("--first", required=True, metavar="REGEX")
    ov.add_argument("--others", required=True, metavar="REGEX")
    inflight = sub.add_parser("in-flight")
    inflight.add_argument("--grep", metavar="REGEX", help="only matching lines")
    wait = sub.add_parser("wait")
    wait.add_argument("--timeout", type=float, default=10.0)
    args = p.parse_args(argv)

    try:
        if args.cmd == "reset":
            call("POST", "/_mock/reset", "")
        elif args.cmd == "log":
            params = [p for p, on in (("authorized=1", args.authorized),
                                      ("times=1", args.times)) if on]
            text = call("GET", "/_mock/log" + ("?" + "&".join(params)
                                               if params else ""))
            pattern = re.compile(args.grep) if args.grep else None
            for line in text.splitlines():
                if pattern is None or pattern.search(line):
                    print(line)
        elif args.cmd == "fault":
            try:
                json.loads(args.json)
            except json.JSONDecodeError as exc:
                print("mockctl: fault is not valid JSON: %s" % exc,
                      file=sys.stderr)
                return 1
            call("POST", "/_mock/fault", args.json)
        elif args.cmd == "faults":
            print(call("GET", "/_mock/faults").strip())
        elif args.cmd == "revoke-tokens":
            call("POST", "/_mock/revoke-tokens", "")
        elif args.cmd == "token-limit":
            limit = None if args.limit == "off" else int(args.limit)
            call("POST", "/_mock/token-limit", json.dumps({"limit": limit}))
        elif args.cmd == "issued-tokens":
            sys.stdout.write(call("GET", "/_mock/issued-tokens"))
        elif args.cmd == "stats":
            text = call("GET", "/_mock/stats").strip()
            if args.key:
                print("%s: %s" % (args.key, json.loads(text).get(args.key, 0)))
            else:
                print(text)
        elif args.cmd == "quiet":
            return quiet_after(call("GET", "/_mock/log?times=1"),
                               re.compile(args.after), args.ms)
        elif args.cmd == "variant":
            call("POST", "/_mock/variant", args.json)
        elif args.cmd == "overlap":
            return overlap(call("GET", "/_mock/log?times=1"),
                           re.compile(args.first), re.compile(args.others))
        elif args.cmd == "in-flight":
            print(most_in_flight(call("GET", "/_mock/log?authorized=1&times=1"),
                                 re.compile(args.grep) if args.grep else None))
        elif args.cmd == "wait":
            deadline = time.monotonic() + args.timeout
            while True:
                try:
                    call("GET", "/_mock/stats", timeout=1)
                    return 0
                except (urllib.error.URLError, OSError):
                    if time.monotonic() >= deadline:
                        print("mockctl: no mock at %s after %.0f s"
                              % (base_url(), args.timeout), file=sys.stderr)
                        return 1
                    time.sleep(0.1)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace").strip()
        print("mockctl: %s %s: %s" % (exc.code, exc.reason, detail),
              file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print("mockctl: cannot reach %s: %s" % (base_url(), exc),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
