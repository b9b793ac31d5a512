#!/usr/bin/python3
"""python_smtplib.py PARTS.json LIST.txt HOST PORT THREADS - the Python peer.

What a Python user writes with the standard library alone: for each
subscriber, personalise the text and HTML (name, address, unsubscribe URL
with an HMAC token, as nlsend does), build an email.message.EmailMessage
(text/plain + text/html alternative, quoted-printable, List-Unsubscribe
headers) and send it with smtplib over a connection kept open for the whole
run.  THREADS connections (threads) share the list round-robin; the GIL
makes more than one thread mostly a way to overlap the network waits.

Prints "sent N bytes B" on stdout (B: message bytes as flattened with CRLF,
before dot-stuffing); exits 1 if any message was refused.
"""
import base64
import email.policy
import email.utils
import hashlib
import hmac
import json
import re
import smtplib
import sys
import threading
from email.headerregistry import Address
from email.message import EmailMessage

KEY = b"bench-unsubscribe-secret"
LINE = re.compile(r"^\s*(?:(.*?)\s*<([^>]+)>|(\S+@\S+))\s*$")


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def load_list(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            m = LINE.match(line)
            if m:
                out.append((m.group(1) or "", m.group(2) or m.group(3)))
    return out


def build(parts, name, addr):
    mac = hmac.new(KEY, addr.encode(), hashlib.sha256).digest()[:16]
    token = b64u(addr.encode()) + "." + b64u(mac)
    url = parts["unsubscribe_base"] + token

    def fill(s):
        return (s.replace("{{unsubscribe_url}}", url)
                 .replace("{{email}}", addr).replace("{{name}}", name or addr))

    msg = EmailMessage()
    msg["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    msg["From"] = parts["from"]
    local, _, domain = addr.partition("@")
    msg["To"] = Address(name, local, domain)
    msg["Subject"] = parts["subject"]
    msg["Message-ID"] = email.utils.make_msgid(domain="newsletters.example.com")
    msg["List-Id"] = parts["list_id"]
    msg["List-Unsubscribe"] = "<%s>, <mailto:%s?subject=unsubscribe%%20%s>" % (
        url, parts["mailto"], token)
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(fill(parts["text"]), cte="quoted-printable")
    msg.add_alternative(fill(parts["html"]), subtype="html",
                        cte="quoted-printable")
    return msg.as_bytes(policy=email.policy.SMTP)


def worker(parts, rcpts, host, port, sender, result, idx):
    sent = nbytes = 0
    with smtplib.SMTP(host, port) as s:
        for name, addr in rcpts:
            data = build(parts, name, addr)
            refused = s.sendmail(sender, [addr], data)
            if refused:
                break
            sent += 1
            nbytes += len(data)
    result[idx] = (sent, nbytes)


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: python_smtplib.py PARTS.json LIST.txt HOST PORT THREADS")
    with open(sys.argv[1], encoding="utf-8") as f:
        parts = json.load(f)
    rcpts = load_list(sys.argv[2])
    host, port, nthreads = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    sender = parts["mailto"]
    result = [(0, 0)] * nthreads
    if nthreads == 1:
        worker(parts, rcpts, host, port, sender, result, 0)
    else:
        ts = [threading.Thread(target=worker,
                               args=(parts, rcpts[i::nthreads], host, port,
                                     sender, result, i))
              for i in range(nthreads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    sent = sum(r[0] for r in result)
    print("sent %d bytes %d" % (sent, sum(r[1] for r in result)))
    return 0 if sent == len(rcpts) else 1


if __name__ == "__main__":
    sys.exit(main())
