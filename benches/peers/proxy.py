#!/usr/bin/env python3
"""A counting reverse proxy with latency, for benches/peers/run.sh.

Listens on 127.0.0.1:LISTEN, waits LATENCY_MS before forwarding each request
to 127.0.0.1:UPSTREAM (the appform sandbox), and appends one line
`METHOD PATH` per request to LOG, so both tools are measured through the same
door: same latency per request, requests counted the same way.

Usage: proxy.py LISTEN UPSTREAM LATENCY_MS LOG
"""
import http.client
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LISTEN, UPSTREAM, LATENCY_MS, LOG = (
    int(sys.argv[1]),
    int(sys.argv[2]),
    float(sys.argv[3]),
    sys.argv[4],
)
LOCK = threading.Lock()
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade",
              "proxy-authorization", "proxy-authenticate", "trailer"}


class Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def handle_any(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        with LOCK, open(LOG, "a") as log:
            log.write(f"{self.command} {self.path}\n")
        time.sleep(LATENCY_MS / 1000.0)
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Host"] = f"127.0.0.1:{UPSTREAM}"
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status, answer.reason)
        for k, v in answer.getheaders():
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = handle_any


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", LISTEN), Forward).serve_forever()
