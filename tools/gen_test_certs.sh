#!/usr/bin/env bash
# Makes a throw-away test PKI in DIR (default build/test-pki), run by the tests at start-up:
#   ca.pem                the test CA (the agent is given it as the connection's CA certificate)
#   good.pem/key          localhost, 127.0.0.1 and ::1, valid now
#   expired.pem/key       localhost, expired 2020-01-02
#   future.pem/key        localhost, valid from 2099
#   wronghost.pem/key     other.example only
#   noip.pem/key          localhost only, no IP address SAN
#   selfsigned.pem/key    localhost, signed by itself
#   other-ca.pem          a CA the agent is never told about; untrusted.pem/key is signed by it
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
mkleaf() {  # NAME CA SAN START END
  q openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=${1}-leaf"
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" > "$1.ext"
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
