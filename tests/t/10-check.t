#!/bin/sh
# --check on the corpus issue, and every kind of bad input: its exit code
# and a FILE:LINE:COL message (issue 2).
. "$NLSEND_TOP/tests/lib/tap.sh"

check_exit "--check on the corpus issue" 0 "$NLSEND" --check "$AXIOS"
cp out check.out
check_grep "subject line" "^subject: Axios China: A democratic tech alliance, Tencent's new lobbyist$" check.out
check_grep "six sections" "^sections: 6$" check.out
check_grep "computed and stated words" "^words: [0-9]+ computed, 1513 stated$" check.out
check_grep "reading time from the stated count" "^reading time: 6 min$" check.out
check_grep "html size" "^html size: [0-9]+ bytes$" check.out
check_grep "mailto-only unsubscribe warned" "^warning: .*one-click" check.out

# With `words:` removed the computed count is used, and it must equal an
# independent count made the spec's way (tests/lib/wordcount.py, via cmark).
mkdir nowords
ln -s "$CORPUS/images" nowords/images
grep -v '^words:' "$AXIOS" > nowords/issue.yaml
check_exit "--check without words:" 0 "$NLSEND" --check nowords/issue.yaml
computed=$(sed -n 's/^words: \([0-9]*\) computed$/\1/p' out)
indep=$(/usr/bin/python3 "$NLSEND_TOP/tests/lib/wordcount.py" nowords/issue.yaml)
echo "# computed by nlsend: $computed, independent count: $indep"
[ -n "$computed" ] && [ "$computed" = "$indep" ]; ok $? "computed count equals the independent count ($indep)"
mins=$(( (2 * indep + 250) / 500 )); [ "$mins" -lt 1 ] && mins=1
check_grep "reading time from the computed count" "^reading time: $mins min$" out

check_exit "missing issue file" 66 "$NLSEND" --check no-such.yaml
check_grep "missing file named" "^nlsend: no-such.yaml: " err

base() {	# a valid issue of our own, with one line replaced by $1
	cat <<'YAML'
newsletter: Test Weekly
date: 2026-01-02
from: "Test Weekly <test@example.org>"
subject: "A plain subject"
sections:
  - title: "First story"
    body: |
      Some words here.
YAML
}
base > good.yaml
check_exit "a minimal valid issue" 0 "$NLSEND" --check good.yaml

printf 'newsletter: "unterminated\ndate: 2026-01-02\nsections: []\n' > bad1.yaml
check_exit "malformed YAML" 65 "$NLSEND" --check bad1.yaml
check_grep "malformed YAML reported where it starts" "^nlsend: bad1.yaml:1:[0-9]+: " err

base | sed 's/^subject:/subjet:/' > bad2.yaml
check_exit "unknown key" 65 "$NLSEND" --check bad2.yaml
check_grep "unknown key at its place" "^nlsend: bad2.yaml:4:1: .*subjet" err

base | sed 's/^date: .*/date: [2026, 1, 2]/' > bad3.yaml
check_exit "wrong type" 65 "$NLSEND" --check bad3.yaml
check_grep "wrong type at the value" "^nlsend: bad3.yaml:2:[0-9]+: " err

base | grep -v '^newsletter:' > bad4.yaml
check_exit "missing required key" 65 "$NLSEND" --check bad4.yaml
check_grep "missing key named" "^nlsend: bad4.yaml:[0-9]+:[0-9]+: .*newsletter" err

base | sed '/^sections:/,$d' > bad5.yaml
echo "sections: []" >> bad5.yaml
check_exit "no sections" 65 "$NLSEND" --check bad5.yaml
check_grep "no sections at its place" "^nlsend: bad5.yaml:[0-9]+:[0-9]+: .*section" err

base | sed 's/Some words here./Some w\xffrds here./' > bad6.yaml
check_exit "invalid UTF-8" 65 "$NLSEND" --check bad6.yaml
check_grep "invalid UTF-8 with byte offset" "^nlsend: bad6.yaml:8:13: invalid UTF-8 \(byte offset [0-9]+\)" err

base | sed 's/^subject: .*/subject: "Hello\\r\\nBcc: victim@example.com"/' > bad7.yaml
check_exit "CR LF in subject" 65 "$NLSEND" --check bad7.yaml
check_grep "subject line break named" "^nlsend: bad7.yaml:4:[0-9]+: .*subject" err

base | sed 's/^from: .*/from: "Test <test@example.org>\\nBcc: victim@example.com"/' > bad8.yaml
check_exit "LF in from" 65 "$NLSEND" --check bad8.yaml
check_grep "from line break named" "^nlsend: bad8.yaml:3:[0-9]+: .*from" err

# A 5 MB body composes (no quadratic blow-up): 100,000 short paragraphs.
base > big.yaml
/usr/bin/python3 -c '
import sys
sys.stdout.write("".join("      Paragraph %d has **bold** words and a [link](https://example.org/%d).\n\n" % (i, i) for i in range(70000)))' >> big.yaml
size=$(wc -c < big.yaml)
echo "# big.yaml is $size bytes"
check_exit "a 5 MB body composes" 0 timeout 60 "$NLSEND" --check big.yaml
check_grep "its words are counted" "^words: [0-9]{6} computed$" out

done_testing
