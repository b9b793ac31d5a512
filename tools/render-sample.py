#!/usr/bin/python3
"""render-sample.py - render an nlsend template with sample data (dev only).

For template authors: it renders a Mustache template with
python3-pystache (apt-get install python3-pystache), so the look of a
template can be iterated on before, or independently of, nlsend's own
engine.  nlsend itself never runs this; what nlsend sends is what its
C engine renders (`nlsend --preview` shows that).

    tools/render-sample.py [--data tools/sample-data.json] \
        [--set KEY=VALUE]... [--images DIR] [--text] [--strict] TEMPLATE [OUT]

--text      render without HTML escaping, as nlsend renders the text part,
            and warn on stderr about lines over 72 columns that hold no URL.
--set       override a value: a dotted path into the data, e.g.
            --set subscriber.name= or --set sections.0.image=false
            (VALUE "true"/"false" becomes a boolean).
--images    directory that relative image URLs are resolved against (as
            `nlsend --preview` links local images); default: the test
            issue's folder, tests/data/newsletter, which holds the sample's
            images/lighthouse.png.

Pitfall: pystache treats "" as false in sections, as the spec leaves to the
implementation; nlsend's engine must do the same for the built-in
templates' {{#author}}, {{#preheader}}, {{#credit}}... to work.
"""
import argparse
import json
import pathlib
import sys

try:
    import pystache
except ImportError:
    sys.exit("render-sample: needs python3-pystache (apt-get install -y "
             "python3-pystache) and /usr/bin/python3")

TOP = pathlib.Path(__file__).resolve().parent.parent


def set_path(data, dotted, value):
    keys = dotted.split(".")
    node = data
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    last = keys[-1]
    if value in ("true", "false"):
        value = value == "true"
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def resolve_images(data, base):
    for sec in data.get("sections", []):
        img = sec.get("image")
        if not img:
            continue
        url = img.get("url", "")
        if url and ":" not in url.split("/")[0]:
            img["url"] = (pathlib.Path(base) / url).resolve().as_uri()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("template")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--data", default=str(TOP / "tools" / "sample-data.json"))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--images",
                    default=str(TOP / "tests" / "data" / "newsletter"))
    ap.add_argument("--text", action="store_true")
    ap.add_argument("--strict", action="store_true",
                    help="fail on a tag the data lacks (catches typos; "
                    "optional fields such as image.caption_text fail too)")
    a = ap.parse_args()

    with open(a.data, encoding="utf-8") as f:
        data = json.load(f)
    for kv in a.set:
        k, _, v = kv.partition("=")
        set_path(data, k, v)
    resolve_images(data, a.images)
    with open(a.template, encoding="utf-8") as f:
        tpl = f.read()

    kw = {"missing_tags": "strict" if a.strict else "ignore"}
    if a.text:
        kw["escape"] = lambda s: s
    out = pystache.Renderer(**kw).render(tpl, data)

    if a.text:
        for n, line in enumerate(out.split("\n"), 1):
            if len(line) > 72 and "://" not in line and "mailto:" not in line:
                print(f"{a.template}: output line {n}: {len(line)} columns",
                      file=sys.stderr)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(out)
    else:
        sys.stdout.write(out)


if __name__ == "__main__":
    main()
