#!/bin/sh
# tls.sh DIR - throwaway TLS material for the delivery tests (openssl):
#   DIR/ca.pem, ca.key          a test CA
#   DIR/server.pem, server.key  a server certificate for 127.0.0.1 and
#                               localhost (subjectAltName: RFC 6125 wants
#                               the IP address there, not in the CN),
#                               signed by that CA
#   DIR/other-ca.pem            an unrelated CA: verifying with it must fail
# ECDSA P-256: fast to make, accepted by GnuTLS and OpenSSL alike.
set -eu
d=$1
mkdir -p "$d"
cd "$d"
q() { "$@" >/dev/null 2>&1 || { echo "tls.sh: $* failed" >&2; exit 1; }; }
key() { q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

key ca.key
q openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=nlsend test CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem
key other-ca.key
q openssl req -x509 -new -key other-ca.key -sha256 -days 2 \
	-subj "/CN=some other CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -out other-ca.pem
key server.key
q openssl req -new -key server.key -subj "/CN=127.0.0.1" -out server.csr
cat > server.ext <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EOF
q openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-sha256 -days 2 -extfile server.ext -out server.pem
rm -f server.csr server.ext ca.srl other-ca.key
