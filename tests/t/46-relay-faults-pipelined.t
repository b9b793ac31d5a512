#!/bin/sh
# 46-relay-faults.t again with tests/lib/smtpd.py offering PIPELINING
# (RFC 2920): the same outcomes are expected.
SMTPD_PIPELINING=1
export SMTPD_PIPELINING
exec "$NLSEND_TOP/tests/t/46-relay-faults.t"
