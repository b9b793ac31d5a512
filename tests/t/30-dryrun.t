#!/usr/bin/python3
"""The corpus issue to the corpus list as an mbox (issue 3), read back with
an independent parser: Python's mailbox and email with policy.default."""
import email
import email.policy
import mailbox
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from taplib import *  # noqa: E402,F401,F403

csv = os.path.join(CORPUS, "subscribers.csv")
mbox_path = os.path.join(TMP, "out.mbox")
cfg = os.path.join(TMP, "nlsend.yaml")
with open(cfg, "w") as f:
    f.write("unsubscribe_url: https://newsletters.example.com/u?t={{token}}\n"
            "unsubscribe_secret: test-secret-0123456789\n")


def run(*args):
    return subprocess.run([NLSEND, *args], env=ENV, capture_output=True,
                          text=True, timeout=120)


r = run(AXIOS, "--list", csv, "--dry-run", mbox_path, "--config", cfg)
if not ok(r.returncode == 0, "dry run exits 0", r.stderr):
    done()
diag(r.stderr)
for line, what in ((7, "not-an-address"), (8, "bob@localhost"), (10, "line break")):
    ok(re.search(r"^nlsend: .*subscribers\.csv:%d: .*%s" % (line, re.escape(what)),
                 r.stderr, re.M | re.I) is not None,
       "bad row reported at line %d (%s)" % (line, what), r.stderr)
is_(len(re.findall(r"^nlsend: .*subscribers\.csv:\d+:", r.stderr, re.M)), 3,
    "exactly three bad rows reported")

box = mailbox.mbox(mbox_path, create=False)
raw = [m.as_bytes() for m in box]
msgs = [email.message_from_bytes(b, policy=email.policy.default) for b in raw]
tos = [m["To"].addresses[0].addr_spec for m in msgs]
is_(tos, ["ada@example.com", "grace@example.org", "zoe@example.net",
          "shen@example.cn", "o'brien@example.ie", "plain@example.com"],
    "exactly six messages, in list order, duplicate dropped")
names = [m["To"].addresses[0].display_name for m in msgs]
is_(names, ["Ada Lovelace", "Hopper, Grace", "Zoë Saldaña", "沈岳",
            "Conan O'Brien", ""], "display names decode back to UTF-8")
subject = "Axios China: A democratic tech alliance, Tencent's new lobbyist"
ok(all(str(m["Subject"]) == subject for m in msgs), "subjects decode back")
ok(all(m["From"].addresses[0].addr_spec == "china@newsletters.example.com"
       and m["From"].addresses[0].display_name == "Axios China" for m in msgs),
   "From")


def defects(m):
    d = list(m.defects)
    for part in m.walk():
        d += list(part.defects)
    return d


ok(all(not defects(m) for m in msgs), "no defects in any message",
   [defects(m) for m in msgs])
for h in ("Date", "Message-ID", "MIME-Version", "List-Id", "List-Unsubscribe",
          "List-Unsubscribe-Post"):
    ok(all(m[h] for m in msgs), "every message has %s" % h)
is_(str(msgs[0]["List-Id"]), '"Axios China" <axios-china.newsletters.example.com>',
    "List-Id per RFC 2919 with the default list id")
is_(str(msgs[0]["List-Unsubscribe-Post"]), "List-Unsubscribe=One-Click",
    "one-click unsubscribe (RFC 8058)")
ids = [str(m["Message-ID"]) for m in msgs]
is_(len(set(ids)), 6, "Message-IDs unique per recipient")
unsub = [re.findall(r"<(https://[^>]+)>", str(m["List-Unsubscribe"])) for m in msgs]
ok(all(len(u) == 1 for u in unsub) and len(set(u[0] for u in unsub)) == 6,
   "unsubscribe URLs differ per recipient", unsub)
ok(all("mailto:" in str(m["List-Unsubscribe"]) for m in msgs),
   "List-Unsubscribe also offers mailto")

