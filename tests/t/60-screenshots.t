#!/bin/sh
# 60-screenshots.t - render a whole issue with `nlsend --preview` and
# photograph it in headless Chromium at desktop (600 px, the column width)
# and phone (375 px) widths: the test issue always, the corpus issue too
# when $NLSEND_CORPUS (or ../shared/corpus) is there.  The PNGs stay in
# $B/screenshots (the corpus issue's in $B/screenshots/corpus) for a human
# to look at; the test checks what a machine can: the preview holds the six
# section headings and the metadata line, the text part keeps to 72 columns,
# both parts carry the unsubscribe link, and each screenshot is a real,
# non-blank PNG of the requested size.
#
# Env (set by `make check`): NLSEND, NLSEND_TOP, B, NLSEND_CORPUS.
# CHROMIUM overrides the browser (default: chromium on PATH, then
# /usr/bin/chromium).
. "$NLSEND_TOP/tests/lib/tap.sh"

PY=/usr/bin/python3
HEIGHT=3000
WIDTHS="600 375"
CHROMIUM=${CHROMIUM:-$(command -v chromium 2>/dev/null || echo /usr/bin/chromium)}

diag() {
	sed 's/^/# /' "$@" >&2
}

# The content checks: one python run prints "ok"/"not ok LABEL: why" per
# check in a fixed order, so the count stays fixed even when the preview
# failed.
cat > "$TMP/content.py" <<'EOF'
import html, re, sys
from html.parser import HTMLParser

# argv: preview.html preview.txt HEADINGS-FILE META BIG
with open(sys.argv[3], encoding="utf-8") as f:
    HEADINGS = [line.rstrip("\n") for line in f if line.strip()]
META = sys.argv[4]
BIG = sys.argv[5]

def norm(s):
    return " ".join(s.split())

def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as e:
        return None

class Page(HTMLParser):
    """Collects the text of <h2> elements, all visible text, and links."""
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.h2, self.text, self.hrefs = [], [], []
        self.in_h2 = self.hidden = 0
        self.skip = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("style", "title", "script"):
            self.skip += 1
        if tag == "h2":
            self.in_h2 = 1
            self.h2.append("")
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
    def handle_endtag(self, tag):
        if tag in ("style", "title", "script"):
            self.skip -= 1
        if tag == "h2":
            self.in_h2 = 0
    def handle_data(self, d):
        if self.skip:
            return
        self.text.append(d)
        if self.in_h2:
            self.h2[-1] += d

def report(label, why):
    print("ok" if not why else f"not ok {label}: {why}")

page_src, text = read(sys.argv[1]), read(sys.argv[2])
if page_src is None or text is None:
    for label in ("headings", "big thing", "meta line", "text part",
                  "72 columns", "unsubscribe"):
        report(label, "no preview to check")
    sys.exit(0)

p = Page()
p.feed(page_src)
h2 = [norm(h) for h in p.h2]
visible = norm(" ".join(p.text))
report("headings", None if h2 == HEADINGS else f"h2 elements are {h2!r}")
report("big thing", None if BIG in visible
       else f"no {BIG!r} in the page text")
report("meta line", None if META in visible else f"no {META!r} in the page text")

flat = norm(text)
missing = [h for h in HEADINGS + [META] if h not in flat]
report("text part", f"missing {missing!r}" if missing else None)

# Lines hold at most 72 columns (characters, not bytes) unless they carry
# a URL, which must not be broken.
long = [(i, l) for i, l in enumerate(text.split("\n"), 1)
        if len(l) > 72 and not re.search(r"(https?://|mailto:|cid:)", l)]
report("72 columns", "; ".join(f"line {i} has {len(l)}: {l[:40]}..."
                               for i, l in long[:3]) or None)

# Both parts give the same per-recipient unsubscribe link, and it is real.
m = re.search(r"^Unsubscribe: (\S+)$", text, re.M)
url = m.group(1) if m else None
why = None
if not url:
    why = "no 'Unsubscribe: URL' line in the text part"
elif not re.match(r"(https://|mailto:)", url):
    why = f"unsubscribe URL {url!r} is neither https: nor mailto:"
elif url not in p.hrefs:
    why = f"the HTML part has no link to {url!r}"
report("unsubscribe", why)
EOF

cat > "$TMP/blank.py" <<'EOF'
# A blank page (the browser showing nothing) is one colour, so its
# scanlines, once inflated, repeat.  Count distinct scanlines instead of
# decoding pixels: cheap, and a page of text has hundreds.
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
pos, idat = 8, b""
while pos + 8 <= len(d):
    ln, typ = struct.unpack(">I4s", d[pos:pos + 8])
    if typ == b"IDAT":
        idat += d[pos + 8:pos + 8 + ln]
    pos += 12 + ln
try:
    raw = zlib.decompress(idat)
except zlib.error as e:
    print(f"image data does not inflate: {e}")
    sys.exit()
w, h, depth, ctype = struct.unpack(">IIBB", d[16:26])
bpp = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype, 4) * depth // 8
stride = w * bpp + 1
if len(raw) != stride * h:
    print(f"image data holds {len(raw)} bytes, want {stride * h}")
    sys.exit()
rows = {raw[i:i + stride] for i in range(0, len(raw), stride)}
if len(rows) < 100:
    print(f"looks blank: {len(rows)} distinct scanlines")
EOF

