#!/bin/sh
# A row that cannot be composed (a display name too long for a header) is
# a bad row like those the lists skip: reported FILE:LINE, skipped, the
# rest sent; --check warns about it and about every skipped list row, on
# stdout after the counts.
. "$NLSEND_TOP/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
need_servers

make_issue issue.yaml
long=$(/usr/bin/python3 -c 'print("N" * 1200)')
{
	echo "email,name"
	echo "ada@example.org,Ada"
	echo "long@example.org,$long"
	echo "not-an-address,Nobody"
	echo "bob@example.org,Bob"
} > list.csv

check_exit "a dry run goes past the row" 0 "$NLSEND" issue.yaml --list list.csv \
	--dry-run d.mbox
check_grep "the row is reported with its place" "list.csv:3: the display name is longer than 900 bytes" "$TMP/err"
n=$(grep -c '^From ' d.mbox)
check_eq "the other two are written" "$n" 2
check_grep "the summary counts it as a bad row" "skipped 2 bad rows" "$TMP/err"

check_exit "--check" 0 "$NLSEND" --check issue.yaml --list list.csv
check_grep "recipients: the composable ones" "^recipients: 2$" "$TMP/out"
check_grep "a warning for the row that cannot be composed" \
	"^warning: list.csv:3: the display name is longer than 900 bytes" "$TMP/out"
check_grep "a warning for the list's bad row, on stdout" \
	"^warning: list.csv:4: 'not-an-address': not an address" "$TMP/out"
awk '/^warning:/ {w = 1} /^(subject|recipients|html size):/ && w {bad = 1}
	END {exit bad}' "$TMP/out"
ok $? "warnings come after the counts"

start_sink sink || skip_all "smtp-sink did not start"
check_exit "a send goes past the row" 0 "$NLSEND" issue.yaml --list list.csv \
	--smtp "smtp://127.0.0.1:$SINK_PORT" --tls=no --state st.db --no-progress
check_grep "it is reported" "list.csv:3: the display name is longer than 900 bytes" "$TMP/err"
check_grep "the summary" "sent 2, failed 0, deferred 0" "$TMP/err"
stop_pid "$SINK_PID"
check_eq "the sink has the other two" "$(ls sink | wc -l)" 2
# A column a template may put in an href is a URL like any other.
printf 'email,name,site\nada@example.org,Ada,https://ada.example.org/\nx@example.org,X,"  JavaScript:alert(1)"\nd@example.org,D,data: five items\n' > cols.csv
check_exit "a column holding a javascript: URL" 0 "$NLSEND" issue.yaml \
	--list cols.csv --dry-run cols.mbox
check_grep "its row is skipped and said why" \
	"cols.csv:3: column 'site': a URL a mail client must not follow" "$TMP/err"
check_eq "text that starts with data: is no URL" "$(grep -c '^From ' cols.mbox)" 2
done_testing
