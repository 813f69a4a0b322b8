#!/usr/bin/env bash
# Certificates for the tests' TLS (openssl from Debian), into DIR (keys 0600):
#   ca.pem ca.key             the CA the server and its clients trust
#   server.pem server.key     the server: SAN localhost, 127.0.0.1 (not temporal.example)
#   client.pem client.key     a client the CA signed
#   expired.pem expired.key   a client the CA signed, valid only in January 2020
#   other-ca.pem              another CA, and other-client.pem/.key signed by it (a server refuses it)
#   scripts/test-certs.sh DIR
set -euo pipefail
DIR=${1:?usage: scripts/test-certs.sh DIR}
mkdir -p "$DIR"
cd "$DIR"
umask 077
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { # ca NAME CN
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 30 -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
leaf() { # leaf NAME CN CA EXT [extra x509 args]
  local name=$1 cn=$2 ca=$3 ext=$4
  shift 4
  key "$name.key"
  openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial -days 30 \
    -extfile "$name.ext" -out "$name.pem" "$@" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}
ca ca "kubeadm-ha test CA"
ca other-ca "another CA"
leaf server localhost ca "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
leaf client kubeadm-ha-worker ca "extendedKeyUsage=clientAuth"
leaf other-client kubeadm-ha-worker other-ca "extendedKeyUsage=clientAuth"
# Expired: `openssl ca` sets both dates (x509 -req cannot before OpenSSL 3.4's -not_before/-not_after).
key expired.key
openssl req -new -key expired.key -subj "/CN=kubeadm-ha-expired" -out expired.csr 2>/dev/null
mkdir -p ca-db && : >ca-db/index.txt && echo 1000 >ca-db/serial
cat >ca-db/ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = ca-db
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
[ext]
extendedKeyUsage = clientAuth
CNF
openssl ca -batch -config ca-db/ca.cnf -extensions ext -startdate 20200101000000Z -enddate 20200131000000Z \
  -in expired.csr -out expired.pem -notext 2>/dev/null
rm -rf ca-db expired.csr ca.srl other-ca.srl
chmod 644 ./*.pem
