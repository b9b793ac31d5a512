"""TAP for nlsend's Python tests: ok(), is_(), done(); paths from the
environment the Makefile sets (NLSEND, NLSEND_TOP, SHARED, B)."""
import os
import shutil
import sys
import tempfile
import atexit

TOP = os.environ.get("NLSEND_TOP") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
NLSEND = os.environ.get("NLSEND") or os.path.join(TOP, "build", "nlsend")
SHARED = os.environ.get("SHARED") or os.path.join(TOP, "..", "shared")
CORPUS = os.path.join(SHARED, "corpus")
AXIOS = os.path.join(CORPUS, "2020-09-15-axios-china.yaml")

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


def skip_all(reason):
    print("1..0 # SKIP " + reason)
    sys.exit(0)


def done():
    print("1..%d" % _n)
    sys.exit(1 if _failed else 0)
