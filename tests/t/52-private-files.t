#!/bin/sh
# Files that name the readers are private from their first byte: the
# dry-run mbox (every address and unsubscribe token), the state database
# and the unsubscribe key.
. "${NLSEND_TOP:-$(dirname "$0")/../..}/tests/lib/tap.sh"

EX=$NLSEND_TOP/examples

is_mode() {	# is_mode NAME MODE PATH
	got=$(stat -c %a "$3" 2>&1)
	if [ "$got" = "$2" ]; then ok 0 "$1"; else
		ok 1 "$1"
		echo "#   $3: mode $got, want $2"
	fi
}
umask 022
check_exit "a dry run" 0 "$NLSEND" "$EX/issue.yaml" --list "$EX/readers.csv" \
	--dry-run out.mbox --state st/state.db
is_mode "the new mbox is 0600" 600 out.mbox
is_mode "the unsubscribe key is 0600" 600 st/unsubscribe.key
is_mode "its directory is 0700" 700 st
: > kept.mbox
chmod 640 kept.mbox
check_exit "a dry run appending to an existing mbox" 0 "$NLSEND" \
	"$EX/issue.yaml" --list "$EX/readers.csv" --dry-run kept.mbox \
	--state st/state.db
is_mode "an existing mbox keeps its mode" 640 kept.mbox
done_testing
