#!/bin/sh
# Cron mode: `nlsend --due DIR` with an injected clock
# (NLSEND_NOW), the state lock, exit codes, --quiet and --log, and the
# documented crontab line run with cron's minimal environment.
. "$NLSEND_TOP/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
need_servers

issue_at() {	# issue_at FILE TITLE SCHEDULE
	cat > "$1" <<YAML
newsletter: Cron Weekly
date: ${4:-2026-01-05}
from: "Cron Weekly <cron@example.org>"
schedule: $3
sections:
  - title: "$2"
    body: |
      Words for the $2 story.
YAML
}
mkdir issues
issue_at issues/b.yaml "Second" 2026-01-06T06:00:00Z 2026-01-06
issue_at issues/a.yaml "First" 2026-01-05T06:00:00+01:00 2026-01-05
make_list subs.txt 20
start_sink sink
due() {	# due NOW ARGS...
	_now=$1
	shift
	NLSEND_NOW=$_now "$NLSEND" --due issues --list subs.txt \
		--smtp "smtp://127.0.0.1:$SINK_PORT" --tls=no --state st/state.db "$@"
}
count() { ls sink | wc -l; }

check_exit "nothing due yet" 0 due 2026-01-04T00:00:00Z
check_grep "not-due issues reported with their time" "issues/a.yaml: not due until 2026-01-05T05:00:00Z" err
check_grep "both are reported" "issues/b.yaml: not due until 2026-01-06T06:00:00Z" err
[ "$(count)" -eq 0 ]; ok $? "nothing sent before the schedule"

check_exit "the first issue is due" 0 due 2026-01-05T05:30:00Z
[ "$(count)" -eq 20 ]; ok $? "sent once to all 20 ($(count))"
check_exit "due again after completion" 0 due 2026-01-05T07:00:00Z --log run.log
[ "$(count)" -eq 20 ]; ok $? "nothing sent twice ($(count))"
check_grep "the log says the issue is complete" "issue=cron-weekly-2026-01-05 file=issues/a.yaml outcome=complete sent=0" run.log
check_grep "and that the next is not due" "file=issues/b.yaml outcome=not-due" run.log

rm -f sink/*
issue_at issues/c.yaml "Third" 2026-01-06T05:00:00Z 2026-01-07
check_exit "two issues due in one run, --quiet" 0 due 2026-01-06T07:00:00Z --quiet --log run.log
[ ! -s err ]; ok $? "--quiet prints nothing on success"
[ "$(count)" -eq 40 ]; ok $? "both due issues sent: 40 messages ($(count))"
c=$(grep -l "Third" sink/* | head -1); b=$(grep -l "Second" sink/* | head -1)
[ -n "$c" ] && [ -n "$b" ]; ok $? "the sink has both issues"
check_grep "oldest first: c (05:00) logged before b (06:00)" "file=issues/c.yaml outcome=sent sent=20" run.log
l1=$(grep -n 'issues/c.yaml outcome=sent' run.log | cut -d: -f1)
l2=$(grep -n 'issues/b.yaml outcome=sent' run.log | cut -d: -f1)
[ -n "$l1" ] && [ -n "$l2" ] && [ "$l1" -lt "$l2" ]; ok $? "c was sent before b"

# A deferred issue is finished by the next run: a server that greylists one
# recipient three times (more than one run's attempts), then accepts.
mkdir defer-issues
issue_at defer-issues/d.yaml "Deferred" 2026-01-01T00:00:00Z 2026-01-01
make_list few.txt 3 grey
start_smtpd smtpd --rule "grey00002@example.org=rcpt:451 4.7.1 Greylisted,rcpt:451 4.7.1 Greylisted,rcpt:451 4.7.1 Greylisted"
ddue() {
	NLSEND_NOW=2026-01-02T00:00:00Z "$NLSEND" --due defer-issues --list few.txt \
		--smtp "smtp://127.0.0.1:$SMTPD_PORT" --tls=no --state st2/state.db "$@"
}
check_exit "a run that leaves a recipient deferred" 75 ddue
check_exit "the next run finishes it" 0 ddue
n=$(log_count smtpd message "grey00002@example.org")
[ "$n" -eq 1 ]; ok $? "the deferred recipient got exactly one copy ($n)"
n=$(log_count smtpd message)
[ "$n" -eq 3 ]; ok $? "three messages in all ($n)"
check_exit "a third run sends nothing" 0 ddue
n=$(log_count smtpd message)
[ "$n" -eq 3 ]; ok $? "still three ($n)"
stop_pid "$SMTPD_PID"

# Two --due runs started at the same moment against a slow server: the lock
# makes them take turns and the journal makes the second find nothing left.
mkdir race-issues
issue_at race-issues/r.yaml "Race" 2026-01-01T00:00:00Z 2026-01-01
make_list race.txt 30 race
start_smtpd slow --rule "*=sleepdata:0.1,sleepdata:0.1,sleepdata:0.1,sleepdata:0.1,sleepdata:0.1"
rdue() {
	NLSEND_NOW=2026-01-02T00:00:00Z "$NLSEND" --due race-issues --list race.txt \
		--smtp "smtp://127.0.0.1:$SMTPD_PORT" --tls=no --state st3/state.db \
		--concurrency 2 --lock-wait 60 "$@"
}
rdue > r1.out 2> r1.err &
p1=$!
rdue > r2.out 2> r2.err &
p2=$!
wait $p1; s1=$?
wait $p2; s2=$?
[ $s1 -eq 0 ] && [ $s2 -eq 0 ]; ok $? "both overlapping runs exit 0 ($s1, $s2)"
dups=$(grep '"ev": "message"' slow/log.jsonl | grep -o '"rcpt": "[^"]*"' | sort | uniq -d | wc -l)
n=$(log_count slow message)
[ "$n" -eq 30 ] && [ "$dups" -eq 0 ]; ok $? "every recipient received exactly one copy ($n messages, $dups duplicates)"
# A second run that cannot get the lock in time exits 75 with a message.
/usr/bin/python3 -c "
import fcntl, time, sys
f = open('st3/state.db.lock', 'a'); fcntl.flock(f, fcntl.LOCK_EX); time.sleep(4)" &
holder=$!
sleep 0.5
check_exit "the lock stays taken past --lock-wait" 75 rdue --lock-wait 1
check_grep "and says so" "another nlsend run holds .*state.db.lock" err
wait $holder
stop_pid "$SMTPD_PID"

# The crontab line of the README, with cron's environment: no terminal, no
# caller's variables, PATH=/usr/bin:/bin.
mkdir cronhome
issue_at issues/e.yaml "Cron" 2026-01-01T00:00:00Z 2026-01-08
rm -f sink/*
line="NLSEND_NOW=2026-01-09T00:00:00Z $NLSEND --due $TMP/issues --list $TMP/subs.txt --smtp smtp://127.0.0.1:$SINK_PORT --tls=no --state $TMP/st/state.db --quiet"
env -i PATH=/usr/bin:/bin HOME="$TMP/cronhome" SHELL=/bin/sh LOGNAME=nobody \
	sh -c "$line" </dev/null >cron.out 2>cron.err
st=$?
[ $st -eq 0 ]; ok $? "the crontab command runs in cron's environment (exit $st)"
[ ! -s cron.out ] && [ ! -s cron.err ]; ok $? "and prints nothing, so cron mails nothing"
[ "$(count)" -eq 20 ]; ok $? "the due issue went out ($(count))"
done_testing
