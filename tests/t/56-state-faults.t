#!/bin/sh
# A state database that is damaged, foreign or newer is refused before
# anything is sent (never taken for an empty state, which would send to
# everyone again); one with loose permissions is tightened and that said.
. "${NLSEND_TOP:-$(dirname "$0")/../..}/tests/lib/tap.sh"

command -v sqlite3 >/dev/null || skip_all "needs sqlite3"
EX=$NLSEND_TOP/examples
send() {	# send STATE: a real send to a port where nobody listens
	timeout -k 2 30 "$NLSEND" "$EX/issue.yaml" --list "$EX/readers.csv" \
		--smtp smtp://127.0.0.1:9 --tls=no --state "$1"
}

head -c 8192 /dev/urandom > random.db
check_exit "random bytes" 74 send random.db
check_grep "are not taken for a database" "not an SQLite database" "$TMP/err"
check_exit "random bytes, in a dry run too" 74 "$NLSEND" "$EX/issue.yaml" \
	--list "$EX/readers.csv" --dry-run x.mbox --state random.db

sqlite3 big.db "CREATE TABLE delivery(issue, email, state, attempts, \
last_code, last_reply, first_at, last_at, sent_at); \
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) \
INSERT INTO delivery SELECT 'x', 'r' || i || '@example.org', 'sent', 1, 250, \
'250 ok', 0, 0, 0 FROM n;"
size=$(stat -c %s big.db)
truncate -s $((size / 2)) big.db
check_exit "a truncated database" 74 send big.db
check_grep "is called truncated" "truncated \\(" "$TMP/err"

sqlite3 other.db "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)"
check_exit "another program's database" 78 send other.db
check_grep "is called foreign" "another program" "$TMP/err"
sqlite3 marked.db "PRAGMA application_id = 1234; CREATE TABLE t(x)"
check_exit "a database marked as another program's" 78 send marked.db

sqlite3 newer.db "PRAGMA user_version = 999"
check_exit "a newer schema" 78 send newer.db
check_grep "asks for a newer nlsend" "made by a newer nlsend" "$TMP/err"

# Loose permissions: tightened, and said.
mkdir -p "$XDG_STATE_HOME/nlsend"
chmod 755 "$XDG_STATE_HOME/nlsend"
sqlite3 "$XDG_STATE_HOME/nlsend/state.db" "PRAGMA user_version = 0"
chmod 644 "$XDG_STATE_HOME/nlsend/state.db"
check_exit "a send with the default state, made loose by hand" 69 \
	timeout -k 2 30 "$NLSEND" "$EX/issue.yaml" --list "$EX/readers.csv" \
	--smtp smtp://127.0.0.1:9 --tls=no
check_grep "the database is tightened, and said" \
	"state.db: mode 0644 tightened to 0600" "$TMP/err"
check_grep "the directory too" "nlsend: mode 0755 tightened to 0700" "$TMP/err"
[ "$(stat -c %a "$XDG_STATE_HOME/nlsend/state.db")" = 600 ]
ok $? "the database is 0600 now"
[ "$(stat -c %a "$XDG_STATE_HOME/nlsend")" = 700 ]
ok $? "its directory 0700"

mkdir -p open && chmod 777 open
check_exit "a state directory anybody may write to" 78 send open/state.db
check_grep "is refused" "anybody may write" "$TMP/err"
done_testing
