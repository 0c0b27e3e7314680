#!/usr/bin/env bash
# firmware/ is portable application code: it reaches the OS and the libraries that wrap it
# only through platform/*.hpp. platform/ never depends on firmware/.
set -u
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
bad=0
banned='#include[[:space:]]*[<"](sys/|netdb\.h|unistd\.h|fcntl\.h|poll\.h|signal\.h|csignal|strings\.h|termios\.h|pthread\.h|arpa/|netinet/|mbedtls/|httplib\.h)'
if grep -rnE "$banned" "$top/firmware"; then
  echo "layering: firmware/ must not include OS, socket, mbedTLS or cpp-httplib headers (use platform/)" >&2
  bad=1
fi
if grep -rnE '#include[[:space:]]*"firmware/' "$top/platform"; then
  echo "layering: platform/ must not include firmware/" >&2
  bad=1
fi
[ $bad = 0 ] && echo "layering: ok"
exit $bad
