#!/bin/sh
# The engine tests of tests/unit/deliver.c again with tests/lib/smtpd.py
# offering PIPELINING (RFC 2920): the same outcomes are expected.
if [ ! -x "$B/tests/deliver.t" ]; then
	echo "1..0 # SKIP $B/tests/deliver.t is not built (make check builds it)"
	exit 0
fi
SMTPD_PIPELINING=1
export SMTPD_PIPELINING
exec "$B/tests/deliver.t"
