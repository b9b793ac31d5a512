#!/usr/bin/python3
"""--preview of the corpus issue: the rendering an editor sees (issue 2):
six numbered headings, every bold lead-in, the chart inside section 1, the
piano image with its credit, the sign-off, the metadata line; the text part
keeps bullets, numbers and link URLs and wraps at 72."""
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from taplib import *  # noqa: E402,F401,F403

import yaml  # noqa: E402

html_out = os.path.join(TMP, "p.html")
text_out = os.path.join(TMP, "p.txt")
r = subprocess.run([NLSEND, "--preview", AXIOS, "--html", html_out,
                    "--text", text_out], env=ENV, capture_output=True,
                   text=True, timeout=60)
if not ok(r.returncode == 0, "--preview exits 0", r.stderr):
    done()
html = open(html_out, encoding="utf-8").read()
text = open(text_out, encoding="utf-8").read()
issue = yaml.safe_load(open(AXIOS, encoding="utf-8"))


class Walk(HTMLParser):
    """Collects the h2 headings, the images and the <strong> texts, in
    document order, with the heading each one falls under."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.events = []
        self.stack = []
        self.buf = None
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("h1", "h2", "strong", "b"):
            self.stack.append(tag)
            self.buf = []
        if tag == "img":
            self.events.append(("img", a.get("src", ""), a.get("alt")))

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
            self.events.append((tag, "".join(self.buf).strip(), None))
            self.buf = None

    def handle_data(self, data):
        self.text.append(data)
        if self.buf is not None:
            self.buf.append(data)


w = Walk()
w.feed(html)
plain = re.sub(r"\s+", " ", "".join(w.text))
headings = [e[1] for e in w.events if e[0] == "h2"]
expected = []
for i, s in enumerate(issue["sections"], 1):
    expected.append("%s: %s" % (s["label"], s["title"]) if s.get("label")
                    else "%d. %s" % (i, s["title"]))
is_(headings, expected, "six numbered section headings, in order")

leadins = []
for s in issue["sections"]:
    leadins += re.findall(r"\*\*(.+?)\*\*", s["body"])
strongs = set(e[1] for e in w.events if e[0] in ("strong", "b"))
missing = [x for x in leadins if x not in strongs]
ok(leadins and not missing, "every bold lead-in (%d) is bold" % len(leadins),
   "missing: %r" % missing)


def section_of(pred):
    sec = 0
    for e in w.events:
        if e[0] == "h2":
            sec += 1
        elif pred(e):
            return sec
    return None


is_(section_of(lambda e: e[0] == "img" and
               e[1].endswith("americans-support-multilateralism.png")), 1,
    "the chart image is inside section 1")
piano = [e for e in w.events if e[0] == "img" and "petrof-piano.png" in e[1]]
ok(piano and piano[0][2] == issue["sections"][5]["image"]["alt"],
   "the piano image with its alt text", piano)
is_(section_of(lambda e: e[0] == "img" and "petrof-piano.png" in e[1]), 6,
    "the piano image is in section 6")
ok(piano and piano[0][1].startswith("file://"),
   "the preview links the local image as a file URL", piano)
ok("Photo: Milan Jaros/AFP via Getty Images" in plain, "the piano image's credit")
ok(plain.find("Photo: Milan Jaros") > plain.find(headings[-1] if headings else "~"),
   "the credit follows the last heading")
ok("This newsletter is 1,513 words, a 6-minute read." in plain,
   "the metadata line with the stated count")
ok(plain.rfind("Bethany Allen-Ebrahimian") > plain.find("Karel Kom"),
   "the sign-off after the last story")
ok("unsubscribe" in plain.lower(), "a visible unsubscribe link")
ok("reader@example.com" in plain, "the footer names the subscribed address")
ok('name="viewport"' in html and "max-width:600px" in html.replace(" ", ""),
   "a 600 px column for phones and desktops")

# The text part.
ok("Go deeper <https://newsletters.example.com/go/2020-09-15-1>" in
   re.sub(r"\s+", " ", text), "links show their URL once: Go deeper <URL>")
ok(re.search(r"^1\. U\.S\. Customs", text, re.M) is not None,
   "numbered lists keep their numbers")
ok(re.search(r"^\s*[•*-] The proposal, called", text, re.M) is not None,
   "bullet lists keep their bullets")
long = [ln for ln in text.splitlines()
        if len(ln) > 72 and not re.search(r"<?(https?|mailto):", ln)]
ok(not long, "text lines wrap at 72 (URLs excepted)", "\n".join(long[:5]))
ok("This newsletter is 1,513 words, a 6-minute read." in
   re.sub(r"\s+", " ", text), "the metadata line in the text part")

# Raw HTML in markdown is escaped, never passed through.
evil = os.path.join(TMP, "evil.yaml")
open(evil, "w").write('''newsletter: "Test <b>Weekly</b>"
date: 2026-01-02
from: "Test <test@example.org>"
sections:
  - title: "A <i>title</i> & more"
    body: |
      Hello <script>alert(1)</script> and <img src=x onerror=alert(2)>.

      <div onclick="x()">block html</div>

      [click](javascript:alert(3))
''')
r = subprocess.run([NLSEND, "--preview", evil, "--html", html_out], env=ENV,
                   capture_output=True, text=True, timeout=60)
ok(r.returncode == 0, "--preview of hostile markdown", r.stderr)
h = open(html_out, encoding="utf-8").read()
ok("<script" not in h and "&lt;script&gt;" in h, "raw inline HTML is escaped")
ok("<div onclick" not in h and "&lt;div onclick" in h, "raw block HTML is escaped")
ok("<img src=x" not in h and "<i>title" not in h and "<b>Weekly" not in h,
   "no tag from the YAML reaches the HTML")
ok("javascript:" not in h.replace("&lt;", "<") or 'href="javascript' not in h,
   "javascript: links are dropped")
done()
