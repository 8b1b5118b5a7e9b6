#!/usr/bin/env python3
"""A tiny HTTP proxy for the tests (Python 3 standard library only).

It tunnels CONNECT requests (what a client does for an https:// target)
and forwards absolute-form requests ("GET http://host:port/path HTTP/1.1",
what a client does for an http:// target), one request per connection.
Every request it receives is appended to the log file as one line:
"CONNECT host:port" or "METHOD url".  It prints "proxy listening on
http://127.0.0.1:PORT" once it listens.

    python3 test/proxy.py --port 0 --log /tmp/proxy.log
"""

import argparse
import select
import socket
import socketserver
import sys
import threading
import urllib.parse

LOG_LOCK = threading.Lock()


def read_head(sock):
    """Read up to the end of the request head; return (head, rest)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
        if len(data) > 1 << 20:
            return None, b""
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def pipe(a, b):
    """Copy bytes both ways until either side closes."""
    socks = [a, b]
    while True:
        ready, _, _ = select.select(socks, [], [], 60)
        if not ready:
            return
        for s in ready:
            data = s.recv(65536)
            if not data:
                return
            (b if s is a else a).sendall(data)


class Handler(socketserver.BaseRequestHandler):
    def log(self, line):
        with LOG_LOCK:
            with open(self.server.log_path, "a") as f:
                f.write(line + "\n")

    def handle(self):
        client = self.request
        head, rest = read_head(client)
        if head is None:
            return
        lines = head.split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            return
        headers = lines[1:]
        if method == "CONNECT":
            self.log("CONNECT " + target)
            host, _, port = target.rpartition(":")
            try:
                upstream = socket.create_connection((host.strip("[]"), int(port)))
            except OSError:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            pipe(client, upstream)
            upstream.close()
            return

        self.log(method + " " + target)
        url = urllib.parse.urlsplit(target)
        if url.scheme != "http" or not url.hostname:
            client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        length = 0
        kept = []
        for h in headers:
            name = h.split(":", 1)[0].strip().lower()
            if name == "content-length":
                length = int(h.split(":", 1)[1])
            if name in ("proxy-connection", "connection", "keep-alive"):
                continue
            kept.append(h)
        body = rest
        while len(body) < length:
            chunk = client.recv(65536)
            if not chunk:
                break
            body += chunk
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        request = "%s %s %s\r\n%s\r\nConnection: close\r\n\r\n" % (
            method, path, version, "\r\n".join(kept))
        try:
            upstream = socket.create_connection((url.hostname, url.port or 80))
        except OSError:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        upstream.sendall(request.encode("latin-1") + body)
        # the answer, as it comes, until the upstream closes
        while True:
            data = upstream.recv(65536)
            if not data:
                break
            client.sendall(data)
        upstream.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", required=True, help="file to append requests to")
    args = p.parse_args()
    server = Server((args.host, args.port), Handler)
    server.log_path = args.log
    print("proxy listening on http://%s:%d" % server.server_address[:2], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
