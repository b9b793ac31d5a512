#!/bin/sh
# 2,000 recipients to Postfix's smtp-sink: each received exactly
# once, byte-identical to what --dry-run writes for the same recipient
# (apart from the framing), and a second run sends nothing.
. "$NLSEND_TOP/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
need_servers

N=2000
make_issue issue.yaml
make_list list.txt $N

# The same --state: the unsubscribe secret (kept beside the state
# database) must be the same for the tokens to be.
check_exit "--dry-run of $N messages" 0 "$NLSEND" issue.yaml --list list.txt \
	--state state.db --dry-run dry.mbox --no-progress
[ -f state.db ] || [ -f "$XDG_STATE_HOME/nlsend/state.db" ]
ok $((! $?)) "a dry run writes no state database"

start_sink sink || skip_all "smtp-sink did not start"
t0=$(date +%s)
check_exit "send $N to smtp-sink" 0 "$NLSEND" issue.yaml --list list.txt \
	--smtp "smtp://127.0.0.1:$SINK_PORT" --tls=no --state state.db \
	--concurrency 4 --no-progress
echo "# $N messages in $(( $(date +%s) - t0 )) s"
check_grep "summary line" "sent 2,000, failed 0, deferred 0, skipped 0 \(already sent\), suppressed 0 in [0-9.]+ s" err
check_eq "journal: $N rows sent" "$(rows state.db sent)" $N
check_eq "journal: nothing else" "$(rows state.db)" $N
n1=$(ls sink | wc -l)
check_eq "smtp-sink got $N messages" "$n1" $N

check_exit "a second run" 0 "$NLSEND" issue.yaml --list list.txt \
	--smtp "smtp://127.0.0.1:$SINK_PORT" --tls=no --state state.db \
	--concurrency 4 --no-progress
check_grep "it sends nothing and says why" "sent 0, failed 0, deferred 0, skipped 2,000 \(already sent\)" err
stop_pid "$SINK_PID"
check_eq "smtp-sink got nothing more" "$(ls sink | wc -l)" $N

$MAILCHECK sink-vs-mbox sink dry.mbox list.txt >cmp.out
ok $? "each received exactly once, identical to the dry run"
sed 's/^/# /' cmp.out
done_testing
