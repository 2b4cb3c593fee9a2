#!/usr/bin/python3
"""Tiny HTTP realservers: one listener per NAME on 127.0.0.1 (any free port), each
answering every request with its own name. Prints "READY <port> <port>..." in order."""
import http.server
import sys
import threading


def serve(name):
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = name.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


ports = [serve(n) for n in sys.argv[1:]]
print("READY " + " ".join(str(p) for p in ports), flush=True)
threading.Event().wait()
