#!/usr/bin/python3
"""--preview of a whole issue, the rendering an editor sees: six numbered
headings, every bold lead-in, the chart inside section 1, the local image
with its credit, the sign-off, the metadata line; the text part keeps
bullets, numbers and link URLs and wraps at 72.  On the test issue always,
on the corpus issue when $NLSEND_CORPUS (or ../shared/corpus) is there."""
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


# What each issue must show, beyond what its YAML says.
TEST = {
    "name": "test", "path": ISSUE,
    "chart": "riders-back-the-plan.png", "local": "lighthouse.png",
    "credit": "Photo: Søren Dahl/Meridian", "credit_start": "Photo: Søren",
    "meta": "This newsletter is 1,380 words, a 6-minute read.",
    "signoff": "Liv Marchetti", "last_story": "said Horák",
    "go_deeper": "Go deeper <https://news.example.org/go/2026-03-06-1>",
    "numbered": r"^1\. The city library will stay open",
    "bullet": r"^\s*[•*-] The draft names four sites",
}
CORPUS_ISSUE = {
    "name": "corpus", "path": AXIOS,
    "chart": "americans-support-multilateralism.png",
    "local": "petrof-piano.png",
    "credit": "Photo: Milan Jaros/AFP via Getty Images",
    "credit_start": "Photo: Milan Jaros",
    "meta": "This newsletter is 1,513 words, a 6-minute read.",
    "signoff": "Bethany Allen-Ebrahimian", "last_story": "Karel Kom",
    "go_deeper": "Go deeper <https://newsletters.example.com/go/2020-09-15-1>",
    "numbered": r"^1\. U\.S\. Customs",
    "bullet": r"^\s*[•*-] The proposal, called",
}


def previews(want):
    n = want["name"]
    r = subprocess.run([NLSEND, "--preview", want["path"], "--html", html_out,
                        "--text", text_out], env=ENV, capture_output=True,
                       text=True, timeout=60)
    if not ok(r.returncode == 0, "%s: --preview exits 0" % n, r.stderr):
        return
    html = open(html_out, encoding="utf-8").read()
    text = open(text_out, encoding="utf-8").read()
    issue = yaml.safe_load(open(want["path"], encoding="utf-8"))

    w = Walk()
    w.feed(html)
    plain = re.sub(r"\s+", " ", "".join(w.text))
    headings = [e[1] for e in w.events if e[0] == "h2"]
    expected = []
    for i, s in enumerate(issue["sections"], 1):
        expected.append("%s: %s" % (s["label"], s["title"]) if s.get("label")
                        else "%d. %s" % (i, s["title"]))
    is_(headings, expected, "%s: six numbered section headings, in order" % n)
    is_(len(headings), 6, "%s: six of them" % n)

    leadins = []
    for s in issue["sections"]:
        leadins += re.findall(r"\*\*(.+?)\*\*", s["body"])
    strongs = set(e[1] for e in w.events if e[0] in ("strong", "b"))
    missing = [x for x in leadins if x not in strongs]
    ok(leadins and not missing,
       "%s: every bold lead-in (%d) is bold" % (n, len(leadins)),
       "missing: %r" % missing)

    def section_of(pred):
        sec = 0
        for e in w.events:
            if e[0] == "h2":
                sec += 1
            elif pred(e):
                return sec
        return None

    is_(section_of(lambda e: e[0] == "img" and e[1].endswith(want["chart"])),
        1, "%s: the chart image is inside section 1" % n)
    local = [e for e in w.events if e[0] == "img" and want["local"] in e[1]]
    ok(local and local[0][2] == issue["sections"][5]["image"]["alt"],
       "%s: the local image with its alt text" % n, local)
    is_(section_of(lambda e: e[0] == "img" and want["local"] in e[1]), 6,
        "%s: the local image is in section 6" % n)
    ok(local and local[0][1].startswith("file://"),
       "%s: the preview links the local image as a file URL" % n, local)
    ok(want["credit"] in plain, "%s: the local image's credit" % n)
    ok(plain.find(want["credit_start"]) >
       plain.find(headings[-1] if headings else "~"),
       "%s: the credit follows the last heading" % n)
    ok(want["meta"] in plain, "%s: the metadata line with the stated count" % n)
    ok(plain.rfind(want["signoff"]) > plain.find(want["last_story"]) >= 0,
       "%s: the sign-off after the last story" % n)
    ok("unsubscribe" in plain.lower(), "%s: a visible unsubscribe link" % n)
    ok("reader@example.com" in plain,
       "%s: the footer names the subscribed address" % n)
    ok('name="viewport"' in html and
       "max-width:600px" in html.replace(" ", ""),
       "%s: a 600 px column for phones and desktops" % n)

    # The text part.
    flat = re.sub(r"\s+", " ", text)
    ok(want["go_deeper"] in flat,
       "%s: links show their URL once: Go deeper <URL>" % n)
    ok(re.search(want["numbered"], text, re.M) is not None,
       "%s: numbered lists keep their numbers" % n)
    ok(re.search(want["bullet"], text, re.M) is not None,
       "%s: bullet lists keep their bullets" % n)
    long = [ln for ln in text.splitlines()
            if len(ln) > 72 and not re.search(r"<?(https?|mailto):", ln)]
    ok(not long, "%s: text lines wrap at 72 (URLs excepted)" % n,
       "\n".join(long[:5]))
    ok(want["meta"] in flat, "%s: the metadata line in the text part" % n)


previews(TEST)
if AXIOS:
    previews(CORPUS_ISSUE)
else:
    skip(NO_CORPUS + ": --preview of the corpus issue not run")

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
