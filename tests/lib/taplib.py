"""TAP for nlsend's Python tests: ok(), is_(), skip(), done(); paths from
the environment the Makefile sets (NLSEND, NLSEND_TOP, B, NLSEND_CORPUS,
MUSTACHE_SPEC).

Our own data is part of the tree and every test runs on it: ISSUE (the test
issue, tests/data/newsletter/issue.yaml) and LISTS (tests/data/lists).  The
outside references, as in tests/lib/outside.sh: CORPUS is $NLSEND_CORPUS
(default ../shared/corpus beside the tree, when it exists) or None, AXIOS
the corpus issue or None, NO_CORPUS the reason to skip without it;
MUSTACHE_SPEC likewise.  A variable that is set must name a folder."""
import os
import shutil
import sys
import tempfile
import atexit

TOP = os.environ.get("NLSEND_TOP") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
NLSEND = os.environ.get("NLSEND") or os.path.join(TOP, "build", "nlsend")
DATA = os.path.join(TOP, "tests", "data")
ISSUE = os.path.join(DATA, "newsletter", "issue.yaml")
LISTS = os.path.join(DATA, "lists")


def outside_dir(var, default):
    """$var (absolute), else TOP/default when it is a folder, else None."""
    v = os.environ.get(var)
    if v:
        return os.path.realpath(v)
    d = os.path.join(TOP, default)
    return os.path.realpath(d) if os.path.isdir(d) else None


CORPUS = outside_dir("NLSEND_CORPUS", os.path.join("..", "shared", "corpus"))
AXIOS = CORPUS and os.path.join(CORPUS, "2020-09-15-axios-china.yaml")
NO_CORPUS = "NLSEND_CORPUS not set and ../shared/corpus absent"
MUSTACHE_SPEC = outside_dir("MUSTACHE_SPEC",
                            os.path.join("..", "shared", "mustache-spec"))
NO_MUSTACHE_SPEC = "MUSTACHE_SPEC not set and ../shared/mustache-spec absent"

TMP = tempfile.mkdtemp(prefix="nlsend-test.")
atexit.register(shutil.rmtree, TMP, True)
ENV = dict(os.environ, HOME=os.path.join(TMP, "home"),
           XDG_CONFIG_HOME=os.path.join(TMP, "home", ".config"),
           XDG_STATE_HOME=os.path.join(TMP, "home", ".state"))
os.makedirs(ENV["HOME"], exist_ok=True)

_n = 0
_failed = 0


def ok(cond, name, diag=None):
    global _n, _failed
    _n += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (_n, name))
    if not cond:
        _failed += 1
        if diag is not None:
            for line in str(diag).splitlines()[:20]:
                print("#   " + line)
    sys.stdout.flush()
    return cond


def is_(got, want, name):
    return ok(got == want, name, "got:  %r\nwant: %r" % (got, want))


def diag(msg):
    for line in str(msg).splitlines():
        print("# " + line)


def skip(reason):
    """One test that cannot run here, and why."""
    global _n
    _n += 1
    print("ok %d # SKIP %s" % (_n, reason))
    sys.stdout.flush()


def skip_all(reason):
    print("1..0 # SKIP " + reason)
    sys.exit(0)


def done():
    print("1..%d" % _n)
    sys.exit(1 if _failed else 0)
