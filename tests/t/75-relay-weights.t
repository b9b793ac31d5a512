#!/bin/sh
# Several healthy relays share a send by their weights (within 5% on
# 10,000 recipients), each recipient exactly once; the journal records
# which relay took each message; --relay restricts a run; --status reads
# the journal back by relay; the run log has a line per relay.
. "$NLSEND_TOP/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
. "$NLSEND_TOP/tests/lib/relays.sh"
need_servers

N=10000
make_issue issue.yaml
make_list list.txt $N
sink_relay a && sink_relay b && sink_relay c || skip_all "smtp-sink did not start"
relay_conf cfg.yaml a "weight: 1" b "weight: 2" c "weight: 2"

check_exit "three relays, weights 1:2:2" 0 "$NLSEND" issue.yaml --list list.txt \
	--config cfg.yaml --tls=no --state st.db --no-progress
for r in a b c; do
	eval "stop_pid \$PID_$r"
done
check_eq "every recipient exactly once across the three" \
	"$($MAILCHECK count-many list.txt sink-a sink-b sink-c)" \
	"received $N, lost 0, duplicates 0, strangers 0"
for r in a:2000 b:4000 c:4000; do
	name=${r%:*} want=${r#*:}
	got=$(count_in "$name")
	near "$got" "$want" 5
	ok $? "relay $name took $got, within 5% of its share $want"
	check_eq "the journal says $name took them" "$(relay_rows st.db "$name")" "$got"
	check_grep "the run's line for $name" \
		"relay $name: sent $(commas "$got"), deferred 0, failed 0, throttled 0 times, down 0 s" \
		"$TMP/err"
done

"$NLSEND" --status issue.yaml --config cfg.yaml --state st.db > status.out 2> "$TMP/err"
ok $? "--status (exit 0)"
check_grep "--status: the sent count" "^sent: $N\$" status.out
check_grep "--status: nothing in flight" "^in flight: 0\$" status.out
check_grep "--status: a line per relay" "^relay a: sent $(count_in a), deferred 0" status.out
check_grep "--status: the first message's time" "^first: 2026-01-02T06:00:00Z" status.out

# --relay b: a second issue through b only.
sed 's/^subject: .*/subject: "Second issue"/; s/^date: .*/date: 2026-01-03/' \
	issue.yaml > second.yaml
make_list short.txt 300
mv sink-a sink-a.old
mv sink-b sink-b.old
sink_relay a && sink_relay b || skip_all "smtp-sink did not start"
relay_conf cfg2.yaml a "weight: 1" b "weight: 1"
check_exit "--relay b" 0 "$NLSEND" second.yaml --list short.txt --config cfg2.yaml \
	--tls=no --state st.db --no-progress --relay b
stop_pid "$PID_a"
stop_pid "$PID_b"
check_eq "--relay b: all through b" "$(ls sink-b | grep -c .)" 300
check_eq "--relay b: none through a" "$(ls sink-a | grep -c .)" 0
check_exit "--relay with a name the config lacks" 64 "$NLSEND" second.yaml \
	--list short.txt --config cfg2.yaml --tls=no --state st.db --relay zz
check_grep "names it" "zz" "$TMP/err"
done_testing
