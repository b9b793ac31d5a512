#!/bin/sh
# 40-send-tls.t again with tests/lib/smtpd.py offering PIPELINING (RFC 2920),
# so that nlsend groups its commands: the same outcomes are expected.
SMTPD_PIPELINING=1
export SMTPD_PIPELINING
exec "$NLSEND_TOP/tests/t/40-send-tls.t"
