#!/usr/bin/env python3
"""Serve the benchmark's pages with a fixed delay per request (stdlib only).

Same URL scheme as the nginx configuration of run.sh: GET
/api/atlas/v2/groups/<g>/clusters/<c>/backup/snapshots?pageNum=N answers
ROOT/<g>/<c>/<N>.json, or ROOT/empty.json.  Threaded, HTTP/1.1 keep-alive.
Usage: delay_server.py ROOT PORT DELAY_MS
"""
import http.server
import os
import re
import sys
import time
import urllib.parse

ROOT, PORT, DELAY = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1000.0
PATH = re.compile(r"^/api/atlas/v2/groups/([0-9a-f]+)/clusters/([A-Za-z0-9-]+)/backup/snapshots$")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        m = PATH.match(url.path)
        page = urllib.parse.parse_qs(url.query).get("pageNum", ["1"])[0]
        name = os.path.join(ROOT, m.group(1), m.group(2), page + ".json") if m else None
        if not name or not os.path.exists(name):
            name = os.path.join(ROOT, "empty.json")
        with open(name, "rb") as f:
            body = f.read()
        time.sleep(DELAY)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128     # listen() backlog: concurrent clients connect at once


Server(("127.0.0.1", PORT), Handler).serve_forever()
