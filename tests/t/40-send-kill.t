#!/bin/sh
# kill -9 at a random moment of a 5,000-recipient send, then a re-run of
# the same command: zero recipients lost, duplicates at most
# --concurrency.  Prints both counts.
. "$NLSEND_TOP/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
need_servers

N=5000
C=4
make_issue issue.yaml
make_list list.txt $N
start_sink sink || skip_all "smtp-sink did not start"
send() {
	"$NLSEND" issue.yaml --list list.txt --smtp "smtp://127.0.0.1:$SINK_PORT" \
		--tls=no --state state.db --concurrency $C --no-progress "$@"
}

# Kill when smtp-sink has between 10% and 90% of the messages.
target=$((N / 10 + $(rand $((N * 8 / 10)))))
# nlsend itself in the background (not a function: $! would be a subshell
# and kill -9 would leave nlsend running).
"$NLSEND" issue.yaml --list list.txt --smtp "smtp://127.0.0.1:$SINK_PORT" \
	--tls=no --state state.db --concurrency $C --no-progress 2>run1.err &
pid=$!
i=0
got=0
while [ $i -lt 2400 ]; do	# at most 120 s
	got=$(ls sink | wc -l)
	[ "$got" -ge "$target" ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.05
	i=$((i + 1))
done
kill -9 $pid 2>/dev/null
{ wait $pid; } 2>/dev/null
rc=$?
echo "# killed at about $got of $N messages (target $target)"
check_eq "the first run was killed by SIGKILL" "$rc" 137
inflight=$(rows state.db inflight)
echo "# journal after the kill: $(rows state.db sent) sent, $inflight in flight"
[ "$inflight" -le $C ]; ok $? "at most $C rows in flight on disk ($inflight)"

check_exit "the re-run of the same command" 0 send
check_grep "it skips those already sent" "skipped [1-9][0-9,]* \(already sent\)" err
check_exit "a third run sends nothing" 0 send
check_grep "nothing" "sent 0, failed 0, deferred 0, skipped 5,000" err
stop_pid "$SINK_PID"

res=$($MAILCHECK count-sink sink list.txt)
echo "# $res"
lost=$(echo "$res" | sed -n 's/.*lost \([0-9]*\).*/\1/p')
dups=$(echo "$res" | sed -n 's/.*duplicates \([0-9]*\).*/\1/p')
echo "# lost: $lost, duplicates: $dups (concurrency $C)"
check_eq "zero recipients lost" "$lost" 0
[ -n "$dups" ] && [ "$dups" -le $C ]; ok $? "duplicates ($dups) at most the concurrency ($C)"
done_testing