# Structure: multipart/alternative, text/plain first, HTML last (related
# around it with the embedded piano image).
m = msgs[0]
is_(m.get_content_type(), "multipart/alternative", "multipart/alternative")
parts = list(m.iter_parts())
is_(parts[0].get_content_type(), "text/plain", "text/plain first")
is_(parts[-1].get_content_type(), "multipart/related", "HTML part is multipart/related")
rel = list(parts[-1].iter_parts())
is_(rel[0].get_content_type(), "text/html", "text/html inside related")
imgs = [p for p in rel if p.get_content_type() == "image/png"]
ok(len(imgs) == 1, "the piano image is an image/png part")
html = rel[0].get_content()
text = parts[0].get_content()
if imgs:
    cid = imgs[0]["Content-ID"].strip("<>")
    ok('src="cid:%s"' % cid in html, "the HTML references the image by cid:")
    png = imgs[0].get_content()
    is_(png, open(os.path.join(CORPUS, "images", "petrof-piano.png"), "rb").read(),
        "the embedded image is byte-identical to the file")
ok(parts[0].get_content_charset() == "utf-8" and rel[0].get_content_charset() == "utf-8",
   "both parts are UTF-8")
ok("This newsletter is 1,513 words, a 6-minute read." in re.sub(r"\s+", " ", html),
   "the metadata line in the HTML")
ok("Hi Ada Lovelace," in html and "Hi Ada Lovelace," in text,
   "personalised greeting in both parts")
ok("Hi there," in msgs[5].get_body(("plain",)).get_content(),
   "greeting falls back when the name is empty")
ok(unsub[0] and unsub[0][0] in html.replace("&amp;", "&"),
   "the HTML footer links this recipient's unsubscribe URL")
ok("ada@example.com" in text, "the text footer names the subscribed address")
ok("Hopper, Grace" in msgs[1].get_body(("html",)).get_content(),
   "names with a comma reach the body intact")

# Wire limits: no line over 998 octets, encoded body lines at most 76.
over998 = [ln for b in raw for ln in b.split(b"\n") if len(ln.rstrip(b"\r")) > 998]
ok(not over998, "no line over 998 octets")
bodies_over76 = []
for b in raw:
    head, _, body = b.partition(b"\n\n")
    for ln in body.split(b"\n"):
        if len(ln.rstrip(b"\r")) > 76 and not ln.startswith(b"--"):
            bodies_over76.append(ln[:80])
ok(not bodies_over76, "encoded body lines keep to 76", bodies_over76[:3])
ok(all(b.isascii() for b in raw), "the messages are 7-bit clean")

# Deterministic: the same run again gives the same Message-IDs.
mbox2 = os.path.join(TMP, "again.mbox")
r = run(AXIOS, "--list", csv, "--dry-run", mbox2, "--config", cfg)
ids2 = [str(m["Message-ID"]).strip() for m in mailbox.mbox(mbox2, create=False)]
is_(ids2, ids, "Message-IDs are deterministic per campaign and recipient")
# Appending: a second dry run into the same file adds six more.
r = run(AXIOS, "--list", csv, "--dry-run", mbox_path, "--config", cfg)
is_(len(mailbox.mbox(mbox_path, create=False)), 12, "--dry-run appends")

# The txt list gives the same people.
r = run(AXIOS, "--list", os.path.join(CORPUS, "subscribers.txt"),
        "--dry-run", os.path.join(TMP, "txt.mbox"), "--config", cfg)
ok(r.returncode == 0, "the txt list", r.stderr)

# No valid recipient at all: exit 65.
empty = os.path.join(TMP, "empty.txt")
open(empty, "w").write("# nobody\nnot-an-address\n")
r = run(AXIOS, "--list", empty, "--dry-run", os.path.join(TMP, "e.mbox"))
is_(r.returncode, 65, "no valid recipient exits 65")
done()