# shoots NAME ISSUE OUT HEADINGS META BIG: HEADINGS is a file of the six
# expected headings, META the metadata line, BIG the start of the first
# (labelled) story's heading.  11 tests.
shoots() {
	lbl=$1 issue=$2 OUT=$3 headings=$4 meta=$5 big=$6
	mkdir -p "$OUT" || exit 1
	rm -f "$OUT/preview.html" "$OUT/preview.txt" "$OUT"/screenshot-*.png
	# Hermetic: no stray ./nlsend.yaml or user config, state kept in TMP
	# (tap.sh).
	"$NLSEND" --preview "$issue" --html "$OUT/preview.html" \
		--text "$OUT/preview.txt" >"$TMP/preview.out" 2>"$TMP/preview.err"
	rc=$?
	[ $rc -eq 0 ] && [ -s "$OUT/preview.html" ] && [ -s "$OUT/preview.txt" ]
	st=$?
	ok $st "$lbl: nlsend --preview writes the HTML and text parts (exit $rc)"
	[ $st -eq 0 ] || diag "$TMP/preview.err"

	$PY "$TMP/content.py" "$OUT/preview.html" "$OUT/preview.txt" "$headings" \
		"$meta" "$big" >"$TMP/content" 2>&1
	i=0
	for label in "the HTML part has the six section headings as <h2>, in order" \
		"the page shows the labelled first story's heading" \
		"the page shows the metadata line" \
		"the text part has the six headings and the metadata line" \
		"the text part keeps to 72 columns except URLs" \
		"both parts link the same https/mailto unsubscribe URL"; do
		i=$((i + 1))
		line=$(sed -n "${i}p" "$TMP/content")
		case $line in
		ok) ok 0 "$lbl: $label" ;;
		*)	ok 1 "$lbl: $label"
			echo "# ${line:-python produced no result}" >&2 ;;
		esac
	done
	grep -q '^Traceback' "$TMP/content" && diag "$TMP/content"

	# Screenshots.
	if [ ! -x "$CHROMIUM" ]; then
		for w in $WIDTHS; do
			skip "chromium not installed (apt-get install chromium): no $w px screenshot"
			skip "chromium not installed: no $w px PNG to check"
		done
		return
	fi
	for w in $WIDTHS; do
		png="$OUT/screenshot-$w.png"
		if [ ! -s "$OUT/preview.html" ]; then
			# Chromium would happily photograph its own error page.
			ok 1 "$lbl: no preview.html to photograph at $w px"
			ok 1 "$lbl: no $w px PNG to check"
			continue
		fi
		prof=$(mktemp -d "$TMP/chromium.XXXXXX")
		# The resolver rule keeps the run off the network: remote images
		# (images.example.com) fail at once instead of waiting on DNS.
		timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
			--disable-quic --no-first-run --disable-background-networking \
			--disable-component-update --disable-sync \
			--host-resolver-rules='MAP * ~NOTFOUND' \
			--user-data-dir="$prof" --hide-scrollbars \
			--screenshot="$png" --window-size="$w,$HEIGHT" \
			"file://$OUT/preview.html" >"$TMP/chromium-$w.log" 2>&1
		rc=$?
		[ $rc -eq 0 ] && [ -s "$png" ]
		st=$?
		msg="exit $rc"
		[ $rc -eq 124 ] && msg="timed out after 60 s"
		ok $st "$lbl: chromium writes a $w px screenshot ($msg)"
		[ $st -eq 0 ] || tail -n 5 "$TMP/chromium-$w.log" | diag

		# PNG: the 8-byte signature, then the IHDR chunk whose first fields are
		# width and height, 4 bytes each, big-endian (PNG spec, 11.2.2).
		sig=$(od -An -tu1 -N8 "$png" 2>/dev/null | tr -s ' ' | sed 's/^ //;s/ $//')
		typ=$(od -An -c -j12 -N4 "$png" 2>/dev/null | tr -d ' ')
		set -- $(od -An -tu1 -j16 -N8 "$png" 2>/dev/null) 0 0 0 0 0 0 0 0
		pw=$(( ($1 << 24) | ($2 << 16) | ($3 << 8) | $4 ))
		ph=$(( ($5 << 24) | ($6 << 16) | ($7 << 8) | $8 ))
		why=
		if [ "$sig" != "137 80 78 71 13 10 26 10" ]; then
			why="not a PNG (signature: ${sig:-none})"
		elif [ "$typ" != IHDR ]; then
			why="first chunk is '$typ', not IHDR"
		elif [ $pw -ne "$w" ] || [ $ph -ne $HEIGHT ]; then
			why="PNG is ${pw}x$ph, want ${w}x$HEIGHT"
		else
			why=$($PY "$TMP/blank.py" "$png")
		fi
		ok $([ -z "$why" ]; echo $?) "$lbl: $w px screenshot is a ${w}x$HEIGHT PNG with content${why:+ ($why)}"
	done
}

cat > test.headings <<'EOF'
1 big thing: How Port Aster plans to run every one of its trams on sunlight by 2030
2. The harbour pilot who fought the new bridge for a decade now chairs its opening committee
3. Catch up quick
4. Night ferries return to the islands after a quiet winter
5. What I'm reading
6. 1 bright thing
EOF
shoots test "$ISSUE" "$B/screenshots" test.headings \
	"This newsletter is 1,380 words, a 6-minute read." "1 big thing: How Port Aster"

if [ -n "$AXIOS" ]; then
	cat > corpus.headings <<'EOF'
1 big thing: How democracies can push back on China's growing tech dominance
2. Ed Royce, once an outspoken critic of Vietnam's Communist Party, is now lobbying for Tencent
3. Catch up quick
4. Chinese hacking group moves on from targeting COVID intelligence
5. What I'm reading
6. 1 piano thing
EOF
	shoots corpus "$AXIOS" "$B/screenshots/corpus" corpus.headings \
		"This newsletter is 1,513 words, a 6-minute read." "1 big thing: How democracies"
else
	skip "$NO_CORPUS: the corpus issue not photographed"
fi
done_testing
