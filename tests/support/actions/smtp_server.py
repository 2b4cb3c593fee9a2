#!/usr/bin/python3
"""A real SMTP server for monrs's mail tests, built on Debian's aiosmtpd.

Listens on 127.0.0.1 (port 0 = any free port) and prints "READY <port>" once it accepts
connections. Every accepted message is written to OUTDIR/NNNN.eml (the DATA exactly as
received, CRLF line ends) with OUTDIR/NNNN.json (envelope, AUTH login, TLS). Options
inject the failures a mail sender must survive: --tempfail N answers the first N DATA
commands with 451, --reject answers every DATA with 550.
"""
import argparse
import asyncio
import json
import logging
import os
import socket
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--mode", choices=["plain", "starttls", "smtps"], default="plain")
    ap.add_argument("--auth", help="USER:PASSWORD; AUTH is then required")
    ap.add_argument("--tempfail", type=int, default=0)
    ap.add_argument("--reject", action="store_true")
    a = ap.parse_args()
    # Failed handshakes are part of the tests; keep their tracebacks out of the output.
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    os.makedirs(a.outdir, exist_ok=True)

    state = {"n": 0, "tempfail": a.tempfail, "attempts": 0}

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            state["attempts"] += 1
            with open(os.path.join(a.outdir, "attempts"), "w") as f:
                f.write(str(state["attempts"]))
            if a.reject:
                return "550 5.7.1 rejected by test server"
            if state["tempfail"] > 0:
                state["tempfail"] -= 1
                return "451 4.3.0 try again later"
            state["n"] += 1
            base = os.path.join(a.outdir, "%04d" % state["n"])
            with open(base + ".eml.tmp", "wb") as f:
                f.write(envelope.original_content)
            meta = {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "auth": (session.auth_data.login.decode()
                         if isinstance(session.auth_data, LoginPassword) else None),
                "tls": session.ssl is not None,
                "helo": session.host_name,
            }
            with open(base + ".json", "w") as f:
                json.dump(meta, f)
            os.rename(base + ".eml.tmp", base + ".eml")
            return "250 2.0.0 OK queued as %04d" % state["n"]

    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword) or not a.auth:
            return AuthResult(success=False, handled=False)
        user, pw = a.auth.split(":", 1)
        ok = auth_data.login.decode() == user and auth_data.password.decode() == pw
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    ctx = None
    if a.mode != "plain":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return SMTP(
            Handler(),
            hostname="smtp.test",
            tls_context=ctx if a.mode == "starttls" else None,
            require_starttls=a.mode == "starttls",
            authenticator=authenticator if a.auth else None,
            auth_required=bool(a.auth),
            auth_require_tls=a.mode != "plain",
            loop=loop,
        )

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", a.port))
    server = loop.run_until_complete(
        loop.create_server(factory, sock=sock, ssl=ctx if a.mode == "smtps" else None))
    print("READY %d" % sock.getsockname()[1], flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main())
