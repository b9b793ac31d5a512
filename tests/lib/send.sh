# send.sh - functions for the delivery tests (tests/t/40-send-*.t).  Source
# it after tap.sh.  Servers listen on 127.0.0.1 only, are bounded in time
# (smtpd.py --lifetime; smtp-sink is killed at exit) and are stopped by PID.
#
#   need_servers            skip_all unless smtp-sink, python3-aiosmtpd and
#                           openssl are there
#   start_sink DIR          smtp-sink dumping every message into DIR/;
#                           sets SINK_PID, SINK_PORT
#   start_smtpd DIR ARGS... tests/lib/smtpd.py (see its --help); sets
#                           SMTPD_PID, SMTPD_PORT
#   stop_pid PID            TERM, then KILL after 5 s
#   make_issue FILE         a small valid issue of our own
#   make_list FILE N [P]    N addresses P00001@example.org ... (P: "user")
#   make_tls DIR            tests/lib/tls.sh: DIR/ca.pem, server.pem, ...
#   rows DB [STATE]         rows of the delivery journal (of one state)
#   log_count DIR EV [TEXT] smtpd.py log lines of event EV (containing TEXT)

MAILCHECK="/usr/bin/python3 $NLSEND_TOP/tests/lib/mailcheck.py"
SMTPD="$NLSEND_TOP/tests/lib/smtpd.py"
# A fixed clock: --dry-run and a send compose byte-identical messages.
NLSEND_NOW=2026-01-02T06:00:00Z
export NLSEND_NOW
_pids=""
trap 'for p in $_pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT

need_servers() {
	[ -x /usr/sbin/smtp-sink ] || skip_all "needs /usr/sbin/smtp-sink (apt-get install postfix)"
	/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null ||
		skip_all "needs python3-aiosmtpd for /usr/bin/python3"
	command -v openssl >/dev/null || skip_all "needs openssl"
	[ -x "$NLSEND" ] || skip_all "no nlsend binary at $NLSEND"
}

rand() {	# rand N: 0..N-1
	echo $(( $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % $1 ))
}

start_sink() {
	mkdir -p "$1"
	_u=""
	[ "$(id -u)" -eq 0 ] && _u="-u root"
	for _try in 1 2 3 4 5 6 7 8 9 10; do
		SINK_PORT=$((20000 + $(rand 40000)))
		# shellcheck disable=SC2086
		/usr/sbin/smtp-sink $_u -d "$1/%M." "127.0.0.1:$SINK_PORT" 100 \
			>/dev/null 2>&1 &
		SINK_PID=$!
		_i=0
		while [ $_i -lt 40 ]; do
			if ! kill -0 "$SINK_PID" 2>/dev/null; then break; fi
			if /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $SINK_PORT), 1)" 2>/dev/null; then
				_pids="$_pids $SINK_PID"
				return 0
			fi
			sleep 0.05
			_i=$((_i + 1))
		done
		kill -9 "$SINK_PID" 2>/dev/null
		wait "$SINK_PID" 2>/dev/null
	done
	echo "# smtp-sink did not start" >&2
	return 1
}

start_smtpd() {
	_d=$1
	shift
	mkdir -p "$_d"
	rm -f "$_d/port"
	/usr/bin/python3 "$SMTPD" --dir "$_d" --lifetime 600 "$@" >"$_d/port" 2>"$_d/stderr" &
	SMTPD_PID=$!
	_pids="$_pids $SMTPD_PID"
	_i=0
	while [ $_i -lt 200 ]; do
		SMTPD_PORT=$(head -n1 "$_d/port" 2>/dev/null)
		[ -n "$SMTPD_PORT" ] && return 0
		kill -0 "$SMTPD_PID" 2>/dev/null || break
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "# smtpd.py did not start:" >&2
	sed 's/^/#   /' "$_d/stderr" >&2
	return 1
}

stop_pid() {
	kill "$1" 2>/dev/null
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

make_issue() {
	cat >"$1" <<'YAML'
newsletter: Delivery Test
date: 2026-01-02
from: "Delivery Test <news@example.org>"
subject: "Delivery test issue"
intro: |
  This is the delivery test.
sections:
  - title: "First story"
    body: |
      Some words here, and a paragraph that starts with a dot:

      .dotted paragraph

      From here on, a line that starts with From.
  - title: "Second story"
    body: |
      **Why it matters:** every subscriber gets exactly one copy.
YAML
}

make_list() {
	/usr/bin/python3 - "$1" "$2" "${3:-user}" <<'PY'
import sys
path, n, p = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "w") as f:
    for i in range(1, n + 1):
        f.write("%s%05d@example.org\n" % (p, i))
PY
}

make_tls() {
	sh "$NLSEND_TOP/tests/lib/tls.sh" "$1"
}

rows() {	# rows DB [STATE]: 0 when there is no such file
	[ -f "$1" ] || { echo 0; return; }
	/usr/bin/python3 - "$1" "${2:-}" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
try:
    if sys.argv[2]:
        n = db.execute("select count(*) from delivery where state = ?",
                       (sys.argv[2],)).fetchone()[0]
    else:
        n = db.execute("select count(*) from delivery").fetchone()[0]
except sqlite3.OperationalError:
    n = 0       # no table: nothing was ever recorded
print(n)
PY
}

log_count() {	# log_count DIR EV [TEXT]
	if [ -n "${3:-}" ]; then
		grep "\"ev\": \"$2\"" "$1/log.jsonl" 2>/dev/null | grep -cF -- "$3"
	else
		grep -c "\"ev\": \"$2\"" "$1/log.jsonl" 2>/dev/null
	fi
}

# check_eq NAME GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then ok 0 "$1"; else
		ok 1 "$1"
		echo "#   got '$2', want '$3'"
	fi
}
