#!/usr/bin/python3
# The word count of issue-format.md, checked against an independent
# counter (tests/lib/wordcount.py: the cmark CLI's XML and Python's
# Unicode tables) field by field on the test issue (tests/data/newsletter),
# on the corpus issue when $NLSEND_CORPUS (or ../shared/corpus) is there,
# and on every markdown fixture in tests/data/md.  The C side is
# $B/tests/mdcount.t in its --count (markdown) and --plain (label, title,
# credit) modes.
import glob
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.environ.get("NLSEND_TOP") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
B = os.environ.get("B") or os.path.join(TOP, "build")
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from taplib import AXIOS, ISSUE, NO_CORPUS  # noqa: E402

try:
    import yaml  # noqa: F401  (wordcount.issue_fields needs it)
except ImportError:
    print("1..0 # SKIP python3-yaml missing (apt-get install python3-yaml)")
    sys.exit(0)
if not shutil.which("cmark"):
    print("1..0 # SKIP the cmark CLI is missing (apt-get install cmark)")
    sys.exit(0)

import wordcount  # noqa: E402

MDCOUNT = os.path.join(B, "tests", "mdcount.t")
if not os.access(MDCOUNT, os.X_OK):
    print("Bail out! %s is not built (add it to UNITS)" % MDCOUNT)
    sys.exit(1)

n = 0
failed = 0


def ok(cond, name, *diag):
    global n, failed
    n += 1
    print("%sok %d - %s" % ("" if cond else "not ", n, name))
    if not cond:
        failed += 1
        for d in diag:
            print("#   " + d)
    sys.stdout.flush()
    return cond


def c_count(kind, text):
    with tempfile.NamedTemporaryFile("wb", suffix=".md") as f:
        f.write(text.encode("utf-8"))
        f.flush()
        mode = "--count" if kind == "markdown" else "--plain"
        res = subprocess.run([MDCOUNT, mode, f.name], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    if res.returncode != 0:
        return None, res.stderr.decode("utf-8", "replace").strip()
    return int(res.stdout), ""


def counts_issue(name, path, total_want=None, sections_want=None):
    """An issue, field by field, per section and in total; with the exact
    totals when they are given."""
    c_total = py_total = 0
    c_sec = {}
    for field, kind, text in wordcount.issue_fields(path):
        want = wordcount.count_field(kind, text)
        got, err = c_count(kind, text)
        ok(got == want, "%s %s: %s words" % (name, field, want),
           "C count %s, independent count %d %s" % (got, want, err))
        py_total += want
        c_total += got or 0
        if field.startswith("section "):
            i = int(field.split()[1])
            c_sec[i] = c_sec.get(i, 0) + (got or 0)

    py_total2, py_sec = wordcount.count_issue(path)
    ok(py_total2 == py_total, "%s: count_issue() agrees with the field sum"
       % name)
    ok([c_sec.get(i, 0) for i in range(1, len(py_sec) + 1)] == py_sec,
       "%s: per-section counts agree: %s" % (name, py_sec),
       "C %s" % sorted(c_sec.items()))
    ok(c_total == py_total, "%s total: %d words computed" % (name, py_total),
       "C total %d, independent total %d" % (c_total, py_total))
    if total_want is not None:
        ok(c_total == total_want and py_total == total_want,
           "%s total is %d" % (name, total_want),
           "C total %d, independent total %d" % (c_total, py_total))
        ok(py_sec == sections_want,
           "%s sections are %s" % (name, sections_want), "got %s" % py_sec)
    print("# %s %s: %d words computed (the issue states its own `words`)"
          % (name, os.path.basename(path), c_total))


# The test issue, whose counts are known; the corpus issue when it is there.
counts_issue("test issue", ISSUE, 1176, [429, 223, 92, 164, 117, 95])
if AXIOS:
    counts_issue("corpus", AXIOS)
else:
    n += 1
    print("ok %d # SKIP %s: the corpus issue not counted" % (n, NO_CORPUS))
    sys.stdout.flush()

# The hand-written fixtures: tricky markdown, same two counters.
fixtures = sorted(glob.glob(os.path.join(TOP, "tests", "data", "md", "*.md")))
ok(len(fixtures) > 0, "markdown fixtures found")
for path in fixtures:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    want = wordcount.count_markdown(text)
    got, err = c_count("markdown", text)
    ok(got == want, "fixture %s: %d words" % (os.path.basename(path), want),
       "C count %s, independent count %d %s" % (got, want, err))

print("1..%d" % n)
sys.exit(1 if failed else 0)
