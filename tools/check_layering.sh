#!/usr/bin/env bash
# firmware/ is portable application code: it reaches the OS and the libraries that wrap it
# only through the interfaces in platform/*.hpp; platform/internal/ is platform's own plumbing
# (framing, intake, deadlines, mbedTLS error text) and stays behind those interfaces. Inside
# firmware/, the model and the store know nothing of the routes, checks or board that use them.
# platform/ never depends on firmware/.
set -u
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
bad=0
banned='#include[[:space:]]*[<"](sys/|netdb\.h|unistd\.h|fcntl\.h|poll\.h|signal\.h|csignal|strings\.h|termios\.h|pthread\.h|arpa/|netinet/|mbedtls/|httplib\.h)'
if grep -rnE "$banned" "$top/firmware"; then
  echo "layering: firmware/ must not include OS, socket, mbedTLS or cpp-httplib headers (use platform/)" >&2
  bad=1
fi
if grep -rnE '#include[[:space:]]*"platform/internal/' "$top/firmware"; then
  echo "layering: firmware/ must not include platform/internal/ (use the interface in platform/*.hpp)" >&2
  bad=1
fi
if grep -rnE '#include[[:space:]]*"firmware/(web|checks|board|monitor|access|metrics)/|#include[[:space:]]*"firmware/(agent|cli)' "$top/firmware/model" "$top/firmware/store" "$top/firmware/tracker"; then
  echo "layering: firmware/model, store and tracker must not include the routes, checks, board, monitor, metrics or agent" >&2
  bad=1
fi
if grep -rnE '#include[[:space:]]*"firmware/checks/' "$top/firmware/board"; then
  echo "layering: the board reaches trackers through firmware/tracker/, not the Test's checks" >&2
  bad=1
fi
if grep -rnE '#include[[:space:]]*"firmware/' "$top/platform"; then
  echo "layering: platform/ must not include firmware/" >&2
  bad=1
fi
[ $bad = 0 ] && echo "layering: ok"
exit $bad
