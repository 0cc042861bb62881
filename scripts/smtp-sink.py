#!/usr/bin/python3
"""A local SMTP server that keeps what it receives, for tests and for trying the email jobs of the demo.

Debian's python3-aiosmtpd. Every message accepted is written to DIR/<n>.json with its envelope, raw
data, whether it came over TLS and the login used. Recipients choose their fate by their local part:
  tempfail*  RCPT answered 451 (try again later)      permfail*  RCPT answered 550 (never)
  greylist*  451 on the first try, 250 afterwards     datafail*  the message refused with 554 after DATA

  smtp-sink.py --port 2525 --dir /tmp/mail [--auth user:password [--login-only]] [--tls-cert C --tls-key K [--require-tls]]
"""
import argparse
import asyncio
import json
import os
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.seen = {}
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("tempfail"):
            return "451 4.3.0 Mailbox temporarily unavailable"
        if local.startswith("permfail"):
            return "550 5.1.1 No such user here"
        if local.startswith("greylist"):
            with self.lock:
                self.seen[address] = self.seen.get(address, 0) + 1
                if self.seen[address] == 1:
                    return "451 4.7.1 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(rcpt.split("@")[0].lower().startswith("datafail") for rcpt in envelope.rcpt_tos):
            return "554 5.6.0 Message refused"
        with self.lock:
            self.count += 1
            number = self.count
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.original_content.decode("latin-1"),
            "tls": session.ssl is not None,
            "login": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
        }
        path = os.path.join(self.directory, "%06d.json" % number)
        with open(path + ".partial", "w") as out:
            json.dump(record, out)
        os.rename(path + ".partial", path)
        return "250 2.0.0 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--auth")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--require-tls", action="store_true")
    parser.add_argument("--login-only", action="store_true", help="offer AUTH LOGIN alone, not PLAIN")
    options = parser.parse_args()
    os.makedirs(options.dir, exist_ok=True)

    def authenticator(server, session, envelope, mechanism, auth_data):
        if options.auth and isinstance(auth_data, LoginPassword):
            user, password = options.auth.split(":", 1)
            if auth_data.login.decode() == user and auth_data.password.decode() == password:
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    context = None
    if options.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(options.tls_cert, options.tls_key)
    controller = Controller(
        Sink(options.dir), hostname="127.0.0.1", port=options.port, tls_context=context,
        require_starttls=options.require_tls, authenticator=authenticator if options.auth else None,
        auth_required=bool(options.auth), auth_require_tls=False, ready_timeout=10,
        auth_exclude_mechanism=["PLAIN"] if options.login_only else None,
        server_hostname="localhost")
    controller.start()
    open(os.path.join(options.dir, "ready"), "w").close()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
