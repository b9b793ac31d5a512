#!/usr/bin/python3
"""A whole issue to its list as an mbox, read back with an independent
parser: Python's mailbox and email with policy.default.  The test issue
and lists (tests/data) always; the corpus issue and lists when
$NLSEND_CORPUS (or ../shared/corpus) is there."""
import email
import email.policy
import mailbox
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from taplib import *  # noqa: E402,F401,F403

cfg = os.path.join(TMP, "nlsend.yaml")
with open(cfg, "w") as f:
    f.write("unsubscribe_url: https://newsletters.example.com/u?t={{token}}\n"
            "unsubscribe_secret: test-secret-0123456789\n")


def run(*args):
    return subprocess.run([NLSEND, *args], env=ENV, capture_output=True,
                          text=True, timeout=120)


def defects(m):
    d = list(m.defects)
    for part in m.walk():
        d += list(part.defects)
    return d


# What each issue and its lists must give.  bad: the CSV's bad rows as
# (line, what the message names); txt_tos: the txt list's recipients.
TEST = {
    "name": "test", "issue": ISSUE,
    "csv": os.path.join(LISTS, "subscribers.csv"),
    "txt": os.path.join(LISTS, "subscribers.txt"),
    "image": os.path.join(DATA, "newsletter", "images", "lighthouse.png"),
    "bad": ((7, "missing-at-sign"), (8, "bob@localhost"), (10, "line break")),
    "tos": ["ingrid@example.com", "tomas@example.org", "noe@example.net",
            "lan@example.cn", "o'neill@example.ie", "anon@example.com"],
    "names": ["Ingrid Solberg", "Novak, Tomas", "Noë Ferreira", "林岚",
              "Siobhán O'Neill", ""],
    "txt_tos": ["ingrid@example.com", "tomas@example.org", "noe@example.net",
                "lan@example.cn", "o'neill@example.ie", "anon@example.com"],
    "txt_bad": ((9, "missing-at-sign"), (10, "bob@localhost")),
    "subject": "Meridian Weekly: Trams on sunlight, a bridge's unlikely "
               "champion",
    "from": ("weekly@meridian.example.org", "Meridian Weekly"),
    "list_id": '"Meridian Weekly" <meridian-weekly.meridian.example.org>',
    "meta": "This newsletter is 1,380 words, a 6-minute read.",
}
CORPUS_LISTS = {
    "name": "corpus", "issue": AXIOS,
    "csv": CORPUS and os.path.join(CORPUS, "subscribers.csv"),
    "txt": CORPUS and os.path.join(CORPUS, "subscribers.txt"),
    "image": CORPUS and os.path.join(CORPUS, "images", "petrof-piano.png"),
    "bad": ((7, "not-an-address"), (8, "bob@localhost"), (10, "line break")),
    "tos": ["ada@example.com", "grace@example.org", "zoe@example.net",
            "shen@example.cn", "o'brien@example.ie", "plain@example.com"],
    "names": ["Ada Lovelace", "Hopper, Grace", "Zoë Saldaña", "沈岳",
              "Conan O'Brien", ""],
    "txt_tos": ["ada@example.com", "grace@example.org", "zoe@example.net"],
    "txt_bad": (),
    "subject": "Axios China: A democratic tech alliance, Tencent's new "
               "lobbyist",
    "from": ("china@newsletters.example.com", "Axios China"),
    "list_id": '"Axios China" <axios-china.newsletters.example.com>',
    "meta": "This newsletter is 1,513 words, a 6-minute read.",
}


def bad_rows(n, stderr, base, want):
    for line, what in want:
        ok(re.search(r"^nlsend: .*%s:%d: .*%s" % (re.escape(base), line,
                                                  re.escape(what)),
                     stderr, re.M | re.I) is not None,
           "%s: %s: bad row reported at line %d (%s)" % (n, base, line, what),
           stderr)
    is_(len(re.findall(r"^nlsend: .*%s:\d+:" % re.escape(base), stderr,
                       re.M)),
        len(want), "%s: %s: exactly %d bad rows reported" % (n, base,
                                                              len(want)))


