#!/usr/bin/python3
"""A scriptable SMTP server for nlsend's delivery tests (Debian's
python3-aiosmtpd on /usr/bin/python3).

Listens on 127.0.0.1 only, prints its port on stdout (one line) once it is
listening, and exits on SIGTERM/SIGINT or after --lifetime seconds.
Everything it sees goes to DIR/log.jsonl (one JSON object a line, flushed
at once) and every accepted message to DIR/msg/NNNNNN.eml (bytes as
received, CRLF, dot-stuffing undone).

Log events ("ev"): connect, ehlo, auth (mech, login, password, ok), mail,
rcpt (with the reply given), rset, noop, quit, message (rcpt, file, tls,
auth, late: the client was gone before the reply), reply (every reply line
the server sent), close.  "sid" numbers the sessions, "tls" says whether
the session was under TLS at that moment.

Scripts (--rule ADDR=ACTION,ACTION,...; repeatable): each transaction
whose recipient is ADDR consumes the next action; with the actions used up
(or no rule) the message is accepted.  ADDR "*" is one script shared by
every transaction, consumed before per-address rules apply.
  ok                  accept
  rcpt:CODE TEXT      reply to RCPT TO          (e.g. rcpt:451 4.7.1 Greylisted)
  mail:CODE TEXT      reply to MAIL FROM        (only for "*": at MAIL FROM
                                                 the recipient is not known)
  data:CODE TEXT      final reply after the message
  drop                close at RCPT TO, no reply
  dropdata            close after the message, no reply, nothing stored
  sleep:SECONDS       wait before the RCPT reply, then accept
  sleepdata:SECONDS   wait before the final reply, then accept (stored)

Session options: --greeting-421 N answers the greeting of the first N
sessions with 421 and closes (a server shutting down); --drop-after N closes a connection silently right after
the 250 of its Nth message (what Yahoo and others do at their cap);
--max-per-session N answers the MAIL FROM of message N+1 with "421 Too
many messages in one session" and closes; --throttle-rate R answers the
RCPT TO of a message beyond R a second (a bucket of R, refilled R a
second) with Amazon SES's "454 4.7.0 Throttling failure: Maximum sending
rate exceeded."

--pipelining (or SMTPD_PIPELINING=1 in the environment, which the test
wrappers *-pipelined.t use to run a whole test file again) lists
PIPELINING in the EHLO reply (RFC 2920), so that nlsend sends its commands
in groups.

TLS: --cert/--key with --starttls (offered; --require-starttls refuses
everything else before it) or --implicit-tls (TLS from the first byte).
AUTH: --auth USER:PASS offers AUTH PLAIN and LOGIN (also without TLS when
--auth-plaintext), --auth-required refuses MAIL before a login.
"""
import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    def __init__(self, d):
        self.dir = d
        os.makedirs(os.path.join(d, "msg"), exist_ok=True)
        self.log = open(os.path.join(d, "log.jsonl"), "a", encoding="utf-8")
        self.nmsg = 0
        self.greeting_421 = 0

    def ev(self, **kw):
        self.log.write(json.dumps(kw, ensure_ascii=False) + "\n")
        self.log.flush()

    def store(self, content):
        self.nmsg += 1
        name = "msg/%06d.eml" % self.nmsg
        tmp = os.path.join(self.dir, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(content)
        os.rename(tmp, os.path.join(self.dir, name))
        return name


class Script:
    def __init__(self, rules):
        self.rules = {}
        for r in rules:
            addr, _, acts = r.partition("=")
            self.rules[addr.strip().lower()] = [a for a in acts.split(",") if a]

    def take(self, addr):
        for key in ("*", addr.lower()):
            if self.rules.get(key):
                return self.rules[key].pop(0)
        return "ok"

    def peek_global(self):
        g = self.rules.get("*")
        return g[0] if g else None


def tls_on(server):
    if server.session is not None and server.session.ssl is not None:
        return True     # after STARTTLS
    t = server.transport
    return t is not None and t.get_extra_info("ssl_object") is not None


class Handler:
    def __init__(self, args, rec, script):
        self.a = args
        self.rec = rec
        self.script = script

    def sid(self, server):
        return getattr(server, "sid", 0)

    async def never(self):
        await asyncio.get_running_loop().create_future()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.rec.ev(ev="ehlo", sid=self.sid(server), host=hostname,
                    tls=tls_on(server))
        if self.a.pipelining:
            # aiosmtpd reads one command line at a time from its stream,
            # so commands that arrive together are answered in order.
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options):
        if getattr(server, "dropping", False):
            await self.never()
        server.n_in_session = getattr(server, "n_in_session", 0)
        server.action = None
        self.rec.ev(ev="mail", sid=self.sid(server), addr=address,
                    tls=tls_on(server), auth=server.login)
        if self.a.max_per_session and server.n_in_session >= self.a.max_per_session:
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 Too many messages in one session"
        g = self.script.peek_global()
        if g and g.startswith("mail:"):
            self.script.take("")
            return g[5:]
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 Ok"

    def throttled(self):
        if not self.a.throttle_rate:
            return False
        now = asyncio.get_running_loop().time()
        r = self.a.throttle_rate
        last = getattr(self, "bucket_at", now)
        self.bucket = min(r, getattr(self, "bucket", r) + (now - last) * r)
        self.bucket_at = now
        if self.bucket < 1:
            return True
        self.bucket -= 1
        return False

    async def handle_RCPT(self, server, session, envelope, address, options):
        act = self.script.take(address)
        reply = "250 2.1.5 Ok"
        if self.throttled():
            reply = "454 4.7.0 Throttling failure: Maximum sending rate exceeded."
        elif act.startswith("rcpt:"):
            reply = act[5:]
        elif act == "drop":
            self.rec.ev(ev="rcpt", sid=self.sid(server), addr=address,
                        reply="(dropped)")
            server.transport.close()
            await self.never()
        elif act.startswith("sleep:"):
            await asyncio.sleep(float(act[6:]))
        else:
            server.action = act
        self.rec.ev(ev="rcpt", sid=self.sid(server), addr=address, reply=reply)
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(options)
        return reply

    async def handle_DATA(self, server, session, envelope):
        act = getattr(server, "action", None) or "ok"
        server.action = None
        if act == "dropdata":
            self.rec.ev(ev="dropdata", sid=self.sid(server),
                        rcpt=envelope.rcpt_tos)
            server.transport.close()
            await self.never()
        if act.startswith("data:"):
            self.rec.ev(ev="refused", sid=self.sid(server),
                        rcpt=envelope.rcpt_tos, reply=act[5:])
            return act[5:]
        if act.startswith("sleepdata:"):
            await asyncio.sleep(float(act[10:]))
        late = server.transport is None or server.transport.is_closing()
        name = self.rec.store(envelope.original_content)
        self.rec.ev(ev="message", sid=self.sid(server),
                    mail_from=envelope.mail_from, rcpt=envelope.rcpt_tos,
                    file=name, tls=tls_on(server), auth=server.login,
                    late=late)
        server.n_in_session = getattr(server, "n_in_session", 0) + 1
        if self.a.drop_after and server.n_in_session >= self.a.drop_after:
            # After the 250 is written: the transport flushes it, then
            # closes, without a word (no 421).  Commands already read
            # (pipelined behind the message) get no answer either, as
            # with a real server that closes.
            server.dropping = True
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 2.0.0 Ok: queued as %06d" % self.rec.nmsg

    async def handle_RSET(self, server, session, envelope):
        self.rec.ev(ev="rset", sid=self.sid(server))
        return "250 2.0.0 Ok"

    async def handle_NOOP(self, server, session, envelope, arg):
        self.rec.ev(ev="noop", sid=self.sid(server))
        return "250 2.0.0 Ok"

    async def handle_QUIT(self, server, session, envelope):
        self.rec.ev(ev="quit", sid=self.sid(server))
        return "221 2.0.0 Bye"


