# tap.sh - TAP for nlsend's shell tests (after mblaze's t/lib.sh).
# Source it; then `check NAME CMD...`, `check_output NAME EXPECTED CMD...`,
# `skip REASON` (one skipped test), `skip_all REASON`, and `done_testing`
# at the end.
# Environment from the Makefile: NLSEND, NLSEND_TOP, B, and the outside
# references NLSEND_CORPUS and MUSTACHE_SPEC (tests/lib/outside.sh).
: "${NLSEND_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${NLSEND:=$NLSEND_TOP/build/nlsend}"
: "${B:=$NLSEND_TOP/build}"
export NLSEND NLSEND_TOP B
. "$NLSEND_TOP/tests/lib/outside.sh"
# Every test works in its own directory, removed at exit, and never reads
# the caller's config or state.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/nlsend-test.XXXXXX")
export HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config" XDG_STATE_HOME="$TMP/home/.state"
mkdir -p "$HOME"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
tap_n=0
tap_fail=0

ok() {	# ok STATUS NAME
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_fail=$((tap_fail + 1))
	fi
}

check() {	# check NAME CMD...: passes when CMD exits 0
	name=$1
	shift
	if "$@" >"$TMP/.out" 2>&1; then ok 0 "$name"; else
		ok 1 "$name"
		sed 's/^/#   /' "$TMP/.out" | head -20
	fi
}

# check_exit NAME CODE CMD...: CMD exits with CODE; its stderr is in $TMP/err
check_exit() {
	name=$1
	want=$2
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok 0 "$name (exit $want)"; else
		ok 1 "$name (exit $got, want $want)"
		sed 's/^/#   /' "$TMP/err" | head -10
	fi
}

# check_grep NAME PATTERN FILE: an extended regex matches a line of FILE
check_grep() {
	if grep -Eq -- "$2" "$3"; then ok 0 "$1"; else
		ok 1 "$1"
		echo "#   no line of $3 matches: $2"
		sed 's/^/#   | /' "$3" | head -10
	fi
}

check_nogrep() {
	if grep -Eq -- "$2" "$3"; then
		ok 1 "$1"
		grep -En -- "$2" "$3" | head -5 | sed 's/^/#   | /'
	else ok 0 "$1"; fi
}

skip() {	# skip REASON: one test that cannot run here, and why
	tap_n=$((tap_n + 1))
	echo "ok $tap_n # SKIP $*"
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_fail" -eq 0 ]
}
