#!/usr/bin/python3
"""http_sink.py: a local webhook receiver for the notify tests.

Usage: http_sink.py PORT OUT_FILE SECRET

Every POST is recorded as one JSON line in OUT_FILE: path, delivery id,
timestamp, whether the HMAC-SHA256 signature over "<timestamp>.<body>"
with SECRET is right, the parsed body, and the status answered.
Paths: /ok answers 200; /fail/N answers 500 to the first N requests of
each delivery id, then 200; /gone answers 410; /slow/MS answers 200
after MS milliseconds (recorded when it answers). Requests are served
each in its own thread. Standard library only.
"""
import hashlib
import hmac
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, OUT, SECRET = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
seen = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        delivery = self.headers.get("X-Medrep-Delivery", "")
        ts = self.headers.get("X-Medrep-Timestamp", "")
        sig = self.headers.get("X-Medrep-Signature", "")
        want = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
        key = (self.path, delivery)
        with lock:
            seen[key] = seen.get(key, 0) + 1
            count = seen[key]
        status = 200
        if self.path == "/gone":
            status = 410
        elif self.path.startswith("/fail/") and count <= int(self.path.split("/")[2]):
            status = 500
        elif self.path.startswith("/slow/"):
            time.sleep(int(self.path.split("/")[2]) / 1000.0)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        record = {"path": self.path, "delivery": delivery, "timestamp": ts,
                  "sig_ok": hmac.compare_digest(sig, want), "body": body, "status": status}
        with lock, open(OUT, "a") as f:
            f.write(json.dumps(record) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
