"""An independent word count of an issue, the way issue-format.md defines it.

Independent of the C code on purpose: markdown goes through the `cmark`
command-line tool (`cmark -t xml`), the tree is walked here, and words are
counted with Python's own Unicode tables (str.split() for white space,
str.isalnum() for letters and digits).  Tests compare nlsend's count with
this one; if they differ, one of the two misreads the spec.

The reading text of the markdown is: text, code spans, raw HTML (escaped,
so shown and counted literally), code blocks and HTML blocks, and link
text; not link URLs, not a link whose text is its URL (an autolink) or,
for mailto:, its address; nothing inside an image; no list markers.
Inline pieces join ("foo**bar**" is one word); blocks and line breaks
separate words.

    count_issue(path) -> (total, [words of section 1, section 2, ...])
    issue_fields(path) -> [(name, "markdown" | "plain", text), ...]
    count_markdown(text), count_plain(text) -> int
"""

import shutil
import subprocess
import xml.etree.ElementTree as ET

NS = "{http://commonmark.org/xml/1.0}"


def count_plain(text):
    """Words of plain text: runs of non-space holding a letter or digit."""
    return sum(1 for tok in text.split() if any(c.isalnum() for c in tok))


def _tag(el):
    t = el.tag
    return t[len(NS):] if t.startswith(NS) else t


def _inline(el):
    tag = _tag(el)
    if tag in ("text", "code", "html_inline"):
        return el.text or ""
    if tag in ("softbreak", "linebreak"):
        return " "
    if tag == "image":
        return ""
    inner = "".join(_inline(c) for c in el)
    if tag == "link":
        dest = el.get("destination", "")
        if inner == dest or (dest.startswith("mailto:")
                             and inner == dest[len("mailto:"):]):
            return ""
    return inner


def _blocks(el, out):
    tag = _tag(el)
    if tag in ("paragraph", "heading"):
        out.append("".join(_inline(c) for c in el))
    elif tag in ("code_block", "html_block"):
        out.append(el.text or "")
    else:
        for c in el:
            _blocks(c, out)


def cmark_xml(text):
    exe = shutil.which("cmark") or "/usr/bin/cmark"
    res = subprocess.run([exe, "-t", "xml"], input=text.encode("utf-8"),
                         stdout=subprocess.PIPE, check=True)
    return ET.fromstring(res.stdout)


def reading_blocks(text):
    """The reading text of markdown, one string per leaf block."""
    out = []
    _blocks(cmark_xml(text), out)
    return out


def count_markdown(text):
    return sum(count_plain(b) for b in reading_blocks(text))


def _s(v):
    return "" if v is None else str(v)


def issue_fields(path):
    """The counted fields of an issue, in order, as (name, kind, text)."""
    import yaml  # python3-yaml; imported here so the counters need none

    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    fields = []
    if doc.get("intro") is not None:
        fields.append(("intro", "markdown", _s(doc["intro"])))
    for i, sec in enumerate(doc.get("sections") or [], 1):
        for key in ("label", "title"):
            if sec.get(key) is not None:
                fields.append(("section %d %s" % (i, key), "plain",
                               _s(sec[key])))
        img = sec.get("image") or {}
        if img.get("credit") is not None:
            fields.append(("section %d credit" % i, "plain",
                           _s(img["credit"])))
        if sec.get("body") is not None:
            fields.append(("section %d body" % i, "markdown",
                           _s(sec["body"])))
    if doc.get("outro") is not None:
        fields.append(("outro", "markdown", _s(doc["outro"])))
    return fields


def count_field(kind, text):
    return count_markdown(text) if kind == "markdown" else count_plain(text)


def count_issue(path):
    """(total words, [words per section]) of the issue at path."""
    total = 0
    per = {}
    for name, kind, text in issue_fields(path):
        n = count_field(kind, text)
        total += n
        if name.startswith("section "):
            idx = int(name.split()[1])
            per[idx] = per.get(idx, 0) + n
    sections = [per.get(i, 0) for i in range(1, max(per, default=0) + 1)]
    return total, sections


if __name__ == "__main__":
    # `wordcount.py ISSUE.yaml` prints the issue's total, for shell tests.
    import sys as _sys
    print(count_issue(_sys.argv[1])[0])
