#!/usr/bin/env bash
# Makes a throwaway PKI for the HTTP biller tests in OUTDIR (created if missing), with the
# openssl command line only:
#   ca.pem / ca.key          a test CA
#   server.pem / server.key  a server certificate for 127.0.0.1 and localhost
#                            (subjectAltName IP:127.0.0.1, DNS:localhost), signed by that CA
#   other-ca.pem             a second, unrelated CA (the "wrong CA is refused" test)
# Keys are P-256 and live only in OUTDIR: generate at test time, never commit them.
#   usage: make_test_ca.sh OUTDIR
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
out=$1
mkdir -p "$out"
cd "$out"
umask 077

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# The CA: self-signed, allowed to sign certificates.
ec_key ca.key
openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=ussdpay test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.pem 2>/dev/null

# The server certificate, valid for the names the tests connect to.
ec_key server.key
openssl req -new -key server.key -subj "/CN=localhost" -out server.csr 2>/dev/null
cat > server.ext <<'EXT'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EXT
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days 2 \
  -extfile server.ext -out server.pem 2>/dev/null

# A CA that signed nothing here: trusting only it must refuse the server.
ec_key other-ca.key
openssl req -x509 -new -key other-ca.key -sha256 -days 2 -subj "/CN=ussdpay unrelated CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out other-ca.pem 2>/dev/null

rm -f server.csr server.ext ca.srl
chmod 644 ca.pem server.pem other-ca.pem
openssl verify -CAfile ca.pem server.pem >/dev/null
