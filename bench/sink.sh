# bench/sink.sh - sourced by bench/run.sh and bench/scale.sh (bash): one
# counting Postfix smtp-sink at a time on 127.0.0.1, started and stopped by
# PID.  The caller sets: tmp (a private directory), port (the last port
# tried; each start moves past it), sink_pid= (empty), sinkuser (-u nobody
# when root), tick (getconf CLK_TCK), SINK (the smtp-sink path), and die().
# The caller's EXIT trap must kill "$sink_pid" when it is set.

# sink_start: a fresh counting smtp-sink on 127.0.0.1:$port (-c counters
# only: no dump, no fault options); moves to the next port if one is taken.
sink_start() {
	local _try _i
	for _try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((port + 1))
		# shellcheck disable=SC2086
		"$SINK" -c $sinkuser "127.0.0.1:$port" 1000 > "$tmp/sink.out" 2>&1 &
		sink_pid=$!
		for _i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 "$sink_pid" 2>/dev/null || break
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				return 0
			fi
			sleep 0.05
		done
		kill "$sink_pid" 2>/dev/null || :
		wait "$sink_pid" 2>/dev/null || :
		sink_pid=
	done
	die "smtp-sink would not start: $(cat "$tmp/sink.out")"
}

# sink_count: the sink's message counter ("mesg=N" in its -c output, which
# it rewrites after a CR at each "." and each QUIT); waits until it stops
# moving, so a message still being acknowledged is not missed.
sink_count() {
	local c prev=-1 _i
	for _i in 1 2 3 4 5 6 7 8 9 10; do
		c=$(tr '\r' '\n' < "$tmp/sink.out" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1)
		c=${c:-0}
		[ "$c" = "$prev" ] && break
		prev=$c
		sleep 0.1
	done
	echo "$c"
}

# sink_stop: prints the sink's CPU time (user+sys, microseconds, from
# /proc/PID/stat fields 14 and 15), then stops it by PID and reaps it.
sink_stop() {
	local cpu
	cpu=$(awk -v t="$tick" '{ sub(/.*\) /, ""); print int(($12 + $13) * 1e6 / t) }' \
		"/proc/$sink_pid/stat" 2>/dev/null || echo 0)
	kill "$sink_pid" 2>/dev/null || :
	wait "$sink_pid" 2>/dev/null || :
	sink_pid=
	echo "$cpu"
}

# gen N FILE: N distinct subscribers, "Reader I <readerI@bench.example.com>"
gen() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
		printf "Reader %d <reader%d@bench.example.com>\n", i, i }' > "$2"
}
