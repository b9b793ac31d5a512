#!/bin/bash
# bench/run.sh - make bench: nlsend against the limit of the machine
# and against what a user would pick instead, side by side in one run, on
# loopback only.
#
#   1. the ceiling: Postfix's smtp-source sending one ready-made newsletter
#      message (the corpus issue as nlsend composes it, ~44 KB) with 1, 4 and
#      8 sessions, each session reusing its connection;
#   2. the peers, personalising and composing each message themselves from
#      the same text and HTML: Python smtplib + email (1 connection; 4
#      threads) and nodemailer (pool, 5 connections);
#   3. nlsend on the corpus issue at concurrency 4 and 8, a fresh state
#      database (journal on) each run.
# The corpus issue comes from $NLSEND_CORPUS or ../shared/corpus; without
# it, the test issue of the tree (bench/issue.sh).
# Every configuration runs RUNS times (rounds interleave the configurations so
# that a slow moment of the machine hits all of them alike) against its own
# fresh smtp-sink, which counts the messages it accepted: a run whose sink did
# not count exactly N, or whose client failed, makes the configuration INVALID.
# Each figure printed is the median of its RUNS values.
#
# Usage: bench/run.sh [NLSEND]   (make bench passes $(B)/nlsend)
# Env:   N_SOURCE N_PEER N_NLSEND (messages per run), RUNS, TIMEOUT (s/run)
# Needs: /usr/sbin/smtp-sink, /usr/sbin/smtp-source (postfix), /usr/bin/time,
#        /usr/bin/python3, node + bench/peers/node_modules (npm ci).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
nlsend=${1:-$top/build/nlsend}
. "$top/bench/issue.sh"
peers=$top/bench/peers
N_SOURCE=${N_SOURCE:-20000}
N_PEER=${N_PEER:-5000}
N_NLSEND=${N_NLSEND:-20000}
RUNS=${RUNS:-3}
TIMEOUT=${TIMEOUT:-300}
SINK=/usr/sbin/smtp-sink
SOURCE=/usr/sbin/smtp-source

die() { echo "bench: $*" >&2; exit 1; }
for f in "$SINK" "$SOURCE" /usr/bin/time /usr/bin/python3 "$nlsend" "$issue"; do
	[ -e "$f" ] || die "$f is missing (see bench/README.md)"
done
command -v node >/dev/null || die "node is missing (see bench/README.md)"
if [ ! -d "$peers/node_modules/nodemailer" ]; then
	echo "bench: installing nodemailer (npm ci in bench/peers)" >&2
	(cd "$peers" && npm ci --no-audit --no-fund --loglevel=error >&2) ||
		die "npm ci failed in bench/peers"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nlsend-bench.XXXXXX")
