#!/bin/sh
# run.sh DIR TARGET... - run each libFuzzer target DIR/TARGET for
# $FUZZ_SECONDS (default 60) on DIR/corpus/TARGET, a copy of the seed
# corpus tests/fuzz/corpus/TARGET and the regression inputs
# tests/fuzz/regress/TARGET (the checked-in directories are only read).
# New inputs stay in the copy, so a second run starts where the first
# stopped.  Prints one line per target (exec/s, cov: edges, ft: features,
# corpus size) and the log's tail when a target fails; exits 1 when any
# target crashed, leaked, timed out or broke a property (its input is in
# DIR/artifacts/).  Used by `make fuzz` and `make fuzz-ci` (mk/fuzz.mk).
set -u
dir=$1
shift
secs=${FUZZ_SECONDS:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir/artifacts" "$dir/logs"
# Leaks are bugs here too; a hung input is one that takes over 10 s.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=""
printf '%-12s %10s %8s %8s %8s  %s\n' target exec/s cov ft corpus status
for t in "$@"; do
	c="$dir/corpus/$t"
	mkdir -p "$c"
	for src in "$top/tests/fuzz/corpus/$t" "$top/tests/fuzz/regress/$t"; do
		[ -d "$src" ] && cp -p "$src"/* "$c"/ 2>/dev/null
	done
	dict=""
	[ -f "$top/tests/fuzz/$t.dict" ] && dict="-dict=$top/tests/fuzz/$t.dict"
	log="$dir/logs/$t.log"
	# shellcheck disable=SC2086
	"$dir/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" \
		$dict ${FUZZ_FLAGS:-} "$c" >"$log" 2>&1
	st=$?
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	if [ "$st" -eq 0 ]; then status=ok; else
		status="FAILED (exit $st, log $log)"
		failed="$failed $t"
	fi
	printf '%-12s %10s %8s %8s %8s  %s\n' "$t" "${eps:-?}" "${cov:-?}" \
		"${ft:-?}" "${corp:-?}" "$status"
	if [ "$st" -ne 0 ]; then
		# the finding, its source frames and where the input went
		grep -E 'property failed|ERROR:|SUMMARY:|Test unit written|^ +#[0-9]+ .* in [A-Za-z_][A-Za-z0-9_]* /' \
			"$log" | grep -v 'in fuzzer::' | head -16 | sed 's/^/    | /'
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: failed:$failed"
	exit 1
fi
echo "fuzz: all $# targets ran ${secs}s without a finding"
