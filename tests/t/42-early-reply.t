#!/bin/sh
# A reply that comes before its command was all written is no reply to it
# (send/smtp.h): a server that says 250 after reading 1 KiB of a large
# message and resets the connection, or that says 552 early and answers
# every line of the rest with 500, must get nobody journaled "sent" and
# nobody "failed" for a reply meant for a body line.  Both shapes, with
# and without PIPELINING, against a raw-socket server (tests/lib/rawsmtpd.py).
. "$NLSEND_TOP/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
need_servers

/usr/bin/python3 - > issue.yaml <<'PY'
print("newsletter: Early Replies\ndate: 2026-01-02\n"
      "from: \"Early <news@example.org>\"\nsections:\n"
      "  - title: \"A long story\"\n    body: |")
line = "      " + "word " * 14
for i in range(60000):          # about 4.6 MB of body
    print(line)
PY
printf 'ada@example.org\nbob@example.org\n' > list.txt

for mode in early250 early552; do
	for pipe in "" --pipelining; do
		d=srv-$mode$pipe
		mkdir -p "$d"
		/usr/bin/python3 "$NLSEND_TOP/tests/lib/rawsmtpd.py" --dir "$d" \
			--mode $mode --after 1024 $pipe --lifetime 120 \
			> "$d/port" 2> "$d/stderr" &
		pid=$!
		_pids="$_pids $pid"
		i=0
		while [ ! -s "$d/port" ] && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		port=$(head -n1 "$d/port")
		what="$mode${pipe:+ pipelined}"
		check_exit "$what: the run ends deferred" 75 timeout -k 5 120 \
			"$NLSEND" issue.yaml --list list.txt \
			--smtp "smtp://127.0.0.1:$port" --tls=no \
			--state "$d/state.db" --concurrency 1 --no-progress
		check_eq "$what: nobody journaled sent" "$(rows "$d/state.db" sent)" 0
		check_eq "$what: nobody journaled failed" \
			"$(rows "$d/state.db" failed)" 0
		n=$(log_count "$d" early)
		[ "${n:-0}" -ge 1 ]
		ok $? "$what: the server did reply early ($n times)"
		stop_pid "$pid"
	done
done
# A reply that never ends ("250-" for ever) is bounded by timeout: as a
# whole, not per line.
d=srv-trickle
mkdir -p "$d"
/usr/bin/python3 "$NLSEND_TOP/tests/lib/rawsmtpd.py" --dir "$d" --mode trickle \
	--lifetime 120 > "$d/port" 2> "$d/stderr" &
pid=$!
_pids="$_pids $pid"
i=0
while [ ! -s "$d/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
port=$(head -n1 "$d/port")
printf 'timeout: 2\n' > t2.yaml
printf 'ada@example.org\n' > one.txt
make_issue small.yaml
t0=$(date +%s)
check_exit "a reply trickled for ever ends deferred" 75 timeout -k 5 100 \
	"$NLSEND" small.yaml --list one.txt --config t2.yaml \
	--smtp "smtp://127.0.0.1:$port" --tls=no --state "$d/state.db" \
	--concurrency 1 --no-progress
t=$(( $(date +%s) - t0 ))
[ $t -lt 60 ]
ok $? "within the timeout of each attempt, not for ever ($t s)"
check_grep "it says why" "timed out after" "$TMP/err"
stop_pid "$pid"
done_testing
