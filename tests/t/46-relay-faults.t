#!/bin/sh
# The relay changes its mind: 421 in the greeting, 421 after RCPT, 452
# too many recipients, a connection closed after every 3 messages, a reply
# that never comes (timeout: 2).  Each ends, after the re-runs its exit
# status asks for (69 or 75: run again later), with every recipient sent
# exactly once.  Without and with PIPELINING (SMTPD_PIPELINING=1 runs this
# file again in 46-relay-faults-pipelined.t).
. "$NLSEND_TOP/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
need_servers

N=40
make_issue issue.yaml
make_list list.txt $N
printf 'timeout: 2\n' > t2.yaml
pipe=
[ "${SMTPD_PIPELINING:-}" = 1 ] && pipe=--pipelining

# until_done NAME DB: run until done, at most 5 times while the exit
# status says "later" (69 the server refused us, 75 deferred).
until_done() {
	_name=$1
	_db=$2
	_i=0
	while :; do
		"$NLSEND" issue.yaml --list list.txt --config t2.yaml \
			--smtp "smtp://127.0.0.1:$SMTPD_PORT" --tls=no \
			--state "$_db" --concurrency 3 --no-progress \
			> "$TMP/out" 2> "$TMP/err"
		_rc=$?
		_i=$((_i + 1))
		[ $_rc -eq 69 ] || [ $_rc -eq 75 ] || break
		[ $_i -lt 5 ] || break
	done
	check_eq "$_name: done after $_i run(s)" $_rc 0
}

fault() {	# fault NAME SMTPD-ARGS...
	_name=$1
	shift
	start_smtpd "srv-$_name" $pipe "$@" || { ok 1 "$_name: smtpd.py"; return; }
	until_done "$_name" "$_name.db"
	check_eq "$_name: every recipient exactly once" \
		"$($MAILCHECK count-smtpd "srv-$_name" list.txt)" \
		"received $N, lost 0, duplicates 0, strangers 0"
	stop_pid "$SMTPD_PID"
}

fault greeting-421 --greeting-421 2
fault rcpt-421 --rule "*=ok,ok,rcpt:421 4.3.2 closing for maintenance,ok,ok,rcpt:421 4.3.2 closing again"
fault rcpt-452 --rule "*=ok,rcpt:452 4.5.3 Too many recipients,ok,rcpt:452 4.5.3 Too many recipients"
fault drop-after-3 --drop-after 3
fault stall --rule "user00007@example.org=sleep:600,sleep:600,sleep:600,sleep:600"
done_testing
