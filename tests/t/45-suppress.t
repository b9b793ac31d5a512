#!/bin/sh
# The suppression list in the state database is never sent to: not by a
# send, not by a dry run (which reads it without writing the database),
# and --check counts recipients after it (cli.md, Lists).  On the test
# issue and list always, on the corpus ones when $NLSEND_CORPUS (or
# ../shared/corpus) is there.
. "$NLSEND_TOP/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
need_servers
start_sink sink

# suppresses NAME ISSUE CSV A B C: A and B are suppressed after a first
# send, then C, which the list holds twice in two cases.
suppresses() {
	lbl=$1 issue=$2 csv=$3 a=$4 b=$5 c=$6
	st=$lbl-st
	send() { "$NLSEND" "$issue" --list "$csv" --smtp "smtp://127.0.0.1:$SINK_PORT" --tls=no --state "$st/state.db" "$@"; }
	check_exit "$lbl: a dry run without a state database" 0 "$NLSEND" "$issue" --list "$csv" --dry-run "$lbl-a.mbox" --state "$st/state.db"
	[ "$(grep -c '^From ' "$lbl-a.mbox")" -eq 6 ]; ok $? "$lbl: six messages"
	[ ! -e "$st/state.db" ]; ok $? "$lbl: the dry run created no state database"

	# A first send creates the database; then two people unsubscribe.
	check_exit "$lbl: a first send" 0 send --test me@example.org
	/usr/bin/python3 - "$st/state.db" "$a" "$b" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE IF NOT EXISTS suppression (email TEXT PRIMARY KEY,"
           " reason TEXT NOT NULL, added_at INTEGER NOT NULL) WITHOUT ROWID")
db.execute("INSERT INTO suppression (email, reason, added_at) VALUES (?, 'unsubscribe', 0)", (sys.argv[2],))
db.execute("INSERT INTO suppression VALUES (?, 'bounced', 0)", (sys.argv[3],))
db.commit()
PY
	sum_before=$(cat "$st"/state.db* | cksum)
	check_exit "$lbl: a dry run with two suppressed" 0 "$NLSEND" "$issue" --list "$csv" --dry-run "$lbl-b.mbox" --state "$st/state.db"
	[ "$(grep -c '^From ' "$lbl-b.mbox")" -eq 4 ]; ok $? "$lbl: four messages"
	check_nogrep "$lbl: $a is not in the mbox" "^To: .*$a" "$lbl-b.mbox"
	check_nogrep "$lbl: $b is not in the mbox" "^To: .*$b" "$lbl-b.mbox"
	check_grep "$lbl: the summary counts them" "suppressed 2" err
	[ "$(cat "$st"/state.db* | cksum)" = "$sum_before" ]; ok $? "$lbl: the dry run left the database as it was"
	check_exit "$lbl: --check" 0 "$NLSEND" --check "$issue" --list "$csv" --state "$st/state.db"
	check_grep "$lbl: recipients after suppression" "^recipients: 4$" out
	rm -f sink/*
	check_exit "$lbl: a real send" 0 send
	n=$(ls sink | wc -l)
	[ "$n" -eq 4 ]; ok $? "$lbl: four delivered ($n)"
	check_nogrep "$lbl: nobody suppressed was sent to" "($a|$b)" "$(ls -d sink/* | head -1)"
	grep -l "$a\|$b" sink/* >/dev/null 2>&1
	[ $? -ne 0 ]; ok $? "$lbl: no message to $a or $b at all"
	check_grep "$lbl: the send's summary counts them" "suppressed 2" err
	check_exit "$lbl: $c, in another case, suppressed too" 0 /usr/bin/python3 -c "
import sqlite3, sys; db = sqlite3.connect(sys.argv[1])
db.execute(\"INSERT INTO suppression (email, reason, added_at) VALUES (?, 'unsubscribe', 0)\", (sys.argv[2],)); db.commit()" "$st/state.db" "$c"
	check_exit "$lbl: a dry run" 0 "$NLSEND" "$issue" --list "$csv" --dry-run "$lbl-c.mbox" --state "$st/state.db"
	check_nogrep "$lbl: $c (listed in two cases) is suppressed" "^To: .*$c" "$lbl-c.mbox"
	[ "$(grep -c '^From ' "$lbl-c.mbox")" -eq 3 ]; ok $? "$lbl: three messages"
}

suppresses test "$ISSUE" "$LISTS/subscribers.csv" \
	tomas@example.org noe@example.net ingrid@example.com
if [ -n "$CORPUS" ]; then
	suppresses corpus "$AXIOS" "$CORPUS/subscribers.csv" \
		grace@example.org zoe@example.net ada@example.com
else
	skip "$NO_CORPUS: suppression on the corpus list not run"
fi
done_testing
