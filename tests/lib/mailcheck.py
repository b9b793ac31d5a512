#!/usr/bin/python3
"""What did the test servers receive?  For tests/t/40-send-*.t.

  mailcheck.py count-sink SINKDIR LIST
      smtp-sink dumps (one file per message, "X-Rcpt-Args: <addr>"):
      prints "received R, lost L, duplicates D, strangers S" where lost are
      LIST addresses never received, duplicates the extra copies, strangers
      messages to addresses not in LIST.  Exit 0.
  mailcheck.py count-smtpd DIR LIST
      the same for tests/lib/smtpd.py's log (messages whose reply the
      client saw: "late" ones are left out).
  mailcheck.py count-many LIST DIR...
      the same over several servers together (each DIR an smtp-sink dump
      directory, or tests/lib/smtpd.py's when it holds log.jsonl): a
      recipient received by two of them is a duplicate.
  mailcheck.py sink-vs-mbox SINKDIR MBOX LIST
      every LIST address received exactly once, and each message equal to
      the one --dry-run wrote for that address, byte for byte once both
      are in the same framing: smtp-sink stores LF line ends with the
      dot-stuffing undone and adds its own header lines and a final empty
      line; the mboxrd has a "From " separator, LF line ends, ">From "
      quoting and a final empty line.  Prints a summary; exit 1 on any
      difference (the first ones are shown).
"""
import email.utils
import json
import os
import re
import sys


def list_addrs(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(email.utils.parseaddr(line)[1].lower())
    return out


def sink_messages(d):
    """(rcpt, message bytes with LF) for every dump in d."""
    for name in sorted(os.listdir(d)):
        path = os.path.join(d, name)
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        m = re.search(rb"^X-Rcpt-Args: <([^>]*)>", data, re.M)
        r = re.search(rb"^Received: .*\n\t.*\n\t.*\n", data, re.M)
        if not m or not r:
            yield None, data
            continue
        body = data[r.end():]
        if body.endswith(b"\n\n"):
            body = body[:-1]            # smtp-sink's final empty line
        yield m.group(1).decode().lower(), body


def smtpd_messages(d):
    with open(os.path.join(d, "log.jsonl"), encoding="utf-8") as f:
        for line in f:
            ev = json.loads(line)
            if ev.get("ev") == "message" and not ev.get("late"):
                yield [a.lower() for a in ev["rcpt"]]


def mbox_messages(path):
    """{rcpt: message bytes with LF} from an mboxrd."""
    with open(path, "rb") as f:
        data = f.read()
    out = {}
    msgs = re.split(rb"(?m)^From [^\n]*\n", data)
    if msgs and msgs[0] == b"":
        msgs = msgs[1:]
    for m in msgs:
        if m.endswith(b"\n\n"):
            m = m[:-1]                  # the separating empty line
        m = re.sub(rb"(?m)^>(>*From )", rb"\1", m)
        hdr = m.split(b"\n\n", 1)[0]
        to = re.search(rb"(?mi)^To:(.*(?:\n[ \t].*)*)", hdr)
        addrs = email.utils.getaddresses([to.group(1).decode("utf-8", "replace")]) if to else []
        if len(addrs) != 1:
            out.setdefault(None, []).append(m)
            continue
        out[addrs[0][1].lower()] = m
    return out


def counts(rcpts, want):
    seen = {}
    strangers = 0
    total = 0
    for r in rcpts:
        total += 1
        if r in want:
            seen[r] = seen.get(r, 0) + 1
        else:
            strangers += 1
    lost = sum(1 for a in want if a not in seen)
    dups = sum(n - 1 for n in seen.values())
    return total, lost, dups, strangers


def main(argv):
    if len(argv) >= 4 and argv[1] == "count-sink":
        want = set(list_addrs(argv[3]))
        t, l, d, s = counts((r for r, _ in sink_messages(argv[2])), want)
    elif len(argv) >= 4 and argv[1] == "count-smtpd":
        want = set(list_addrs(argv[3]))
        rc = []
        for rs in smtpd_messages(argv[2]):
            rc.extend(rs)
        t, l, d, s = counts(rc, want)
    elif len(argv) >= 4 and argv[1] == "count-many":
        want = set(list_addrs(argv[2]))
        rc = []
        for d in argv[3:]:
            if os.path.exists(os.path.join(d, "log.jsonl")):
                for rs in smtpd_messages(d):
                    rc.extend(rs)
            else:
                rc.extend(r for r, _ in sink_messages(d))
        t, l, d, s = counts(rc, want)
    elif len(argv) >= 5 and argv[1] == "sink-vs-mbox":
        want = list_addrs(argv[4])
        mbox = mbox_messages(argv[3])
        got = {}
        strangers = 0
        for r, m in sink_messages(argv[2]):
            if r is None:
                strangers += 1
            got.setdefault(r, []).append(m)
        lost = [a for a in want if a not in got]
        dups = sum(len(v) - 1 for k, v in got.items() if k)
        nombox = [a for a in want if a not in mbox]
        differ = [a for a in want if a in got and a in mbox
                  and any(m != mbox[a] for m in got[a])]
        print("received %d, lost %d, duplicates %d, not in the mbox %d, "
              "differing %d, unparsable %d" % (
                  sum(len(v) for v in got.values()), len(lost), dups,
                  len(nombox), len(differ), strangers))
        for a in differ[:2]:
            g, w = got[a][0], mbox[a]
            i = next((k for k in range(min(len(g), len(w))) if g[k] != w[k]),
                     min(len(g), len(w)))
            print("# %s differs at byte %d: sent %r, mbox %r" % (
                a, i, g[max(0, i - 30):i + 30], w[max(0, i - 30):i + 30]))
        bad = lost or dups or nombox or differ or strangers
        return 1 if bad else 0
    else:
        sys.stderr.write(__doc__)
        return 2
    print("received %d, lost %d, duplicates %d, strangers %d" % (t, l, d, s))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
