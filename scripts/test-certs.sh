#!/usr/bin/env bash
# Certificates for the tests' TLS (openssl; keys 0600, EC P-256), into DIR:
#   ca.pem ca.key                            the CA the server trusts for client certificates, and
#                                            that signed the server certificate
#   server.pem server.key                    a server: SAN DNS:localhost, IP:127.0.0.1 (NOT
#                                            temporal.example: a client that expects that name must fail)
#   client.pem client.key                    a client certificate signed by ca.pem (CN kubeadm-ha-client)
#   wrong-ca.pem wrong-ca.key                a second CA the server does not trust
#   wrong-ca-client.pem wrong-ca-client.key  a client certificate signed by wrong-ca.pem
#   expired-client.pem expired-client.key    a client certificate signed by ca.pem, valid only
#                                            2020-01-01..2020-01-02
#   wrong-name-server.pem wrong-name-server.key  a server certificate signed by ca.pem for wrong.example only
#
#   scripts/test-certs.sh DIR
set -euo pipefail
TLS=${1:?usage: scripts/test-certs.sh DIR}
mkdir -p "$TLS"
chmod 700 "$TLS"
w=$(mktemp -d /tmp/kha-test-ca.XXXXXX)
trap 'rm -rf "$w"' EXIT
  (
    set -e
    umask 077
    cd "$TLS"
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }
    ca() { # ca NAME CN
      key "$1.key"
      openssl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "/CN=$2" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out "$1.pem"
    }
    leaf() { # leaf NAME CN CA EXTENSIONS
      key "$1.key"
      openssl req -new -key "$1.key" -subj "/CN=$2" -out "$w/$1.csr"
      printf '%b' "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n$4\n" > "$w/$1.ext"
      openssl x509 -req -in "$w/$1.csr" -CA "$3.pem" -CAkey "$3.key" -set_serial "0x$(openssl rand -hex 16)" \
        -days 825 -sha256 -extfile "$w/$1.ext" -out "$1.pem" 2>/dev/null
    }
    ca ca kubeadm-ha-test-ca
    leaf server localhost ca 'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1'
    leaf client kubeadm-ha-client ca 'extendedKeyUsage=clientAuth'
    leaf wrong-name-server wrong.example ca 'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:wrong.example'
    ca wrong-ca kubeadm-ha-wrong-ca
    leaf wrong-ca-client kubeadm-ha-client wrong-ca 'extendedKeyUsage=clientAuth'
    # Expired: OpenSSL 3.0's x509 has no -not_before/-not_after, so `openssl ca` with explicit dates.
    key expired-client.key
    openssl req -new -key expired-client.key -subj /CN=kubeadm-ha-client -out "$w/expired.csr"
    mkdir -p "$w/newcerts"; : > "$w/index.txt"; openssl rand -hex 16 > "$w/serial"
    cat > "$w/ca.cnf" <<EOF
[ca]
default_ca = ca_default
[ca_default]
database = $w/index.txt
new_certs_dir = $w/newcerts
serial = $w/serial
default_md = sha256
policy = policy_any
unique_subject = no
[policy_any]
commonName = supplied
[client_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
EOF
    openssl ca -batch -notext -config "$w/ca.cnf" -cert ca.pem -keyfile ca.key -in "$w/expired.csr" \
      -startdate 20200101000000Z -enddate 20200102000000Z -extensions client_ext -out expired-client.pem 2>/dev/null
    chmod 644 ./*.pem
  )
