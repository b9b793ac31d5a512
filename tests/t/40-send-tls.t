#!/bin/sh
# TLS: a server without STARTTLS when TLS is required (the
# default) is refused with exit 69 before anything is sent in clear or
# recorded; STARTTLS and implicit TLS verified with a CA the test makes; a
# wrong CA is refused.
. "$NLSEND_TOP/tests/lib/tap.sh"
. "$NLSEND_TOP/tests/lib/send.sh"
need_servers

make_issue issue.yaml
make_list list.txt 5
make_tls tls || skip_all "tls.sh could not make a test CA"

# No STARTTLS offered, TLS required.
start_smtpd plain
check_exit "no STARTTLS offered: unavailable" 69 "$NLSEND" issue.yaml \
	--list list.txt --smtp "smtp://127.0.0.1:$SMTPD_PORT" --state a.db \
	--ca-file tls/ca.pem --no-progress
check_grep "the message says so" "^nlsend: .*STARTTLS" err
check_eq "no MAIL in clear" "$(log_count plain mail)" 0
check_eq "no AUTH in clear" "$(log_count plain auth)" 0
check_eq "no message in clear" "$(log_count plain message)" 0
check_eq "nobody marked in the journal" "$(rows a.db)" 0
check_exit "--tls=no allows it" 0 "$NLSEND" issue.yaml --list list.txt \
	--smtp "smtp://127.0.0.1:$SMTPD_PORT" --tls=no --state a.db --no-progress
check_eq "5 messages" "$(log_count plain message)" 5
stop_pid "$SMTPD_PID"

# STARTTLS.
start_smtpd starttls --cert tls/server.pem --key tls/server.key --starttls \
	--require-starttls
check_exit "STARTTLS with the wrong CA: refused" 69 "$NLSEND" issue.yaml \
	--list list.txt --smtp "smtp://127.0.0.1:$SMTPD_PORT" --state b.db \
	--ca-file tls/other-ca.pem --no-progress
check_grep "a TLS/certificate message" "^nlsend: .*(TLS|certificate)" err
check_eq "nothing sent with the wrong CA" "$(log_count starttls mail)" 0
check_eq "nobody marked" "$(rows b.db)" 0
check_exit "STARTTLS without --ca-file: the system store refuses the test CA" \
	69 "$NLSEND" issue.yaml --list list.txt \
	--smtp "smtp://127.0.0.1:$SMTPD_PORT" --state b.db --no-progress
check_exit "STARTTLS with the test CA" 0 "$NLSEND" issue.yaml --list list.txt \
	--smtp "smtp://127.0.0.1:$SMTPD_PORT" --state b.db --ca-file tls/ca.pem \
	--no-progress
check_eq "5 messages, all under TLS" "$(log_count starttls message '"tls": true')" 5
check_eq "and none without" "$(log_count starttls message)" 5
stop_pid "$SMTPD_PID"

# Implicit TLS (smtps://).
start_smtpd smtps --cert tls/server.pem --key tls/server.key --implicit-tls
check_exit "smtps:// with the wrong CA: refused" 69 "$NLSEND" issue.yaml \
	--list list.txt --smtp "smtps://127.0.0.1:$SMTPD_PORT" --state c.db \
	--ca-file tls/other-ca.pem --no-progress
check_eq "nobody marked" "$(rows c.db)" 0
check_exit "smtps:// with the test CA" 0 "$NLSEND" issue.yaml --list list.txt \
	--smtp "smtps://127.0.0.1:$SMTPD_PORT" --state c.db --ca-file tls/ca.pem \
	--no-progress
check_eq "5 messages under TLS" "$(log_count smtps message '"tls": true')" 5
stop_pid "$SMTPD_PID"

# Unreachable: 69, nobody marked.
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
check_exit "unreachable server" 69 "$NLSEND" issue.yaml --list list.txt \
	--smtp "smtp://127.0.0.1:$port" --tls=no --state d.db --no-progress
check_eq "nobody marked" "$(rows d.db)" 0
done_testing