def dry_run(want):
    n = want["name"]
    csv = want["csv"]
    mbox_path = os.path.join(TMP, n + ".mbox")
    r = run(want["issue"], "--list", csv, "--dry-run", mbox_path,
            "--config", cfg)
    if not ok(r.returncode == 0, "%s: dry run exits 0" % n, r.stderr):
        return
    diag(r.stderr)
    bad_rows(n, r.stderr, "subscribers.csv", want["bad"])
    ok("skipped %d bad rows, 1 duplicate," % len(want["bad"]) in r.stderr,
       "%s: the summary counts the bad rows and the duplicate" % n, r.stderr)

    box = mailbox.mbox(mbox_path, create=False)
    raw = [m.as_bytes() for m in box]
    msgs = [email.message_from_bytes(b, policy=email.policy.default)
            for b in raw]
    tos = [m["To"].addresses[0].addr_spec for m in msgs]
    is_(tos, want["tos"],
        "%s: exactly six messages, in list order, duplicate dropped" % n)
    if len(msgs) != 6:
        return
    names = [m["To"].addresses[0].display_name for m in msgs]
    is_(names, want["names"], "%s: display names decode back to UTF-8" % n)
    ok(all(str(m["Subject"]) == want["subject"] for m in msgs),
       "%s: subjects decode back" % n)
    ok(all((m["From"].addresses[0].addr_spec,
            m["From"].addresses[0].display_name) == want["from"]
           for m in msgs), "%s: From" % n)

    ok(all(not defects(m) for m in msgs), "%s: no defects in any message" % n,
       [defects(m) for m in msgs])
    for h in ("Date", "Message-ID", "MIME-Version", "List-Id",
              "List-Unsubscribe", "List-Unsubscribe-Post"):
        ok(all(m[h] for m in msgs), "%s: every message has %s" % (n, h))
    is_(str(msgs[0]["List-Id"]), want["list_id"],
        "%s: List-Id per RFC 2919 with the default list id" % n)
    is_(str(msgs[0]["List-Unsubscribe-Post"]), "List-Unsubscribe=One-Click",
        "%s: one-click unsubscribe (RFC 8058)" % n)
    ids = [str(m["Message-ID"]) for m in msgs]
    is_(len(set(ids)), 6, "%s: Message-IDs unique per recipient" % n)
    unsub = [re.findall(r"<(https://[^>]+)>", str(m["List-Unsubscribe"]))
             for m in msgs]
    ok(all(len(u) == 1 for u in unsub) and
       len(set(u[0] for u in unsub)) == 6,
       "%s: unsubscribe URLs differ per recipient" % n, unsub)
    ok(all("mailto:" in str(m["List-Unsubscribe"]) for m in msgs),
       "%s: List-Unsubscribe also offers mailto" % n)

    # Structure: multipart/alternative, text/plain first, HTML last
    # (related around it with the embedded local image).
    m = msgs[0]
    is_(m.get_content_type(), "multipart/alternative",
        "%s: multipart/alternative" % n)
    parts = list(m.iter_parts())
    is_(parts[0].get_content_type(), "text/plain", "%s: text/plain first" % n)
    is_(parts[-1].get_content_type(), "multipart/related",
        "%s: HTML part is multipart/related" % n)
    rel = list(parts[-1].iter_parts())
    is_(rel[0].get_content_type(), "text/html",
        "%s: text/html inside related" % n)
    imgs = [p for p in rel if p.get_content_type() == "image/png"]
    ok(len(imgs) == 1, "%s: the local image is an image/png part" % n)
    html = rel[0].get_content()
    text = parts[0].get_content()
    if imgs:
        cid = imgs[0]["Content-ID"].strip("<>")
        ok('src="cid:%s"' % cid in html,
           "%s: the HTML references the image by cid:" % n)
        is_(imgs[0].get_content(), open(want["image"], "rb").read(),
            "%s: the embedded image is byte-identical to the file" % n)
    ok(parts[0].get_content_charset() == "utf-8" and
       rel[0].get_content_charset() == "utf-8", "%s: both parts are UTF-8" % n)
    ok(want["meta"] in re.sub(r"\s+", " ", html),
       "%s: the metadata line in the HTML" % n)
    ok(want["meta"] in re.sub(r"\s+", " ", text),
       "%s: the metadata line in the text part" % n)
    hi = "Hi %s," % want["names"][0]
    ok(hi in html and hi in text,
       "%s: personalised greeting in both parts" % n)
    ok("Hi there," in msgs[5].get_body(("plain",)).get_content(),
       "%s: greeting falls back when the name is empty" % n)
    ok(unsub[0] and unsub[0][0] in html.replace("&amp;", "&"),
       "%s: the HTML footer links this recipient's unsubscribe URL" % n)
    ok(want["tos"][0] in text,
       "%s: the text footer names the subscribed address" % n)
    ok(want["names"][1] in msgs[1].get_body(("html",)).get_content(),
       "%s: names with a comma reach the body intact" % n)

    # Wire limits: no line over 998 octets, encoded body lines at most 76.
    over998 = [ln for b in raw for ln in b.split(b"\n")
               if len(ln.rstrip(b"\r")) > 998]
    ok(not over998, "%s: no line over 998 octets" % n)
    bodies_over76 = []
    for b in raw:
        head, _, body = b.partition(b"\n\n")
        for ln in body.split(b"\n"):
            if len(ln.rstrip(b"\r")) > 76 and not ln.startswith(b"--"):
                bodies_over76.append(ln[:80])
    ok(not bodies_over76, "%s: encoded body lines keep to 76" % n,
       bodies_over76[:3])
    ok(all(b.isascii() for b in raw), "%s: the messages are 7-bit clean" % n)

    # Deterministic: the same run again gives the same Message-IDs.
    mbox2 = os.path.join(TMP, n + "-again.mbox")
    r = run(want["issue"], "--list", csv, "--dry-run", mbox2, "--config", cfg)
    ids2 = [str(m["Message-ID"]).strip()
            for m in mailbox.mbox(mbox2, create=False)]
    is_(ids2, ids,
        "%s: Message-IDs are deterministic per campaign and recipient" % n)
    # Appending: a second dry run into the same file adds six more.
    r = run(want["issue"], "--list", csv, "--dry-run", mbox_path,
            "--config", cfg)
    is_(len(mailbox.mbox(mbox_path, create=False)), 12,
        "%s: --dry-run appends" % n)

    # The txt list: its people, its bad rows by line.
    txt_mbox = os.path.join(TMP, n + "-txt.mbox")
    r = run(want["issue"], "--list", want["txt"], "--dry-run", txt_mbox,
            "--config", cfg)
    ok(r.returncode == 0, "%s: the txt list" % n, r.stderr)
    if r.returncode == 0:
        is_([email.message_from_bytes(m.as_bytes(),
                                      policy=email.policy.default)
             ["To"].addresses[0].addr_spec
             for m in mailbox.mbox(txt_mbox, create=False)],
            want["txt_tos"], "%s: the txt list's recipients" % n)
        bad_rows(n, r.stderr, "subscribers.txt", want["txt_bad"])


dry_run(TEST)
if AXIOS:
    dry_run(CORPUS_LISTS)
else:
    skip(NO_CORPUS + ": the corpus issue to the corpus lists not run")

# No valid recipient at all: exit 65.
empty = os.path.join(TMP, "empty.txt")
open(empty, "w").write("# nobody\nnot-an-address\n")
r = run(ISSUE, "--list", empty, "--dry-run", os.path.join(TMP, "e.mbox"))
is_(r.returncode, 65, "no valid recipient exits 65")
done()
