#!/usr/bin/python3
# Messages from mime/message.c read by an independent implementation:
# Python's email package (policy.default, strict RFC 5322/2047/2231
# parsing) and mailbox (mbox).  The messages come from the unit test
# program's --emit mode (tests/unit/mime_message.c).
import email
import email.policy
import mailbox
import os
import subprocess
import sys
import tempfile

n = 0
failed = 0


def ok(cond, name, diag=None):
    global n, failed
    n += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (n, name))
    if not cond:
        failed += 1
        if diag is not None:
            for line in str(diag).splitlines():
                print("#   " + line)


prog = os.path.join(os.environ.get("B", "build"), "tests", "mime_message.t")
if not os.access(prog, os.X_OK):
    print("1..0 # SKIP %s not built (add it to UNITS)" % prog)
    sys.exit(0)

data = subprocess.run([prog, "--emit"], check=True,
                      stdout=subprocess.PIPE).stdout
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "out.mbox")
    with open(path, "wb") as f:
        f.write(data)
    box = mailbox.mbox(path, create=False)
    raw = [box.get_bytes(k) for k in box.keys()]
ok(len(raw) == 2, "mbox holds two messages", len(raw))


def all_defects(msg):
    out = []
    for part in msg.walk():
        out += [(part.get_content_type(), x) for x in part.defects]
        for name, value in part.items():
            out += [(name, x) for x in getattr(value, "defects", [])]
    return out


want = [
    ("Zo\u00eb Salda\u00f1a", "zoe@example.org", False),
    ("Hopper, Grace", "Grace@Example.COM", True),
]
for (name, addr, related), b in zip(want, raw):
    m = email.message_from_bytes(b, policy=email.policy.default)
    tag = addr
    ok(all_defects(m) == [], "%s: no defects" % tag, all_defects(m))
    to = m["To"].addresses
    ok(len(to) == 1 and to[0].display_name == name
       and to[0].addr_spec == addr, "%s: To" % tag, m["To"])
    ok(m["From"].addresses[0].addr_spec == "china@axios.example"
       and m["From"].addresses[0].display_name == "Axios China",
       "%s: From" % tag)
    ok(m["Reply-To"].addresses[0].display_name
       == "Allen-Ebrahimian, Bethany", "%s: Reply-To" % tag)
    ok(str(m["Subject"]) == "Axios China: \u6c88\u5cb3 and Zo\u00eb",
       "%s: Subject" % tag, m["Subject"])
    ok(str(m["List-Id"]) == '"Axios China" <axios-china.axios.example>',
       "%s: List-Id" % tag)
    ok(str(m["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click",
       "%s: List-Unsubscribe-Post" % tag)
    ok(str(m["Message-ID"]).startswith("<")
       and str(m["Message-ID"]).endswith("@axios.example>"),
       "%s: Message-ID" % tag)
    ok(m.get_content_type() == "multipart/alternative",
       "%s: multipart/alternative" % tag)
    parts = m.get_payload()
    ok(len(parts) == 2 and parts[0].get_content_type() == "text/plain",
       "%s: text/plain first" % tag)
    text = parts[0].get_content()
    ok(("Hello " + name + ",\n") in text
       and "From the desk of the editor. =^.^=\n.\n" in text
       and "Trailing space \nand tab\t\n" in text
       and "\U0001F600" in text and text.endswith("\n"),
       "%s: text body" % tag, repr(text))
    if related:
        rel = parts[1]
        ok(rel.get_content_type() == "multipart/related"
           and rel.get_param("type") == "text/html",
           "%s: multipart/related type=text/html" % tag)
        sub = rel.get_payload()
        ok([p.get_content_type() for p in sub]
           == ["text/html", "image/png", "image/gif"],
           "%s: html then images" % tag,
           [p.get_content_type() for p in sub])
        html = sub[0].get_content()
        ok(sub[1]["Content-ID"] == "<logo@nl.example>"
           and sub[1].get_content().startswith(b"\x89PNG")
           and sub[1].get_filename() == "logo.png"
           and sub[1].get_content_disposition() == "inline",
           "%s: PNG part" % tag)
        ok(sub[2].get_filename() == "d\u00e9j\u00e0 vu.gif"
           and sub[2].get_content() == b"GIF89a-not-really",
           "%s: GIF part, RFC 2231 filename" % tag, sub[2].get_filename())
    else:
        ok(parts[1].get_content_type() == "text/html",
           "%s: text/html last" % tag)
        html = parts[1].get_content()
    ok(("<p>Hello " + name + "</p>") in html
       and 'href="https://u.example/u?t=' in html,
       "%s: html body" % tag, repr(html[:200]))
    for line in b.split(b"\n"):
        if len(line.rstrip(b"\r")) > 998:
            ok(False, "%s: a line over 998 octets" % tag)
            break
    else:
        ok(True, "%s: no line over 998 octets" % tag)

print("1..%d" % n)
sys.exit(1 if failed else 0)