class RecordingSMTP(SMTP):
    counter = 0

    def __init__(self, *a, rec=None, **kw):
        super().__init__(*a, **kw)
        RecordingSMTP.counter += 1
        self.sid = RecordingSMTP.counter
        self.rec = rec
        self.login = None

    def connection_made(self, transport):
        first = self.transport is None     # called again after STARTTLS
        if first and self.sid <= self.rec.greeting_421:
            # A server that is shutting down or overloaded says so in its
            # greeting (RFC 5321 section 3.1) and closes.
            self.rec.ev(ev="connect", sid=self.sid, tls=False, greeting=421)
            transport.write(b"421 4.3.2 Service not available, try again later\r\n")
            transport.close()
            return
        super().connection_made(transport)
        if first:
            self.rec.ev(ev="connect", sid=self.sid,
                        tls=transport.get_extra_info("ssl_object") is not None)

    def connection_lost(self, exc):
        self.rec.ev(ev="close", sid=self.sid)
        super().connection_lost(exc)

    async def push(self, status):
        s = status.decode("utf-8", "replace") if isinstance(status, bytes) else status
        self.rec.ev(ev="reply", sid=self.sid, line=s)
        await super().push(status)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--starttls", action="store_true")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--auth")
    p.add_argument("--auth-required", action="store_true")
    p.add_argument("--auth-plaintext", action="store_true")
    p.add_argument("--rule", action="append", default=[])
    p.add_argument("--drop-after", type=int, default=0)
    p.add_argument("--max-per-session", type=int, default=0)
    p.add_argument("--throttle-rate", type=float, default=0)
    p.add_argument("--greeting-421", type=int, default=0,
                   help="the first N sessions get 421 in the greeting")
    p.add_argument("--pipelining", action="store_true",
                   default=os.environ.get("SMTPD_PIPELINING") == "1")
    p.add_argument("--lifetime", type=float, default=600)
    a = p.parse_args()

    logging.basicConfig(level=logging.CRITICAL)
    rec = Recorder(a.dir)
    rec.greeting_421 = a.greeting_421
    script = Script(a.rule)
    handler = Handler(a, rec, script)
    ctx = None
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)

    user = password = None
    if a.auth:
        user, _, password = a.auth.partition(":")

    def authenticator(server, session, envelope, mechanism, data):
        ok = False
        login = pw = None
        if isinstance(data, LoginPassword):
            login = data.login.decode("utf-8", "replace")
            pw = data.password.decode("utf-8", "replace")
            ok = login == user and pw == password
        rec.ev(ev="auth", sid=server.sid, mech=mechanism, login=login,
               password=pw, ok=ok, tls=tls_on(server))
        if ok:
            server.login = login
        # handled=False: aiosmtpd sends the 535 itself
        return AuthResult(success=ok, handled=False)

    def factory():
        kw = dict(rec=rec, hostname="smtpd.test", decode_data=False,
                  enable_SMTPUTF8=True, timeout=120,
                  data_size_limit=64 * 1024 * 1024)
        if ctx is not None and a.starttls:
            kw.update(tls_context=ctx, require_starttls=a.require_starttls)
        if a.auth:
            kw.update(authenticator=authenticator,
                      auth_required=a.auth_required,
                      # implicit TLS is TLS, but aiosmtpd only knows
                      # about STARTTLS when it decides to offer AUTH
                      auth_require_tls=not (a.auth_plaintext or a.implicit_tls))
        else:
            kw.update(auth_require_tls=False)
        return RecordingSMTP(handler, **kw)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", a.port))
    server = loop.run_until_complete(loop.create_server(
        factory, sock=sock, ssl=ctx if a.implicit_tls else None))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    loop.call_later(a.lifetime, loop.stop)
    print(sock.getsockname()[1], flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
        rec.log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
