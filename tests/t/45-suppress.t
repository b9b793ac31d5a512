#!/bin/sh
# The suppression list in the state database is never sent to: not by a
# send, not by a dry run (which reads it without writing the database),
# and --check counts recipients after it (cli.md, Lists).
. "$NLSEND_TOP/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
need_servers

csv="$CORPUS/subscribers.csv"
check_exit "a dry run without a state database" 0 "$NLSEND" "$AXIOS" --list "$csv" --dry-run a.mbox --state st/state.db
[ "$(grep -c '^From ' a.mbox)" -eq 6 ]; ok $? "six messages"
[ ! -e st/state.db ]; ok $? "the dry run created no state database"

start_sink sink
send() { "$NLSEND" "$AXIOS" --list "$csv" --smtp "smtp://127.0.0.1:$SINK_PORT" --tls=no --state st/state.db "$@"; }
# A first send creates the database; then two people unsubscribe.
check_exit "a first send" 0 send --test me@example.org
/usr/bin/python3 - st/state.db <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE IF NOT EXISTS suppression (email TEXT PRIMARY KEY,"
           " reason TEXT NOT NULL, added_at INTEGER NOT NULL) WITHOUT ROWID")
db.execute("INSERT INTO suppression (email, reason, added_at) VALUES ('grace@example.org', 'unsubscribe', 0)")
db.execute("INSERT INTO suppression VALUES ('zoe@example.net', 'bounced', 0)")
db.commit()
PY
sum_before=$(cat st/state.db* | cksum)
check_exit "a dry run with two suppressed" 0 "$NLSEND" "$AXIOS" --list "$csv" --dry-run b.mbox --state st/state.db
[ "$(grep -c '^From ' b.mbox)" -eq 4 ]; ok $? "four messages"
check_nogrep "grace is not in the mbox" "^To: .*grace@example.org" b.mbox
check_grep "the summary counts them" "suppressed 2" err
[ "$(cat st/state.db* | cksum)" = "$sum_before" ]; ok $? "the dry run left the database as it was"
check_exit "--check" 0 "$NLSEND" --check "$AXIOS" --list "$csv" --state st/state.db
check_grep "recipients after suppression" "^recipients: 4$" out
rm -f sink/*
check_exit "a real send" 0 send
n=$(ls sink | wc -l)
[ "$n" -eq 4 ]; ok $? "four delivered ($n)"
check_nogrep "nobody suppressed was sent to" "(grace@example.org|zoe@example.net)" "$(ls -d sink/* | head -1)"
grep -l "zoe@example.net\|grace@example.org" sink/* >/dev/null 2>&1
[ $? -ne 0 ]; ok $? "no message to grace or zoe at all"
check_grep "the send's summary counts them" "suppressed 2" err
check_exit "ADA, in another case, suppressed too" 0 /usr/bin/python3 -c "
import sqlite3; db = sqlite3.connect('st/state.db')
db.execute(\"INSERT INTO suppression (email, reason, added_at) VALUES ('ada@example.com', 'unsubscribe', 0)\"); db.commit()"
check_exit "a dry run" 0 "$NLSEND" "$AXIOS" --list "$csv" --dry-run c.mbox --state st/state.db
check_nogrep "ada (listed as ada@ and ADA@) is suppressed" "^To: .*ada@example.com" c.mbox
done_testing
