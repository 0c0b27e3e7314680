#!/usr/bin/env bash
# Makes a throw-away test PKI in DIR (default build/test-pki), run by the tests at start-up:
#   ca.pem                the test CA (the agent is given it as the connection's CA certificate)
#   good.pem/key          localhost, 127.0.0.1 and ::1, valid now
#   expired.pem/key       localhost, expired 2020-01-02
#   future.pem/key        localhost, valid from 2099
#   wronghost.pem/key     other.example only
#   noip.pem/key          localhost only, no IP address SAN
#   selfsigned.pem/key    localhost, signed by itself
#   other-ca.pem          a CA the agent is never told about; untrusted.pem/key is signed by it and
#                         served with it (leaf + that root), as a server of a private CA would
#   intermediate.pem      an intermediate CA signed by the test CA
#   nochain.pem/key       localhost, signed by the intermediate, served WITHOUT it (incomplete chain)
#   chain.pem/key         the same leaf followed by the intermediate (the full chain)
#   badip.pem/key         localhost plus an iPAddress name of 5 bytes (neither IPv4 nor IPv6)
#   ec256, ec384          localhost and 127.0.0.1 with an ECDSA P-256 / P-384 key (signed by the test CA)
#   ec521, ed25519        the same with a P-521 or an Ed25519 key, which tracklight is not built for
#
# The PKI appears whole or not at all: it is made in a private folder beside DIR and renamed
# into place, so test processes started in parallel never read a half-written key. DIR/.done
# holds this script's hash; a PKI made by another version of the script is made again.
set -euo pipefail
dir=${1:-build/test-pki}
stamp=$(sha256sum "$0" | cut -d' ' -f1)
[ "$(cat "$dir/.done" 2>/dev/null)" = "$stamp" ] && exit 0
mkdir -p "$(dirname "$dir")"
dir=$(cd "$(dirname "$dir")" && pwd)/$(basename "$dir")
work=$(mktemp -d "$dir.new.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
q() { "$@" >/dev/null 2>&1; }
mkca() {  # NAME SUBJECT
  q openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 3650 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}
mkleaf() {  # NAME CA SAN START END [KEY-TYPE, as openssl req -newkey takes it]
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" > "$1.ext"
  sign "$1" "$2" "/CN=${1}-leaf" "$4" "$5" "${6:-rsa:2048}"
}
sign() {  # NAME CA SUBJECT START END [KEY-TYPE], extensions in NAME.ext
  local keyopts=(-newkey "${6:-rsa:2048}")
  case "${6:-}" in ec:*) keyopts=(-newkey ec -pkeyopt "ec_paramgen_curve:${6#ec:}") ;; esac
  q openssl req "${keyopts[@]}" -nodes -keyout "$1.key" -out "$1.csr" -subj "$3"
  mkdir -p db; : > db/index; echo 1000 > db/serial
  cat > ca.cnf <<CNF
[ca]
default_ca = d
[d]
dir = .
database = db/index
serial = db/serial
new_certs_dir = db
default_md = sha256
policy = p
copy_extensions = none
unique_subject = no
[p]
commonName = supplied
CNF
  q openssl ca -batch -config ca.cnf -cert "$2.pem" -keyfile "$2.key" -in "$1.csr" -out "$1.pem" \
    -startdate "$4" -enddate "$5" -extfile "$1.ext" -notext
  rm -f "$1.csr" "$1.ext"
}
mkca ca "tracklight test CA"
mkca other-ca "Some Other CA"
mkleaf good ca "DNS:localhost,IP:127.0.0.1,IP:::1" 20250101000000Z 20450101000000Z
mkleaf expired ca "DNS:localhost,IP:127.0.0.1" 20190101000000Z 20200102000000Z
mkleaf future ca "DNS:localhost,IP:127.0.0.1" 20990101000000Z 21000101000000Z
mkleaf wronghost ca "DNS:other.example" 20250101000000Z 20450101000000Z
mkleaf noip ca "DNS:localhost" 20250101000000Z 20450101000000Z
mkleaf untrusted other-ca "DNS:localhost,IP:127.0.0.1" 20250101000000Z 20450101000000Z
cat other-ca.pem >> untrusted.pem
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' > intermediate.ext
sign intermediate ca "/CN=tracklight test intermediate" 20250101000000Z 20450101000000Z
mkleaf nochain intermediate "DNS:localhost,IP:127.0.0.1" 20250101000000Z 20450101000000Z
cat nochain.pem intermediate.pem > chain.pem
cp nochain.key chain.key
# GeneralNames { dNSName "localhost", iPAddress 7f:00:00:01:01 }: openssl's IP: syntax cannot
# write a malformed address, so the extension is given as DER.
mkleaf badip ca "DER:301282096c6f63616c686f737487057f00000101" 20250101000000Z 20450101000000Z
mkleaf ec256 ca "DNS:localhost,IP:127.0.0.1" 20250101000000Z 20450101000000Z ec:P-256
mkleaf ec384 ca "DNS:localhost,IP:127.0.0.1" 20250101000000Z 20450101000000Z ec:P-384
mkleaf ec521 ca "DNS:localhost,IP:127.0.0.1" 20250101000000Z 20450101000000Z ec:P-521
mkleaf ed25519 ca "DNS:localhost,IP:127.0.0.1" 20250101000000Z 20450101000000Z ed25519
q openssl req -x509 -newkey rsa:2048 -nodes -keyout selfsigned.key -out selfsigned.pem -days 3650 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"
rm -rf db ca.cnf
echo "$stamp" > .done
chmod 755 .
# Another process may have won the race: then its PKI (same script, same shape) is kept.
if [ "$(cat "$dir/.done" 2>/dev/null)" != "$stamp" ]; then
  old=$(mktemp -d "$dir.old.XXXXXX")
  [ -e "$dir" ] && mv -T "$dir" "$old/pki" 2>/dev/null || true
  mv -T "$work" "$dir" 2>/dev/null || true
  rm -rf "$old"
fi
