#!/usr/bin/python3
"""A raw-socket SMTP server that misbehaves on purpose, for what aiosmtpd
cannot do: reply to a message before it has been read.

Listens on 127.0.0.1 (a free port, printed on stdout once listening),
serves one session at a time, exits after --lifetime seconds.  Logs one
JSON object a line to DIR/log.jsonl.

Modes (--mode), for every message after --after BYTES of its data:
  early250   reply "250 2.0.0 queued" then reset the connection (RST)
  early552   reply "552 5.3.4 too big", then read the rest of the message
             as commands, answering "500 5.5.1 unknown command" to each
             line, until the client closes
  trickle    read the whole message, then send "250-still working"
             continuation lines every 0.3 s and never end the reply
--pipelining lists PIPELINING in the EHLO reply (RFC 2920).
"""
import argparse
import json
import os
import socket
import struct
import sys
import time


def log(d, **kw):
    with open(os.path.join(d, "log.jsonl"), "a") as f:
        f.write(json.dumps(kw) + "\n")


class Session:
    def __init__(self, conn, a):
        self.c, self.a, self.buf = conn, a, b""

    def send(self, line):
        self.c.sendall(line.encode() + b"\r\n")

    def readline(self):
        while b"\n" not in self.buf:
            chunk = self.c.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def trickle(self):
        while b"\r\n.\r\n" not in self.buf:
            chunk = self.c.recv(65536)
            if not chunk:
                return False
            self.buf += chunk
        log(self.a.dir, ev="trickle")
        while True:
            self.send("250-still working")
            time.sleep(0.3)

    def data(self):
        """Read the message until --after bytes, then misbehave."""
        if self.a.mode == "trickle":
            return self.trickle()
        got = len(self.buf)
        while got < self.a.after:
            chunk = self.c.recv(65536)
            if not chunk:
                return False
            self.buf += chunk
            got += len(chunk)
        log(self.a.dir, ev="early", mode=self.a.mode, read=got)
        if self.a.mode == "early250":
            self.send("250 2.0.0 queued")
            time.sleep(0.2)
            self.c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                              struct.pack("ii", 1, 0))
            return False
        self.send("552 5.3.4 too big")
        self.buf = b""
        while True:
            line = self.readline()
            if line is None:
                return False
            self.send("500 5.5.1 unknown command")

    def run(self):
        self.send("220 raw.example ESMTP")
        while True:
            line = self.readline()
            if line is None:
                return
            verb = line[:4].upper()
            log(self.a.dir, ev="cmd", line=line[:80].decode("latin-1"))
            if verb in (b"EHLO", b"HELO"):
                if self.a.pipelining:
                    self.send("250-raw.example")
                    self.send("250 PIPELINING")
                else:
                    self.send("250 raw.example")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.send("250 ok")
            elif verb == b"DATA":
                self.send("354 go ahead")
                if not self.data():
                    return
            elif verb == b"QUIT":
                self.send("221 bye")
                return
            else:
                self.send("500 5.5.1 unknown command")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--mode", choices=["early250", "early552", "trickle"], required=True)
    p.add_argument("--after", type=int, default=1024)
    p.add_argument("--pipelining", action="store_true")
    p.add_argument("--lifetime", type=float, default=120)
    a = p.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    s.settimeout(1.0)
    print(s.getsockname()[1], flush=True)
    end = time.time() + a.lifetime
    while time.time() < end:
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        conn.settimeout(30)
        try:
            Session(conn, a).run()
        except OSError:
            pass
        finally:
            conn.close()


if __name__ == "__main__":
    sys.exit(main())
