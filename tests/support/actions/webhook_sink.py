#!/usr/bin/python3
"""HTTP sink for Alertmanager webhook notifications: binds 127.0.0.1 (port 0 = any),
prints "READY <port>", and appends each POSTed JSON body as one line to OUTFILE."""
import http.server
import json
import sys

OUT = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            line = json.dumps(json.loads(body))
        except ValueError:
            line = json.dumps({"raw": body.decode("utf-8", "replace")})
        with open(OUT, "a") as f:
            f.write(line + "\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[2]) if len(sys.argv) > 2 else 0), Handler)
print("READY %d" % srv.server_address[1], flush=True)
srv.serve_forever()
