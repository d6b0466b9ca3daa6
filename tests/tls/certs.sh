#!/usr/bin/env bash
# Makes the certificates of a VNC-over-TLS test (openssl), all in DIR:
#
#   tests/tls/certs.sh DIR NAME...
#
#   ca-cert.pem, server-cert.pem, server-key.pem   QEMU's vnc_tls_x509_cert_dir (the server
#                                                  certificate is for each NAME: DNS names
#                                                  and IP addresses)
#   client/.pki/libvirt/{cacert,clientcert,clientkey}.pem
#                                                  a home directory the way libvirt's client
#                                                  looks for its certificates
#   other-ca/.pki/libvirt/{cacert,clientcert,clientkey}.pem
#                                                  the same made by another CA
set -euo pipefail
dir=$1
shift
[ $# -gt 0 ] || { echo "usage: $0 DIR NAME..." >&2; exit 2; }
mkdir -p "$dir"
cd "$dir"

sans=()
for name in "$@"; do
    if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then sans+=("IP:$name"); else sans+=("DNS:$name"); fi
done
san=$(IFS=,; echo "${sans[*]}")

ca() { # ca NAME: a self-signed CA in NAME-ca.{key,pem}
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -subj "/CN=Virtdeck test CA $1" -keyout "$1-ca.key" -out "$1-ca.pem" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        2>/dev/null
}
issue() { # issue CA NAME EXTENSIONS...: NAME.{key,pem} signed by CA
    local ca=$1 name=$2
    shift 2
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
        -keyout "$name.key" -out "$name.csr" 2>/dev/null
    printf '%s\n' "$@" >"$name.ext"
    openssl x509 -req -in "$name.csr" -CA "$ca-ca.pem" -CAkey "$ca-ca.key" -CAcreateserial \
        -days 30 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
    rm "$name.csr" "$name.ext"
}
home() { # home CA DIR: the client's files as libvirt looks for them under DIR
    mkdir -p "$2/.pki/libvirt"
    cp "$1-ca.pem" "$2/.pki/libvirt/cacert.pem"
    cp "$1-client.pem" "$2/.pki/libvirt/clientcert.pem"
    cp "$1-client.key" "$2/.pki/libvirt/clientkey.pem"
}

ca test
ca other
issue test server "subjectAltName=$san" basicConstraints=CA:FALSE \
    keyUsage=critical,digitalSignature,keyEncipherment extendedKeyUsage=serverAuth
for which in test other; do
    issue "$which" "$which-client" "subjectAltName=DNS:virtdeck-client" basicConstraints=CA:FALSE \
        keyUsage=critical,digitalSignature,keyEncipherment extendedKeyUsage=clientAuth
done
cp test-ca.pem ca-cert.pem
cp server.pem server-cert.pem
cp server.key server-key.pem
home test client
home other other-ca
chmod -R go-rwx "$dir"
