#!/usr/bin/python3
"""make_message.py MBOX OUTDIR - the ready-made message and the peers' parts.

Takes the first message of an nlsend --dry-run mboxrd file (composed for
"Reader One <reader1@bench.example.com>") and writes into OUTDIR:

  message.eml  the message as it went out (LF lines, mboxrd quoting undone),
               for smtp-source -F (which adds CRLF and dot-stuffing itself);
  parts.json   what the peers compose from: from, subject, list_id, and the
               decoded text and HTML parts with the subscriber's name, address
               and unsubscribe URL replaced by {{name}}, {{email}} and
               {{unsubscribe_url}}, so that every sender personalises the same
               content (the peers then do their own MIME and encoding).

Exits 1 if the parts cannot be found or a trace of the sample subscriber
remains after the replacement (the peers would then send a wrong message).
"""
import email
import email.policy
import json
import os
import re
import sys

NAME = "Reader One"
ADDR = "reader1@bench.example.com"


def first_message(path):
    lines = []
    with open(path, "rb") as f:
        first = f.readline()
        if not first.startswith(b"From "):
            sys.exit("make_message: %s: not an mbox" % path)
        prev_blank = False
        for line in f:
            if line.startswith(b"From ") and prev_blank:
                break
            prev_blank = line in (b"\n", b"\r\n")
            if re.match(rb"^>+From ", line):  # mboxrd: one '>' was added
                line = line[1:]
            lines.append(line)
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines.pop()  # the separator the mbox writer added
    return b"".join(lines)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: make_message.py MBOX OUTDIR")
    raw = first_message(sys.argv[1])
    out = sys.argv[2]
    with open(os.path.join(out, "message.eml"), "wb") as f:
        f.write(raw)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    text = html = None
    for part in msg.walk():
        if part.get_content_type() == "text/plain" and text is None:
            text = part.get_content()
        elif part.get_content_type() == "text/html" and html is None:
            html = part.get_content()
    if text is None or html is None:
        sys.exit("make_message: no text and HTML parts in the first message")
    unsub = re.search(r"https?://[^\s\"<>]*\?t=[A-Za-z0-9_.\-]+", text)
    if not unsub:
        sys.exit("make_message: no unsubscribe URL in the text part")
    url = unsub.group(0)

    def templ(s):
        return (s.replace(url, "{{unsubscribe_url}}")
                 .replace(ADDR, "{{email}}").replace(NAME, "{{name}}"))

    text, html = templ(text), templ(html)
    for s in (text, html):
        if "reader1" in s.lower() or NAME in s:
            sys.exit("make_message: sample subscriber left in a part")
    base = url.split("?t=")[0] + "?t="
    parts = {
        "from": str(msg["From"]),
        "subject": str(msg["Subject"]),
        "list_id": str(msg["List-Id"]),
        "unsubscribe_base": base,
        "mailto": re.sub(r"\?.*", "", str(msg["From"]).split("<")[-1].rstrip(">")),
        "text": text,
        "html": html,
    }
    with open(os.path.join(out, "parts.json"), "w", encoding="utf-8") as f:
        json.dump(parts, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
