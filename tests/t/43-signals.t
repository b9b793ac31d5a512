#!/bin/sh
# SIGTERM or SIGINT in the middle of a send: no new recipient is started,
# what is in flight ends, the journal is committed, and the run exits 75
# with "interrupted: N left"; a second signal stops at once.  Either way
# the next run sends to the rest, and in the end every recipient has
# exactly one copy (a second signal may cost at most --concurrency
# duplicates: the messages it cut off).
. "$NLSEND_TOP/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
need_servers

N=300
make_issue issue.yaml
make_list list.txt $N

run_bg() {	# run_bg DIR STATE: a paced send in the background; sets RUN_PID
	"$NLSEND" issue.yaml --list list.txt --smtp "smtp://127.0.0.1:$SMTPD_PORT" \
		--tls=no --state "$2" --concurrency 4 --rate 100 --no-progress \
		> "$1.out" 2> "$1.err" &
	RUN_PID=$!
}

wait_sent() {	# wait_sent DIR N: until smtpd.py has N messages (10 s at most)
	_i=0
	while [ "$(log_count "$1" message)" -lt "$2" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

for sig in TERM INT; do
	start_smtpd s$sig
	run_bg one$sig one$sig.db
	wait_sent s$sig 50
	kill -$sig $RUN_PID
	wait $RUN_PID
	check_eq "SIG$sig: exit 75" $? 75
	check_grep "SIG$sig: it says how many are left" \
		"interrupted: [0-9]+ left; run the same command again" one$sig.err
	left=$(sed -n 's/.*interrupted: \([0-9]*\) left.*/\1/p' one$sig.err)
	sent=$(rows one$sig.db sent)
	check_eq "SIG$sig: sent + left = all" $((sent + left)) $N
	check_eq "SIG$sig: nothing left in flight" "$(rows one$sig.db inflight)" 0
	check_exit "SIG$sig: the re-run" 0 "$NLSEND" issue.yaml --list list.txt \
		--smtp "smtp://127.0.0.1:$SMTPD_PORT" --tls=no --state one$sig.db \
		--no-progress
	check_eq "SIG$sig: every recipient exactly once" \
		"$($MAILCHECK count-smtpd s$sig list.txt)" \
		"received $N, lost 0, duplicates 0, strangers 0"
	stop_pid "$SMTPD_PID"
done

# Every message answered 3 s late: the first signal waits for them, the
# second does not.
slow=$(/usr/bin/python3 -c 'print(",".join(["ok"] * 20 + ["sleepdata:3"] * 400))')
start_smtpd s2 --rule "*=$slow"
run_bg two two.db
wait_sent s2 20
sleep 0.5
kill -TERM $RUN_PID
sleep 0.3
kill -TERM $RUN_PID 2>/dev/null
t0=$(date +%s)
wait $RUN_PID
check_eq "two signals: exit 75" $? 75
[ $(( $(date +%s) - t0 )) -le 2 ]
ok $? "two signals: it stops at once, not after the 3 s replies"
check_grep "two signals: it says so" "interrupted twice: stopped at once" two.err
sleep 3.5	# the slow server's last replies, to clients long gone ("late")
stop_pid "$SMTPD_PID"
start_smtpd s2b
check_exit "two signals: the re-run" 0 "$NLSEND" issue.yaml --list list.txt \
	--smtp "smtp://127.0.0.1:$SMTPD_PORT" --tls=no --state two.db --no-progress
mkdir -p s2all
cat s2/log.jsonl s2b/log.jsonl > s2all/log.jsonl
out=$($MAILCHECK count-smtpd s2all list.txt)
case $out in
"received $N, lost 0, duplicates "[0-4]", strangers 0") ok 0 "two signals: nobody lost ($out)" ;;
*) ok 1 "two signals: nobody lost, at most 4 duplicates ($out)" ;;
esac
stop_pid "$SMTPD_PID"
done_testing
