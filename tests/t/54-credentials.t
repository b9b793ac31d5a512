#!/bin/sh
# Credentials stay secret: never in argv, never in clear over the network,
# never in a file others can read.
. "${NLSEND_TOP:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
need_servers

EX=$NLSEND_TOP/examples
SEND="$NLSEND $EX/issue.yaml --list $EX/readers.csv --state st.db"

check_exit "a password in --smtp's URL is refused" 64 \
	$SEND --smtp smtp://ada:hunter2@127.0.0.1:9
check_grep "it says where to put it" "put it in the config" "$TMP/err"
check_nogrep "the message does not repeat the password" "hunter2" "$TMP/err"
check_exit "a user without a password in the URL is fine on the command line" \
	69 timeout 20 $SEND --smtp smtp://ada@127.0.0.1:9 --tls=no

# TEST-NET-1 (RFC 5737): never reached, the refusal comes first.
printf 'user: ada\npassword: hunter2\n' > pw.yaml
chmod 600 pw.yaml
check_exit "--tls=no with a login to a host off this machine" 78 \
	timeout 20 $SEND --config pw.yaml --smtp smtp://192.0.2.1:25 --tls=no
check_grep "it says why" "password would cross the network in clear" \
	"$TMP/err"
check_exit "--tls=no with a login to localhost is allowed (then unreachable)" \
	69 timeout 20 $SEND --config pw.yaml --smtp smtp://127.0.0.1:9 --tls=no
printf 'smtp: smtp://ada:hunter2@192.0.2.1:25\n' > url.yaml
chmod 600 url.yaml
check_exit "--tls=no with a password in the config's URL" 78 \
	timeout 20 $SEND --config url.yaml --tls=no
chmod 644 url.yaml
check_exit "a password in the URL of a config others can read" 78 \
	$SEND --config url.yaml
check_grep "chmod 600" "readable by others \\(chmod 600" "$TMP/err"
check_nogrep "no password in the message" "hunter2" "$TMP/err"
# user: in the config, its password in ~/.netrc (as msmtp and curl read
# it): the entry of that login is used, in either layout.
start_smtpd srv --auth ada:s3cret --auth-plaintext
ok $? "smtpd.py with AUTH started"
printf 'user: ada\n' > user.yaml
printf 'ada@example.org\n' > one.txt
n=0
for layout in 'machine 127.0.0.1\nlogin ada\npassword s3cret\n' \
	'machine other.example login ada password nope\nmachine 127.0.0.1 login bob password nope machine 127.0.0.1 login ada password s3cret\n' \
	'macdef init\ncd /\n\ndefault login ada password "s3cret"\n'; do
	n=$((n + 1))
	printf "$layout" > "$HOME/.netrc"
	chmod 600 "$HOME/.netrc"
	check_exit "netrc layout $n: the login's password is used" 0 \
		timeout 30 "$NLSEND" "$EX/issue.yaml" --list one.txt \
		--config user.yaml --smtp "smtp://127.0.0.1:$SMTPD_PORT" \
		--tls=no --state "nrc$n.db" --no-progress
done
check_nogrep "the password never reaches the output" "s3cret" "$TMP/err"
rm -f "$HOME/.netrc"
stop_pid "$SMTPD_PID"
done_testing
