#!/usr/bin/python3
"""scan-check.py REPORTDIR KNOWN - fail on scan-build findings not in KNOWN.

Reads the HTML reports scan-build wrote under REPORTDIR (their BUGFILE,
FUNCTIONNAME and BUGTYPE comments) and the tab-separated list KNOWN
(mk/scan-build.known: FILE, FUNCTION, BUG TYPE, each explained there).
Prints every finding; exits 1 when one is not listed.  Listed findings
that no longer occur are reported (not an error) so the list can shrink.
"""
import glob
import os
import re
import sys


def meta(text, key):
    m = re.search(r'<!-- %s (.*?) -->' % key, text)
    return m.group(1) if m else '?'


def main():
    rdir, known_path = sys.argv[1], sys.argv[2]
    top = os.getcwd() + '/'
    known = set()
    with open(known_path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if line and not line.startswith('#'):
                known.add(tuple(line.split('\t')))
    found = []
    for path in sorted(glob.glob(os.path.join(rdir, '**', 'report-*.html'),
                                 recursive=True)):
        with open(path, encoding='utf-8', errors='replace') as f:
            text = f.read()
        bugfile = meta(text, 'BUGFILE')
        if bugfile.startswith(top):
            bugfile = bugfile[len(top):]
        found.append(((bugfile, meta(text, 'FUNCTIONNAME'),
                       meta(text, 'BUGTYPE')), meta(text, 'BUGLINE'), path))
    new = 0
    for key, line, path in found:
        if key in known:
            print('known: %s:%s: %s (in %s)' % (key[0], line, key[2], key[1]))
        else:
            new += 1
            print('NEW:   %s:%s: %s (in %s)\n       %s'
                  % (key[0], line, key[2], key[1], path))
    for key in sorted(known - {k for k, _, _ in found}):
        print('gone:  %s: %s (in %s): drop it from %s'
              % (key[0], key[2], key[1], known_path))
    print('scan-build: %d findings, %d known, %d new'
          % (len(found), len(found) - new, new))
    return 1 if new else 0


if __name__ == '__main__':
    sys.exit(main())
