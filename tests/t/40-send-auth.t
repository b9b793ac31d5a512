#!/bin/sh
# AUTH PLAIN with the password from each source (config, password_command,
# NLSEND_SMTP_PASSWORD, ~/.netrc), over STARTTLS with a test CA.  The
# password (and its AUTH PLAIN base64 form) appears nowhere in stderr, the
# --verbose output, stdout or the journal.
. "$NLSEND_TOP/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
need_servers

make_issue issue.yaml
make_list list.txt 4
make_tls tls || skip_all "tls.sh could not make a test CA"

# leaks NAME PASSWORD DB: PASSWORD (plain, or as AUTH PLAIN sends it) in
# none of out, err and the journal files
leaks() {
	b64=$(/usr/bin/python3 -c 'import base64,sys; print(base64.b64encode(b"\0ada\0" + sys.argv[1].encode()).decode())' "$2")
	found=""
	for f in out err "$3" "$3-wal" "$3-shm"; do
		[ -f "$f" ] || continue
		if grep -aqF -e "$2" -e "$b64" "$f"; then found="$found $f"; fi
	done
	if [ -z "$found" ]; then ok 0 "$1: the password is in no output and not in the journal"
	else
		ok 1 "$1: the password is in no output and not in the journal"
		echo "#   found in:$found"
	fi
}

# try NAME PASSWORD ARGS...: a server that wants ada:PASSWORD, a --verbose send
try() {
	who=$1
	pw=$2
	shift 2
	start_smtpd "srv-$who" --cert tls/server.pem --key tls/server.key \
		--starttls --require-starttls --auth "ada:$pw" --auth-required
	check_exit "$who: sent" 0 "$NLSEND" issue.yaml --list list.txt \
		--smtp "smtp://127.0.0.1:$SMTPD_PORT" --ca-file tls/ca.pem \
		--state "$who.db" --verbose --no-progress "$@"
	plain_ok=$(grep '"ev": "auth"' "srv-$who/log.jsonl" | grep '"mech": "PLAIN"' |
		grep -c '"ok": true')
	[ "$plain_ok" -ge 1 ] && [ "$(log_count "srv-$who" auth '"ok": false')" -eq 0 ]
	ok $? "$who: AUTH PLAIN accepted, no login refused"
	check_eq "$who: 4 messages after the login" \
		"$(log_count "srv-$who" message '"auth": "ada"')" 4
	check_grep "$who: --verbose shows each outcome" "^nlsend: user00001@example.org: 250 " err
	leaks "$who" "$pw" "$who.db"
	stop_pid "$SMTPD_PID"
}

# 1. password in the config (mode 0600)
pw1='Cfg-pa55word-1'
printf 'user: ada\npassword: "%s"\n' "$pw1" > cfg1.yaml
chmod 600 cfg1.yaml
try config "$pw1" --config cfg1.yaml

# ... which is refused when others can read the file
chmod 644 cfg1.yaml
check_exit "a readable config with a password: refused" 78 "$NLSEND" \
	issue.yaml --list list.txt --smtp "smtp://127.0.0.1:1" \
	--ca-file tls/ca.pem --state x.db --config cfg1.yaml
check_nogrep "and the password is not shown" "$pw1" err

# 2. password_command
pw2='Cmd-pa55word-2'
printf 'user: ada\npassword_command: "echo %s"\n' "$pw2" > cfg2.yaml
chmod 644 cfg2.yaml
try password_command "$pw2" --config cfg2.yaml

# 3. NLSEND_SMTP_PASSWORD
pw3='Env-pa55word-3'
printf 'user: ada\n' > cfg3.yaml
NLSEND_SMTP_PASSWORD=$pw3
export NLSEND_SMTP_PASSWORD
try environment "$pw3" --config cfg3.yaml
unset NLSEND_SMTP_PASSWORD

# 4. ~/.netrc (no user, no password in the config)
pw4='Netrc-pa55word-4'
printf 'machine 127.0.0.1 login ada password %s\n' "$pw4" > "$HOME/.netrc"
chmod 600 "$HOME/.netrc"
try netrc "$pw4"
rm -f "$HOME/.netrc"

# A wrong password: 69 before anyone is marked, and not shown either.
start_smtpd srv-wrong --cert tls/server.pem --key tls/server.key --starttls \
	--auth "ada:right-one" --auth-required
NLSEND_SMTP_PASSWORD='Wrong-pa55word-5'
export NLSEND_SMTP_PASSWORD
check_exit "a refused login" 69 "$NLSEND" issue.yaml --list list.txt \
	--smtp "smtp://127.0.0.1:$SMTPD_PORT" --ca-file tls/ca.pem \
	--state wrong.db --config cfg3.yaml --verbose --no-progress
unset NLSEND_SMTP_PASSWORD
check_eq "nobody marked" "$(rows wrong.db)" 0
check_eq "no MAIL after the refused login" "$(log_count srv-wrong mail)" 0
leaks "refused login" 'Wrong-pa55word-5' wrong.db
stop_pid "$SMTPD_PID"
done_testing
