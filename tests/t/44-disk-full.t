#!/bin/sh
# A full disk: under a dry run's mbox, and under the state database while
# sending.  A clear error naming the file, exit 74; nothing journaled sent
# that was not; and once space is freed the next run sends the rest, each
# recipient exactly once.  The disks are small tmpfs mounts the test makes
# (root only; skipped otherwise) and unmounts.
. "$NLSEND_TOP/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
need_servers
[ "$(id -u)" = 0 ] || skip_all "needs root to mount a small tmpfs"
mkdir -p disk
mount -t tmpfs -o size=64k,mode=0700 tmpfs disk 2>/dev/null ||
	skip_all "cannot mount a tmpfs here"
trap 'umount disk 2>/dev/null; for p in $_pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT

N=4000
make_issue issue.yaml
make_list list.txt $N

check_exit "a dry run onto a full disk" 74 "$NLSEND" issue.yaml --list list.txt \
	--dry-run disk/out.mbox --state st.db
check_grep "names the file and says why" \
	"disk/out.mbox: No space left on device" "$TMP/err"
check_eq "the mbox is as it was before the run" "$(stat -c %s disk/out.mbox)" 0
mount -o remount,size=64m disk
check_exit "with room, the same dry run" 0 "$NLSEND" issue.yaml --list list.txt \
	--dry-run disk/out.mbox --state st.db
check_eq "every message written once" "$(grep -c '^From ' disk/out.mbox)" $N
rm -f disk/out.mbox

# The state database on a disk with about 5.5 MiB free: room for the
# 4 MiB margin and a WAL of 1 MiB, not for the WAL of 32 MiB a roomy disk
# gets (journal.h), nor for the whole journal: the send goes some way and
# stops before its journal cannot be written.
mount -o remount,size=8m disk
avail=$(df -k --output=avail disk | tail -n1)
head -c $(( (avail - 5600) * 1024 )) /dev/zero > disk/filler
start_sink sink || skip_all "smtp-sink did not start"
check_exit "a send whose journal's disk fills" 74 "$NLSEND" issue.yaml \
	--list list.txt --smtp "smtp://127.0.0.1:$SINK_PORT" --tls=no \
	--state disk/state.db --no-progress
check_grep "it says so" "almost full .* free some space and run the same command again" \
	"$TMP/err"
sent=$(rows disk/state.db sent)
n1=$(ls sink | wc -l)
[ "$sent" -gt 0 ] && [ "$sent" -lt $N ]
ok $? "it went some way and stopped before the end ($sent sent)"
check_eq "every message the journal says sent is at the sink" "$n1" "$sent"
check_eq "nothing left in flight" "$(rows disk/state.db inflight)" 0
rm -f disk/filler
check_exit "with room again, the re-run" 0 "$NLSEND" issue.yaml --list list.txt \
	--smtp "smtp://127.0.0.1:$SINK_PORT" --tls=no --state disk/state.db \
	--no-progress
stop_pid "$SINK_PID"
check_eq "every recipient exactly once" "$($MAILCHECK count-sink sink list.txt)" \
	"received $N, lost 0, duplicates 0, strangers 0"
done_testing
