#!/usr/bin/python3
# The architecture as a test: which folder may include which (README,
# "Design"), no include circle between files, no header from outside its
# folder's layer, and nothing but state/ speaks SQLite.
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from taplib import TOP, ok, done  # noqa: E402

# Each folder and the folders it may include (util/ is below everything).
ALLOWED = {
    "util": set(),
    "compose": {"util"},
    "lists": {"util"},
    "state": {"util"},
    "mime": {"util"},
    "templates": {"util", "compose", "lists"},
    "campaign": {"util", "compose", "templates", "mime", "lists", "state"},
    "send": {"util", "lists", "state"},
    "cli": None,    # the top: wires everything
}
INC = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([^"]+)"', re.M)

graph = {}
for folder in sorted(ALLOWED):
    d = os.path.join(TOP, folder)
    for name in sorted(os.listdir(d)):
        if not name.endswith((".c", ".h")):
            continue
        path = folder + "/" + name
        with open(os.path.join(d, name), encoding="utf-8") as f:
            text = f.read()
        incs = INC.findall(text)
        graph[path] = [a + "/" + b for a, b in incs if b.endswith(".h")]
        bad = sorted({a for a, _ in incs
                      if a != folder and ALLOWED[folder] is not None
                      and a not in ALLOWED[folder]})
        ok(not bad, "%s includes only what its layer may" % path,
           "includes from: " + ", ".join(bad))
        if folder != "state" and "<sqlite3.h>" in text:
            ok(False, "%s: only state/ speaks SQLite" % path)

# Circles between files (through headers).
state = {}
circle = []


def visit(node, stack):
    state[node] = 1
    stack.append(node)
    for nxt in graph.get(node, []):
        if state.get(nxt) == 1 and not circle:
            circle.extend(stack[stack.index(nxt):] + [nxt])
        elif nxt in graph and not state.get(nxt):
            visit(nxt, stack)
    stack.pop()
    state[node] = 2


for n in sorted(graph):
    if not state.get(n):
        visit(n, [])
ok(not circle, "no include circle", " -> ".join(circle))
done()
