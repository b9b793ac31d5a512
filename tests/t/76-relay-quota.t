#!/bin/sh
# Per-relay quotas, counted from the journal across runs: never exceeded,
# not by one run nor by two; the rest waits for the next day; --check
# prints the relays and their quotas left and warns when they fall short
# of the list.
. "$NLSEND_TOP/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
. "$NLSEND_TOP/tests/lib/relays.sh"
need_servers

N=1000
make_issue issue.yaml
make_list list.txt $N
sink_relay a && sink_relay b || skip_all "smtp-sink did not start"
relay_conf cfg.yaml a "quota: 300/day; concurrency: 4" b "quota: 200/day; weight: 3"
send() {
	"$NLSEND" issue.yaml --list list.txt --config cfg.yaml --tls=no \
		--state st.db --no-progress
}

check_exit "--check" 0 "$NLSEND" --check issue.yaml --list list.txt \
	--config cfg.yaml --state st.db
check_grep "--check: relay a and its quota left" \
	"^relay: a smtp://127.0.0.1:$PORT_a, quota 300/day, 300 left\$" "$TMP/out"
check_grep "--check: relay b" "^relay: b .*quota 200/day, 200 left\$" "$TMP/out"
check_grep "--check: the quotas fall short of the list" \
	"warning: the relays' quotas left today \(500\) are less than the recipients \(1,000\): the rest waits for tomorrow" \
	"$TMP/out"

check_exit "the first run sends what the quotas allow" 75 send
check_eq "a: its quota, no more" "$(count_in a)" 300
check_eq "b: its quota, no more" "$(count_in b)" 200
check_grep "it says why it stopped" "quota" "$TMP/err"
check_exit "a second run the same day" 75 send
check_eq "a: still 300" "$(count_in a)" 300
check_eq "b: still 200" "$(count_in b)" 200

NLSEND_NOW=2026-01-03T06:01:00Z
export NLSEND_NOW
check_exit "--check the next day: the quotas are back" 0 "$NLSEND" --check \
	issue.yaml --list list.txt --config cfg.yaml --state st.db
check_grep "--check: a's quota left" "^relay: a .*, 300 left\$" "$TMP/out"
check_exit "the next day: the rest" 0 send
check_eq "a: a day's quota more" "$(count_in a)" 600
check_eq "b: a day's quota more" "$(count_in b)" 400
check_exit "once more that day: nothing left to send" 0 send
check_grep "nothing sent" "sent 0, .*skipped 1,000 \(already sent\)" "$TMP/err"
stop_pid "$PID_a"
stop_pid "$PID_b"
check_eq "every recipient exactly once" \
	"$($MAILCHECK count-many list.txt sink-a sink-b)" \
	"received $N, lost 0, duplicates 0, strangers 0"
check_eq "the journal agrees with the sinks (a)" "$(relay_rows st.db a)" "$(count_in a)"
done_testing