sink_pid=
cleanup() {
	if [ -n "$sink_pid" ]; then kill "$sink_pid" 2>/dev/null || :; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 755 "$tmp"	# smtp-sink drops to nobody but writes nothing here
export HOME="$tmp" XDG_STATE_HOME="$tmp/xdg-state" XDG_CONFIG_HOME="$tmp/xdg-cfg"
sinkuser=
[ "$(id -u)" = 0 ] && sinkuser="-u nobody"	# required when run as root
tick=$(getconf CLK_TCK)
port=$((20000 + $$ % 20000))

# shellcheck source=bench/sink.sh
. "$top/bench/sink.sh"

# run CONFIG N BYTES_OR_- CMD...: one run against a fresh sink; appends to
# $tmp/results: config N elapsed user sys maxrss_kb count rc bytes sink_cpu_us
# (BYTES '-': the client prints "sent K bytes B" and B is taken from it).
run() {
	local cfg=$1 n=$2 bytes=$3 rc count scpu
	shift 3
	sink_start
	set -- "${@//@PORT@/$port}"
	rc=0
	/usr/bin/time -f "%e %U %S %M" -o "$tmp/time" \
		timeout -k 5 "$TIMEOUT" "$@" > "$tmp/client.out" 2> "$tmp/client.err" || rc=$?
	count=$(sink_count)
	scpu=$(sink_stop)
	if [ "$bytes" = - ]; then
		bytes=$(sed -n 's/^sent [0-9]* bytes \([0-9]*\)$/\1/p' "$tmp/client.out")
		bytes=${bytes:-0}
	fi
	if [ "$rc" != 0 ]; then
		echo "bench: $cfg: exit $rc: $(head -c 300 "$tmp/client.err")" >&2
	fi
	echo "$cfg $n $(tail -n 1 "$tmp/time") $count $rc $bytes $scpu" >> "$tmp/results"
	printf '.' >&2
}

# --- the inputs -------------------------------------------------------------
cat > "$tmp/nlsend.yaml" <<'EOF'
image_base_url: "https://images.example.com/newsletters/"
unsubscribe_url: "https://newsletters.example.com/u?t={{token}}"
unsubscribe_secret: "bench-unsubscribe-secret"
EOF
chmod 600 "$tmp/nlsend.yaml"
gen 2 "$tmp/2.txt"
gen "$N_PEER" "$tmp/peer.txt"
gen "$N_NLSEND" "$tmp/nlsend.txt"
"$nlsend" "$issue" --config "$tmp/nlsend.yaml" --list "$tmp/2.txt" \
	--dry-run "$tmp/2.mbox" --quiet || die "nlsend --dry-run failed"
/usr/bin/python3 "$peers/make_message.py" "$tmp/2.mbox" "$tmp" || die "make_message.py failed"
# Bytes on the wire (CRLF line ends, before dot-stuffing) of one ready-made
# message, and of everything nlsend sends for the N_NLSEND list (from a dry
# run of the same list: mboxrd From_ lines, quoting and separators undone).
msg_bytes=$(awk '{ b += length($0) + 2 } END { print b }' "$tmp/message.eml")
nl_bytes=$("$nlsend" "$issue" --config "$tmp/nlsend.yaml" --list "$tmp/nlsend.txt" \
	--dry-run /dev/stdout --quiet | LC_ALL=C awk '
	/^From / && (NR == 1 || prev == "") { m++; if (NR > 1) b -= 2; prev = $0; next }
	{ b += length($0) + 2 - ($0 ~ /^>+From /); prev = $0 }
	END { if (m) b -= 2; printf "%d %d\n", b, m }')
nl_msgs=${nl_bytes#* }
nl_bytes=${nl_bytes% *}
[ "$nl_msgs" = "$N_NLSEND" ] || die "nlsend --dry-run composed $nl_msgs messages, not $N_NLSEND"
default_conc=$("$nlsend" --help 2>&1 | sed -n 's/.*--concurrency.*(default \([0-9]*\)).*/\1/p')

cpu_model=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
echo "nlsend bench: $(nproc) cores, ${cpu_model:-$(uname -m)}, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "sink: smtp-sink -c on 127.0.0.1 (counting only), one fresh sink per run"
echo "message: $issue_name as nlsend composes it, images linked:" \
	"$msg_bytes bytes ready-made (CRLF), $((nl_bytes / N_NLSEND)) bytes on average per nlsend message"
echo "N per run: smtp-source $N_SOURCE, peers $N_PEER, nlsend $N_NLSEND; median of $RUNS runs"
printf 'running' >&2

# --- the rounds ---------------------------------------------------------------
: > "$tmp/results"
for _round in $(seq "$RUNS"); do
	for s in 1 4 8; do
		run "source-$s" "$N_SOURCE" $((msg_bytes * N_SOURCE)) \
			"$SOURCE" -d -s "$s" -m "$N_SOURCE" -F "$tmp/message.eml" \
			-f china@newsletters.example.com -t reader1@bench.example.com \
			-M bench.example.com 127.0.0.1:@PORT@
	done
	for t in 1 4; do
		run "python-$t" "$N_PEER" - /usr/bin/python3 "$peers/python_smtplib.py" \
			"$tmp/parts.json" "$tmp/peer.txt" 127.0.0.1 @PORT@ "$t"
	done
	run "nodemailer-5" "$N_PEER" - node "$peers/nodemailer.js" \
		"$tmp/parts.json" "$tmp/peer.txt" 127.0.0.1 @PORT@
	for c in 4 8; do
		rm -rf "$tmp/state"; mkdir "$tmp/state"
		run "nlsend-$c" "$N_NLSEND" "$nl_bytes" "$nlsend" "$issue" \
			--config "$tmp/nlsend.yaml" --list "$tmp/nlsend.txt" \
			--smtp smtp://127.0.0.1:@PORT@ --tls=no --state "$tmp/state/state.db" \
			--concurrency "$c" --quiet
	done
done
echo >&2

# --- the table ----------------------------------------------------------------
awk -v dc="$default_conc" '
function med(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
		t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(k, v) { vals[k] = (k in vals) ? vals[k] " " v : v }
{
	c = $1; n[c] = $2; e = ($3 > 0.001 ? $3 : 0.001)
	if (!(c in seen)) { order[++nc] = c; seen[c] = 1 }
	add(c SUBSEP "mps", $2 / e); add(c SUBSEP "mbs", $9 / e / 1e6)
	add(c SUBSEP "cpu", ($4 + $5) * 1e6 / $2); add(c SUBSEP "rss", $6 / 1024)
	add(c SUBSEP "scpu", $10 / $2)
	runs[c]++
	if ($7 != $2 || $8 != 0) {
		bad[c] = bad[c] sprintf(" run %d: sink counted %d of %d, exit %d;", runs[c], $7, $2, $8)
	}
}
END {
	for (i = 1; i <= nc; i++) {
		c = order[i]
		m[c] = med(vals[c SUBSEP "mps"])
		if (c ~ /^source-/ && !(c in bad) && m[c] > best) { best = m[c]; bestc = c }
	}
	label["source-1"] = "smtp-source, 1 session"
	label["source-4"] = "smtp-source, 4 sessions"
	label["source-8"] = "smtp-source, 8 sessions"
	label["python-1"] = "Python smtplib+email, 1 conn"
	label["python-4"] = "Python smtplib+email, 4 thr"
	label["nodemailer-5"] = "nodemailer pool, 5 conns"
	label["nlsend-4"] = "nlsend --concurrency 4"
	label["nlsend-8"] = "nlsend --concurrency 8"
	printf "\n%-32s %7s %8s %7s %6s %9s %8s %9s  %s\n", "configuration", "N", "msg/s", "MB/s",
		"%ceil", "cpu us/m", "RSS MB", "sink us/m", "sink count"
	for (i = 1; i <= nc; i++) {
		c = order[i]; l = (c in label) ? label[c] : c
		if (c == "nlsend-" dc) l = l " (default)"
		pct = best > 0 ? sprintf("%5.0f%%", 100 * m[c] / best) : "    -"
		printf "%-32s %7d %8.0f %7.1f %6s %9.0f %8.1f %9.0f  %s\n", l, n[c], m[c],
			med(vals[c SUBSEP "mbs"]), pct, med(vals[c SUBSEP "cpu"]),
			med(vals[c SUBSEP "rss"]), med(vals[c SUBSEP "scpu"]),
			(c in bad) ? "INVALID:" bad[c] : "exactly N in every run"
	}
	if (best > 0)
		printf "\nbest ceiling: %s at %.0f msg/s (%%ceil is msg/s against it)\n", label[bestc], best
	else
		print "\nno valid ceiling run: %ceil cannot be computed"
}' "$tmp/results"
echo "cpu us/m: client user+sys per message (/usr/bin/time); RSS: client peak;" \
	"sink us/m: smtp-sink CPU per message"
