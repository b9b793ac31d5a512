#!/bin/sh
# bench/compose.sh - composition speed and memory, loopback-free:
#   1. 10,000 recipients of the corpus issue (bench/issue.sh: the test
#      issue when there is no corpus) into an mbox on disk and into
#      /dev/null: messages/s and MB/s (median of 3 runs, pinned to one core);
#   2. 1,000,000 generated recipients to /dev/null: time and peak RSS.
# Usage: bench/compose.sh [NLSEND] (make bench-compose passes build/nlsend)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
nlsend=${1:-$top/build/nlsend}
. "$top/bench/issue.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nlsend-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp" XDG_STATE_HOME="$tmp/state" XDG_CONFIG_HOME="$tmp/cfg"
pin=""
command -v taskset >/dev/null && pin="taskset -c 0"

gen() {	# gen N FILE: N distinct subscribers, "Name <addr>" lines
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
		printf "Reader %d <reader%d@bench.example.com>\n", i, i }' > "$2"
}

# run N LIST OUT: prints "elapsed user sys maxrss_kb" of one dry run
run() {
	rm -f "$3.real"
	/usr/bin/time -f "%e %U %S %M" -o "$tmp/time" \
		$pin "$nlsend" "$issue" --list "$2" --dry-run "$3" --quiet
	cat "$tmp/time"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

gen 10000 "$tmp/10k.txt"
echo "nlsend composition benchmark: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "issue: $issue_name (6 sections, embedded PNG)"
rm -f "$tmp/one.mbox"
"$nlsend" "$issue" --list "$tmp/10k.txt" --dry-run "$tmp/one.mbox" --quiet
bytes=$(wc -c < "$tmp/one.mbox")
per=$((bytes / 10000))
echo "message size: $per bytes on average (mbox framing included)"
for sink in disk null; do
	: > "$tmp/e"
	for i in 1 2 3; do
		if [ $sink = disk ]; then out="$tmp/out.mbox"; rm -f "$out"; else out=/dev/null; fi
		run 10000 "$tmp/10k.txt" "$out" | awk '{ print $1 }' >> "$tmp/e"
	done
	e=$(median < "$tmp/e")
	awk -v e="$e" -v b="$bytes" -v s="$sink" 'BEGIN {
		if (e < 0.001) e = 0.001
		printf "10,000 recipients -> %-9s %8.0f msg/s %8.1f MB/s  (median %.2f s of 3)\n",
			(s == "disk" ? "mbox file" : "/dev/null"), 10000 / e, b / e / 1e6, e }'
done
gen 1000000 "$tmp/1m.txt"
set -- $(run 1000000 "$tmp/1m.txt" /dev/null)
awk -v e="$1" -v u="$2" -v s="$3" -v m="$4" 'BEGIN {
	printf "1,000,000 recipients -> /dev/null: %.1f s (%.0f msg/s), cpu %.1f s, peak RSS %.1f MB\n",
		e, 1e6 / (e > 0 ? e : 1), u + s, m / 1024 }'
