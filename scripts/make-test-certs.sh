#!/usr/bin/env bash
# Regenerates the built-in test credentials under testdata/certs/.
#
# TEST AND DEMO USE ONLY: every private key here is published in the
# repository. Never trust the test CA outside tests.
#
# Needs the `openssl` command line (checked with OpenSSL 3.0). The output is
# committed, so tests never run this; rerun it only to change the set, then
# update src/test_credentials.rs and tests/auth.rs (the fixed test dates
# there assume the validity windows below).
#
# What it makes (DER for the library, PEM copies for openssl/curl):
#   ca                 test root CA, ECDSA P-256, CN "tlspair test CA"
#   server-p256        localhost (DNS:localhost, IP:127.0.0.1), ECDSA P-256
#   server-p384        localhost, ECDSA P-384
#   server-ed25519     localhost, Ed25519
#   server-rsa2048     localhost, RSA 2048
#   client-p256        client certificate, ECDSA P-256, clientAuth EKU only
#   client-p384        the same with ECDSA P-384
#   client-ed25519     the same with Ed25519
#   client-rsa2048     the same with RSA 2048
#   expired-p256       localhost, valid 2020-01-01 .. 2021-01-01 only
#   wrong-name-p256    example.com (DNS:example.com), signed by the test CA
#   untrusted-ca       a second root, CN "tlspair untrusted CA", not trusted
#   untrusted-p256     localhost, signed by untrusted-ca
#   impostor-ca        a third root with the test CA's very name but another key
#   impostor-p256      localhost, signed by impostor-ca: its issuer name
#                      matches the trusted CA, its signature does not
# Each end-entity NAME has NAME.der/.pem (certificate) and NAME.key.der
# (PKCS#8, unencrypted) /.key.pem. CA keys are kept (PEM) so more
# certificates can be issued by hand. NAME.spki-sha256.hex is the SPKI pin.
set -euo pipefail
cd "$(dirname "$0")/.."

out=testdata/certs
days=7300 # about 20 years
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

cat >"$work/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused

[ca]
default_ca = test_ca
[test_ca]
database = $ENV::CA_DIR/index.txt
serial = $ENV::CA_DIR/serial
new_certs_dir = $ENV::CA_DIR
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
commonName = supplied

[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[server_localhost]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[server_example]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:example.com
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
export OPENSSL_CONF="$work/openssl.cnf"
# The [test_ca] section reads $CA_DIR whenever the file is loaded; issue()
# points it at the signing CA's database.
export CA_DIR="$work"

# genkey NAME ALG: a fresh private key as PEM (PKCS#8) and PKCS#8 DER.
genkey() {
  local name=$1 alg=$2
  case $alg in
    p256) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$work/$name.key.pem" ;;
    p384) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve -out "$work/$name.key.pem" ;;
    ed25519) openssl genpkey -quiet -algorithm ED25519 -out "$work/$name.key.pem" ;;
    rsa2048) openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/$name.key.pem" ;;
    *) echo "unknown key type $alg" >&2; exit 1 ;;
  esac
  openssl pkcs8 -topk8 -nocrypt -in "$work/$name.key.pem" -out "$out/$name.key.pem"
  openssl pkcs8 -topk8 -nocrypt -in "$work/$name.key.pem" -outform DER -out "$out/$name.key.der"
}

# root NAME CN: a self-signed root CA.
root() {
  local name=$1 cn=$2
  genkey "$name" p256
  openssl req -new -x509 -key "$out/$name.key.pem" -subj "/CN=$cn" -days "$days" \
    -sha256 -extensions v3_ca -out "$out/$name.pem"
  openssl x509 -in "$out/$name.pem" -outform DER -out "$out/$name.der"
  rm "$out/$name.key.der" # CA keys stay PEM: only openssl uses them
  mkdir -p "$work/$name.db"
  : >"$work/$name.db/index.txt"
  openssl rand -hex 16 >"$work/$name.db/serial"
}

# issue NAME ALG CA CN EXTENSIONS [openssl ca validity options...]
issue() {
  local name=$1 alg=$2 ca=$3 cn=$4 ext=$5
  shift 5
  genkey "$name" "$alg"
  openssl req -new -key "$out/$name.key.pem" -subj "/CN=$cn" -out "$work/$name.csr"
  CA_DIR="$work/$ca.db" openssl ca -batch -notext -config "$OPENSSL_CONF" \
    -cert "$out/$ca.pem" -keyfile "$out/$ca.key.pem" -extensions "$ext" \
    -in "$work/$name.csr" -out "$out/$name.pem" "$@" 2>"$work/ca.log" ||
    { cat "$work/ca.log" >&2; exit 1; }
  openssl x509 -in "$out/$name.pem" -outform DER -out "$out/$name.der"
}

root ca "tlspair test CA"
root untrusted-ca "tlspair untrusted CA"
root impostor-ca "tlspair test CA"

issue server-p256 p256 ca localhost server_localhost -days "$days"
issue server-p384 p384 ca localhost server_localhost -days "$days"
issue server-ed25519 ed25519 ca localhost server_localhost -days "$days"
issue server-rsa2048 rsa2048 ca localhost server_localhost -days "$days"
issue client-p256 p256 ca "tlspair test client" client -days "$days"
issue client-p384 p384 ca "tlspair test client" client -days "$days"
issue client-ed25519 ed25519 ca "tlspair test client" client -days "$days"
issue client-rsa2048 rsa2048 ca "tlspair test client" client -days "$days"
issue expired-p256 p256 ca localhost server_localhost \
  -startdate 20200101000000Z -enddate 20210101000000Z
issue wrong-name-p256 p256 ca example.com server_example -days "$days"
issue untrusted-p256 p256 untrusted-ca localhost server_localhost -days "$days"
issue impostor-p256 p256 impostor-ca localhost server_localhost -days "$days"

# The SPKI pin of each end-entity certificate, computed by OpenSSL (hex
# SHA-256 of the DER SubjectPublicKeyInfo): tests check spki_sha256 on it.
for pem in "$out"/*.pem; do
  name=$(basename "$pem" .pem)
  case $name in *.key | *ca) continue ;; esac
  openssl x509 -in "$pem" -pubkey -noout | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -r | cut -d' ' -f1 >"$out/$name.spki-sha256.hex"
done

# Sanity: the good ones verify with OpenSSL itself, the bad ones do not.
for name in server-p256 server-p384 server-ed25519 server-rsa2048; do
  openssl verify -CAfile "$out/ca.pem" -purpose sslserver -verify_hostname localhost "$out/$name.pem" >/dev/null
done
for name in client-p256 client-p384 client-ed25519 client-rsa2048; do
  openssl verify -CAfile "$out/ca.pem" -purpose sslclient "$out/$name.pem" >/dev/null
done
for name in expired-p256 untrusted-p256 impostor-p256; do
  if openssl verify -CAfile "$out/ca.pem" "$out/$name.pem" >/dev/null 2>&1; then
    echo "$name unexpectedly verifies" >&2; exit 1
  fi
done

ls -l "$out"
