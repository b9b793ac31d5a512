#!/bin/sh
# --check on a whole issue (the test issue always, the corpus issue when
# $NLSEND_CORPUS or ../shared/corpus is there), and every kind of bad
# input: its exit code and a FILE:LINE:COL message.
. "$NLSEND_TOP/tests/lib/tap.sh"

# checks_issue NAME ISSUE SUBJECT STATED MINUTES COMPUTED: --check's summary of a
# whole issue; then, with `words:` removed, the computed count is used and
# must equal an independent count made the spec's way (tests/lib/wordcount.py,
# via cmark).  COMPUTED is the exact count, or "" for any.
checks_issue() {
	lbl=$1 issue=$2 subject=$3 stated=$4 stated_mins=$5 computed_want=$6
	check_exit "--check on the $lbl issue" 0 "$NLSEND" --check "$issue"
	cp out check.out
	check_grep "$lbl: subject line" "^subject: $subject\$" check.out
	check_grep "$lbl: six sections" "^sections: 6\$" check.out
	check_grep "$lbl: computed and stated words" \
		"^words: ${computed_want:-[0-9]+} computed, $stated stated\$" check.out
	check_grep "$lbl: reading time from the stated count" "^reading time: $stated_mins min\$" check.out
	check_grep "$lbl: html size" "^html size: [0-9]+ bytes\$" check.out
	check_grep "$lbl: mailto-only unsubscribe warned" "^warning: .*one-click" check.out

	rm -rf nowords && mkdir nowords
	ln -s "$(dirname "$issue")/images" nowords/images
	grep -v '^words:' "$issue" > nowords/issue.yaml
	check_exit "$lbl: --check without words:" 0 "$NLSEND" --check nowords/issue.yaml
	computed=$(sed -n 's/^words: \([0-9]*\) computed$/\1/p' out)
	indep=$(/usr/bin/python3 "$NLSEND_TOP/tests/lib/wordcount.py" nowords/issue.yaml)
	echo "# $lbl: computed by nlsend: $computed, independent count: $indep"
	[ -n "$computed" ] && [ "$computed" = "$indep" ]
	ok $? "$lbl: computed count equals the independent count ($indep)"
	if [ -n "$computed_want" ]; then
		[ "$indep" = "$computed_want" ]
		ok $? "$lbl: the independent count is $computed_want too"
	fi
	mins=$(( (2 * indep + 250) / 500 )); [ "$mins" -lt 1 ] && mins=1
	check_grep "$lbl: reading time from the computed count" "^reading time: $mins min\$" out
}

checks_issue test "$ISSUE" \
	"Meridian Weekly: Trams on sunlight, a bridge's unlikely champion" 1380 6 1176
if [ -n "$AXIOS" ]; then
	checks_issue corpus "$AXIOS" \
		"Axios China: A democratic tech alliance, Tencent's new lobbyist" 1513 6 ""
else
	skip "$NO_CORPUS: --check on the corpus issue not run"
fi

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
