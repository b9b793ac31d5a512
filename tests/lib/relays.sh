# Several relays for tests/t/75-79: smtp-sinks or smtpd.py servers named
# by letter, and a config that lists them.  Source after send.sh.

# sink_relay NAME: an smtp-sink in sink-NAME; its port in PORT_NAME and
# its PID in PID_NAME.
sink_relay() {
	start_sink "sink-$1" || return 1
	eval "PORT_$1=$SINK_PORT PID_$1=$SINK_PID"
}

# smtpd_relay NAME ARGS...: a tests/lib/smtpd.py in srv-NAME.
smtpd_relay() {
	_n=$1
	shift
	start_smtpd "srv-$_n" "$@" || return 1
	eval "PORT_$_n=$SMTPD_PORT PID_$_n=$SMTPD_PID"
}

# relay_conf FILE NAME "KEY: VALUE; KEY: VALUE" ...: a config whose
# relays: are the named servers, with their settings.
relay_conf() {
	_f=$1
	shift
	printf 'relays:\n' > "$_f"
	while [ $# -ge 2 ]; do
		eval "_p=\$PORT_$1"
		printf '  - name: %s\n    url: smtp://127.0.0.1:%s\n' "$1" "$_p" >> "$_f"
		printf '%s\n' "$2" | tr ';' '\n' | sed -n 's/^ *\(..*\)$/    \1/p' >> "$_f"
		shift 2
	done
}

# count_in NAME: the messages the server of relay NAME holds.
count_in() {
	if [ -d "srv-$1" ]; then
		grep -c '"ev": "message"' "srv-$1/log.jsonl" 2>/dev/null || echo 0
	else
		ls "sink-$1" | wc -l
	fi
}

# relay_rows DB NAME: the journal's rows sent through relay NAME.
relay_rows() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(db.execute("select count(*) from delivery where relay = ? and "
                 "state = 'sent'", (sys.argv[2],)).fetchone()[0])
PY
}

# near GOT WANT PCT: is GOT within PCT percent of WANT?
near() {
	[ $(( ($1 - $2) * 100 )) -le $(( $2 * $3 )) ] &&
		[ $(( ($2 - $1) * 100 )) -le $(( $2 * $3 )) ]
}

# commas N: N as nlsend writes counts (1,234).
commas() {
	echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'
}
