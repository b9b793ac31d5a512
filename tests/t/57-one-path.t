#!/bin/sh
# What the preview shows is what is sent: --preview, --check and --test see
# the same subscriber fields as a dry run and a send, the extra list
# columns included.
. "$NLSEND_TOP/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
need_servers

make_issue issue.yaml
mkdir -p tpl
cp "$NLSEND_TOP/templates/default/text.mustache" tpl/
sed 's#<body[^>]*>#&<p id="city">City: {{subscriber.city}}</p>#' \
	"$NLSEND_TOP/templates/default/html.mustache" > tpl/html.mustache
grep -q 'id="city"' tpl/html.mustache || skip_all "the html template has no <body>"
printf 'template: tpl\n' | cat - issue.yaml > i.yaml
printf 'email,name,city\nada@example.org,Ada,Bergen\nbob@example.org,Bob,Oslo\n' \
	> list.csv

check_exit "--preview" 0 "$NLSEND" --preview i.yaml --list list.csv \
	--html p.html --text p.txt
check_grep "the preview has the first row's column" 'City: Bergen' p.html
check_exit "--check" 0 "$NLSEND" --check i.yaml --list list.csv
check_exit "--dry-run" 0 "$NLSEND" i.yaml --list list.csv --dry-run d.mbox
/usr/bin/python3 - d.mbox > dry.txt <<'PY'
import mailbox, sys
for m in mailbox.mbox(sys.argv[1]):
    for part in m.walk():
        if part.get_content_type() == "text/html":
            print(part.get_payload(decode=True).decode())
PY
check_grep "the dry run has it" 'City: Bergen' dry.txt
start_sink sink || skip_all "smtp-sink did not start"
check_exit "--test" 0 "$NLSEND" i.yaml --list list.csv --test me@example.net \
	--smtp "smtp://127.0.0.1:$SINK_PORT" --tls=no --no-progress
stop_pid "$SINK_PID"
cat sink/* > test.eml 2>/dev/null
/usr/bin/python3 - test.eml > test.txt <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for part in m.walk():
    if part.get_content_type() == "text/html":
        print(part.get_payload(decode=True).decode())
PY
check_grep "--test has the first row's column" 'City: Bergen' test.txt
done_testing
