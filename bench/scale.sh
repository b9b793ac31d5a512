#!/bin/bash
# bench/scale.sh - make bench-scale: how nlsend's time and memory
# grow with the list.  For 10,000, 100,000 and 1,000,000 generated
# recipients of the corpus issue (images linked, as in make bench; the
# test issue when there is no corpus, see bench/issue.sh):
#   - sent to a fresh counting smtp-sink on 127.0.0.1 (nlsend's default
#     concurrency, a fresh state database, journal on), the sink's count
#     checked;
#   - composed only, --dry-run /dev/null;
# and prints elapsed time, time per 1,000 messages, CPU per message and peak
# RSS, so that the growth is visible: time should be linear (flat per 1,000)
# and memory flat apart from the de-duplication set.
#
# Usage: bench/scale.sh [NLSEND]   (make bench-scale passes $(B)/nlsend)
# Env:   SCALE_SIZES (default "10000 100000 1000000"), SCALE_SINK_MAX (sizes
#        above it are only composed, default 1000000: all go to the sink;
#        the 1,000,000 sink run takes several minutes), TIMEOUT (s per run).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
nlsend=${1:-$top/build/nlsend}
. "$top/bench/issue.sh"
SCALE_SIZES=${SCALE_SIZES:-10000 100000 1000000}
SCALE_SINK_MAX=${SCALE_SINK_MAX:-1000000}
TIMEOUT=${TIMEOUT:-1800}
SINK=/usr/sbin/smtp-sink

die() { echo "bench-scale: $*" >&2; exit 1; }
for f in "$SINK" /usr/bin/time "$nlsend" "$issue"; do
	[ -e "$f" ] || die "$f is missing (see bench/README.md)"
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nlsend-scale.XXXXXX")
sink_pid=
cleanup() {
	if [ -n "$sink_pid" ]; then kill "$sink_pid" 2>/dev/null || :; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 755 "$tmp"
export HOME="$tmp" XDG_STATE_HOME="$tmp/xdg-state" XDG_CONFIG_HOME="$tmp/xdg-cfg"
sinkuser=
[ "$(id -u)" = 0 ] && sinkuser="-u nobody"
tick=$(getconf CLK_TCK)
port=$((20000 + ($$ + 7919) % 20000))
# shellcheck source=bench/sink.sh
. "$top/bench/sink.sh"

cat > "$tmp/nlsend.yaml" <<'EOF'
image_base_url: "https://images.example.com/newsletters/"
unsubscribe_url: "https://newsletters.example.com/u?t={{token}}"
unsubscribe_secret: "bench-unsubscribe-secret"
EOF
chmod 600 "$tmp/nlsend.yaml"

# report SIZE WHERE: one line from $tmp/time ("elapsed user sys maxrss_kb")
report() {
	awk -v n="$1" -v w="$2" -v extra="$3" '{
		e = ($1 > 0.001 ? $1 : 0.001)
		printf "%9d  %-10s %8.1f s %9.3f s %7.0f %8.0f %7.1f MB  %s\n", n, w, $1,
			$1 * 1000 / n, n / e, ($2 + $3) * 1e6 / n, $4 / 1024, extra }' "$tmp/time"
}

cpu_model=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
echo "nlsend bench-scale: $(nproc) cores, ${cpu_model:-$(uname -m)}, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "$issue_name, images linked; sink: smtp-sink -c on 127.0.0.1, nlsend's default concurrency"
printf '\n%9s  %-10s %10s %11s %7s %8s %10s  %s\n' recipients to elapsed "s/1000 msg" "msg/s" \
	"cpu us/m" "peak RSS" "check"
for n in $SCALE_SIZES; do
	gen "$n" "$tmp/list.txt"
	if [ "$n" -le "$SCALE_SINK_MAX" ]; then
		rm -rf "$tmp/state"; mkdir "$tmp/state"
		sink_start
		rc=0
		/usr/bin/time -f "%e %U %S %M" -o "$tmp/time" timeout -k 5 "$TIMEOUT" \
			"$nlsend" "$issue" --config "$tmp/nlsend.yaml" --list "$tmp/list.txt" \
			--smtp "smtp://127.0.0.1:$port" --tls=no --state "$tmp/state/state.db" \
			--quiet 2> "$tmp/err" || rc=$?
		count=$(sink_count)
		sink_stop > /dev/null
		db=$(du -sk "$tmp/state" | awk '{ printf "%.1f", $1 / 1024 }')
		if [ "$count" = "$n" ] && [ "$rc" = 0 ]; then
			check="sink counted $count; state dir $db MB"
		else
			check="INVALID: sink counted $count of $n, exit $rc $(head -c 200 "$tmp/err")"
		fi
		report "$n" sink "$check"
		rm -rf "$tmp/state"
	fi
	rc=0
	/usr/bin/time -f "%e %U %S %M" -o "$tmp/time" timeout -k 5 "$TIMEOUT" \
		"$nlsend" "$issue" --config "$tmp/nlsend.yaml" --list "$tmp/list.txt" \
		--dry-run /dev/null --quiet 2> "$tmp/err" || rc=$?
	if [ "$rc" = 0 ]; then check="composed only"; else check="INVALID: exit $rc"; fi
	report "$n" /dev/null "$check"
done
echo
echo "s/1000 msg flat = linear time; peak RSS should stay flat apart from the"
echo "de-duplication set (addresses kept for the whole run)."
