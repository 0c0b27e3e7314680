#!/usr/bin/env bash
# Tests tools/kiosk-setup in a temporary home: the unit and the Chromium command line it writes,
# the autostart lines, refusals, --uninstall, a second run, and Debian's Chromium taking the flags.
# systemctl is a stub on PATH (this machine has no user systemd). Prints "ok"/"not ok" per check
# and ends with "kiosk: N passed, N failed".
# shellcheck disable=SC2016  # single quotes keep "$" literal on purpose
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
script=$top/tools/kiosk-setup
tmp=$(mktemp -d); server=""
trap '[ -z "$server" ] || kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
bad() { echo "not ok - $1"; [ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/    /'; failed=$((failed + 1)); }
check() { local n=$1; shift; if "$@"; then ok "$n"; else bad "$n" "${out:-}"; fi; }
expect() { if [ $? = 0 ]; then ok "$1"; else bad "$1" "${out:-}"; fi; }  # after a compound test

# The script refuses root without --user, so it runs as nobody here when the test is root.
me=$(id -un); as=()
[ "$(id -u)" = 0 ] && { me=nobody; as=(setpriv --reuid=nobody --regid=nogroup --clear-groups); }
mkdir -p "$tmp/bin"
cat >"$tmp/bin/systemctl" <<'EOF'
#!/bin/sh
echo "$*" >>"$STUB_LOG"
[ "${STUB_SYSTEMD:-up}" = up ]
EOF
printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/chromium-browser"
chmod 755 "$tmp/bin/systemctl" "$tmp/bin/chromium-browser"
fresh() {  # a new empty home owned by the user the script runs as
  home="$tmp/home$((++homes))"; mkdir -p "$home"; : >"$tmp/log$homes"
  [ ${#as[@]} = 0 ] || chown nobody "$home" "$tmp/log$homes"
  log="$tmp/log$homes"; unit="$home/.config/systemd/user/tracklight-kiosk.service"
}
homes=0
run() {  # run [ENV=VALUE...] -- ARGS: the script in $home; sets out and rc
  local env=()
  while [ "$1" != -- ]; do env+=("$1"); shift; done; shift
  out=$("${as[@]}" env -u XDG_CURRENT_DESKTOP HOME="$home" PATH="$tmp/bin:$PATH" STUB_LOG="$log" \
        "${env[@]}" "$script" "$@" 2>&1); rc=$?
}
empty_home() { [ -z "$(find "$home" -mindepth 1 -print -quit)" ]; }
execstart() { sed -n 's/^ExecStart=//p' "$unit"; }
has_word() { [[ " $(execstart) " == *" $1 "* ]]; }
snapshot() { (cd "$home" && find . -type f -exec sha256sum {} + | sort); }

# 1. --dry-run prints the unit and the command line, writes nothing, calls nothing.
fresh; run -- --compositor labwc --dry-run
check "dry-run succeeds" [ $rc = 0 ]
check "dry-run prints the unit" grep -q '^ExecStart=/usr/bin/chromium --kiosk' <<<"$out"
check "dry-run prints the command line" grep -qx '/usr/bin/chromium .* "http://127.0.0.1:8080/board"' <<<"$out"
check "dry-run writes nothing" empty_home
check "dry-run calls no systemctl" [ ! -s "$log" ]

# 2. A real install for labwc, with a user systemd.
fresh; mkdir -p "$home/.config/labwc"; echo "swaybg -c '#000000' &" >"$home/.config/labwc/autostart"
[ ${#as[@]} = 0 ] || chown -R nobody "$home/.config"
run -- --compositor labwc
check "install succeeds" [ $rc = 0 ]
check "unit written" [ -f "$unit" ]
check "ExecStart starts Debian's Chromium" grep -q '^ExecStart=/usr/bin/chromium ' "$unit"
for f in --kiosk --no-first-run --no-default-browser-check --hide-crash-restore-bubble --noerrdialogs \
         --disable-infobars --disable-features=Translate --password-store=basic --disable-notifications \
         --deny-permission-prompts --ozone-platform-hint=auto \
         "\"--user-data-dir=$home/.local/share/tracklight-kiosk\"" '"http://127.0.0.1:8080/board"'; do
  out=$(execstart); check "ExecStart has $f" has_word "$f"
done
out=$(cat "$unit")
check "the URL is the last word" grep -q ' "http://127.0.0.1:8080/board"$' "$unit"
check "Restart=always" grep -qx 'Restart=always' "$unit"
check "RestartSec set" grep -qx 'RestartSec=5' "$unit"
check "After graphical-session.target" grep -qx 'After=graphical-session.target' "$unit"
check "PartOf graphical-session.target" grep -qx 'PartOf=graphical-session.target' "$unit"
check "WantedBy graphical-session.target" grep -qx 'WantedBy=graphical-session.target' "$unit"
grep -qx 'systemctl --user import-environment .* && systemctl --user --no-block start tracklight-kiosk.service # tracklight-kiosk' "$home/.config/labwc/autostart"; expect "labwc autostart starts it"
check "labwc autostart keeps the user's line" grep -qx "swaybg -c '#000000' &" "$home/.config/labwc/autostart"
check "daemon-reload" grep -qx -- '--user daemon-reload' "$log"
check "enable --now" grep -qx -- '--user enable --now tracklight-kiosk.service' "$log"
check "files belong to the user" [ -z "$(find "$home" ! -user "$me" -print -quit)" ]
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$tmp/run"; chmod 700 "$tmp/run"
  out=$(XDG_RUNTIME_DIR="$tmp/run" systemd-analyze --user verify "$unit" 2>&1); rc=$?
  [ $rc = 0 ] && [ -z "$out" ]; expect "systemd-analyze --user verify is clean"
else bad "systemd-analyze missing (tools/bootstrap installs systemd)"; fi

# 3. A second run changes nothing and does not add a second autostart line.
before=$(snapshot); run -- --compositor labwc
check "second run succeeds" [ $rc = 0 ]
check "second run leaves every file as it was" [ "$before" = "$(snapshot)" ]

# 4. The board on another device: a key URL; "%" is doubled for systemd, kept in the command line.
fresh; run -- --compositor gnome --url 'https://kiosk.lan:8443/board?key=a%2Fb-_~'
check "key URL accepted" [ $rc = 0 ]
check "%% in the unit" grep -q ' "https://kiosk.lan:8443/board?key=a%%2Fb-_~"$' "$unit"
[ ! -e "$home/.config/labwc" ] && [ ! -e "$home/.config/wayfire.ini" ]; expect "gnome: no autostart file"
if command -v systemd-analyze >/dev/null; then
  out=$(XDG_RUNTIME_DIR="$tmp/run" systemd-analyze --user verify "$unit" 2>&1); rc=$?
  [ $rc = 0 ] && [ -z "$out" ]; expect "systemd-analyze takes the key URL"
fi
run -- --compositor gnome --url 'https://kiosk.lan:8443/board?key=a%2Fb-_~' --print
check "--print shows the URL as typed" grep -qx '/usr/bin/chromium .* "https://kiosk.lan:8443/board?key=a%2Fb-_~"' <<<"$out"

# 5. Refusals: bad URLs, no Chromium, an unknown compositor; nothing written.
for u in ftp://x/board 'http://x/a b' 'http://x/"q' "http://x/'q" 'http://x/$HOME' 'http://x/\n' \
         $'http://x/\nExecStartPre=/bin/sh' javascript:alert 'http://' '127.0.0.1:8080/board'; do
  fresh; run -- --compositor labwc --url "$u"; name="refuses URL $(printf %q "$u")"
  [ $rc = 1 ] && grep -q 'invalid URL' <<<"$out" && empty_home; expect "$name"
done
fresh; run TRACKLIGHT_KIOSK_BROWSERS="$tmp/none/chromium $tmp/none/chromium-browser" -- --compositor labwc
[ $rc = 1 ] && grep -q 'sudo apt install chromium' <<<"$out" && empty_home; expect "no Chromium: says how to install it"
fresh; run TRACKLIGHT_KIOSK_BROWSERS="$tmp/none/chromium $tmp/bin/chromium-browser" -- --compositor gnome
check "finds chromium-browser (older Pi OS)" grep -q "^ExecStart=$tmp/bin/chromium-browser --kiosk" "$unit"
fresh; run -- --compositor sway
[ $rc = 1 ] && grep -q "unknown compositor 'sway'" <<<"$out" && empty_home; expect "unknown compositor named"
if ! pgrep -x labwc >/dev/null && ! pgrep -x wayfire >/dev/null && ! pgrep -x gnome-shell >/dev/null &&
   ! pgrep -x plasmashell >/dev/null && [ ! -e /etc/lightdm/lightdm.conf ]; then
  fresh; run --
  [ $rc = 1 ] && grep -q 'unknown compositor: could not tell' <<<"$out" && empty_home; expect "undetectable compositor refused"
fi
fresh; run XDG_CURRENT_DESKTOP=labwc:wlroots -- --dry-run
check "labwc found from XDG_CURRENT_DESKTOP" grep -q 'labwc/autostart gets' <<<"$out"

# 6. wayfire: the key goes into the user's [autostart] section, once.
fresh; printf '[core]\nxwayland = true\n\n[autostart]\npanel = wf-panel-pi\n' >"$home/wayfire.seed"
mkdir -p "$home/.config"; mv "$home/wayfire.seed" "$home/.config/wayfire.ini"
[ ${#as[@]} = 0 ] || chown -R nobody "$home/.config"
run -- --compositor wayfire; run -- --compositor wayfire
check "wayfire key added once" [ "$(grep -c '^tracklight_kiosk = systemctl --user import-environment' "$home/.config/wayfire.ini")" = 1 ]
check "wayfire key under [autostart]" [ "$(sed -n '/^\[autostart\]/{n;p}' "$home/.config/wayfire.ini" | cut -c1-16)" = "tracklight_kiosk" ]
check "wayfire keeps the user's keys" grep -qx 'panel = wf-panel-pi' "$home/.config/wayfire.ini"
fresh; run -- --compositor wayfire
check "wayfire section made when missing" grep -qx '\[autostart\]' "$home/.config/wayfire.ini"

# 7. No user systemd reachable: the unit is written and the exact commands are printed.
fresh; run STUB_SYSTEMD=down -- --compositor labwc
[ $rc = 0 ] && [ -f "$unit" ]; expect "no systemd: still installs"
grep -qx '  systemctl --user daemon-reload && systemctl --user enable --now tracklight-kiosk.service' <<<"$out"; expect "no systemd: prints the commands"
! grep -q enable "$log"; expect "no systemd: enables nothing"

# 8. --uninstall removes what it added and keeps the rest; a second --uninstall is fine.
fresh; mkdir -p "$home/.config/labwc"; echo 'kanshi &' >"$home/.config/labwc/autostart"
[ ${#as[@]} = 0 ] || chown -R nobody "$home/.config"
run -- --compositor labwc; run -- --uninstall
check "uninstall succeeds" [ $rc = 0 ]
check "uninstall removes the unit" [ ! -e "$unit" ]
check "uninstall removes the profile" [ ! -e "$home/.local/share/tracklight-kiosk" ]
check "uninstall removes the autostart line only" [ "$(cat "$home/.config/labwc/autostart")" = 'kanshi &' ]
check "uninstall disables it" grep -qx -- '--user disable --now tracklight-kiosk.service' "$log"
run -- --uninstall
check "second uninstall succeeds" [ $rc = 0 ]

# 9. As root for a desktop user: files are that user's. A private mount namespace gives nobody a
# home in $tmp; the machine's /etc/passwd is not touched.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
  fresh; sed "s|^nobody:\([^:]*:[^:]*:[^:]*:[^:]*\):[^:]*:|nobody:\1:$home:|" /etc/passwd >"$tmp/passwd"
  out=$(unshare -m sh -c 'mount --bind "$1" /etc/passwd && shift && exec "$@"' sh "$tmp/passwd" \
        env -u XDG_CURRENT_DESKTOP PATH="$tmp/bin:$PATH" STUB_LOG="$log" "$script" --user nobody --compositor labwc 2>&1); rc=$?
  [ $rc = 0 ] && [ -f "$unit" ]; expect "root --user NAME installs"
  check "root --user NAME: files belong to the user" [ -z "$(find "$home" ! -user nobody -print -quit)" ]
  fresh; out=$("$script" --compositor labwc 2>&1); rc=$?
  [ $rc = 1 ] && grep -q 'as root with --user NAME' <<<"$out"; expect "root without --user refused"
  # The default names, with /usr/bin/chromium hidden (a non-executable file bound over it).
  if [ -e /usr/bin/chromium ] && [ ! -e /usr/bin/chromium-browser ]; then
    : >"$tmp/not-exec"
    out=$(unshare -m sh -c 'mount --bind "$1" /usr/bin/chromium && shift && exec "$@"' sh "$tmp/not-exec" \
          "${as[@]}" env HOME="$home" "$script" --compositor labwc 2>&1); rc=$?
    [ $rc = 1 ] && grep -q 'looked for /usr/bin/chromium /usr/bin/chromium-browser); install it with: sudo apt install chromium' <<<"$out" && empty_home
    expect "default names: chromium, then chromium-browser"
  fi
  out=$("$script" --user root --compositor labwc 2>&1); rc=$?
  [ $rc = 1 ] && grep -q 'must not run as root' <<<"$out"; expect "root as the kiosk user refused"
fi

# 10. Debian's Chromium takes the unit's exact flags: the ExecStart words, with the URL pointed at
# a local page, plus what a machine without a screen needs (headless, no sandbox as root).
if [ -x /usr/bin/chromium ]; then
  fresh; run -- --compositor labwc
  cat >"$tmp/serve.py" <<'EOF'
import http.server, sys
class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<!doctype html><title>board</title><p id=k>kiosk page served</p>"
        self.send_response(200); self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), Page)
print(s.server_address[1], flush=True); s.serve_forever()
EOF
  coproc SERVER { exec /usr/bin/python3 "$tmp/serve.py"; }
  server=$SERVER_PID; port=""; read -r -t 30 port <&"${SERVER[0]}"
  mapfile -t words < <(/usr/bin/python3 -c 'import shlex,sys; print("\n".join(shlex.split(sys.argv[1].replace("%%","%"))))' "$(execstart)")
  dump="" out="the ExecStart line did not split into words"
  if [ ${#words[@]} -gt 1 ] && [ -n "$port" ]; then
    words[-1]="http://127.0.0.1:$port/board"
    dump=$(timeout 120 "${words[@]}" --headless --no-sandbox --disable-gpu --dump-dom 2>"$tmp/chromium.err")
    out=$(tail -5 "$tmp/chromium.err")
  fi
  check "Chromium with the unit's flags shows the page" grep -q 'kiosk page served' <<<"$dump"
  # Chromium ignores a switch it does not know, so the page above cannot catch an invented or
  # retired flag: each switch name must be in the browser binary. --ozone-platform-hint is the
  # exception: Chromium 140 removed it (Wayland is picked by itself); older Pi OS builds need it.
  bin=/usr/lib/chromium/chromium
  if [ -f "$bin" ]; then
    mapfile -t names < <(printf '%s\n' "${words[@]}" | sed -n 's/^--\([a-z-]*\).*/\1/p' | grep -vx 'ozone-platform-hint')
    mapfile -t found < <(grep -a -o -w -F "${names[@]/#/-e}" "$bin" | sort -u)
    missing=$(comm -23 <(printf '%s\n' "${names[@]}" | sort -u) <(printf '%s\n' "${found[@]}"))
    out="not in $bin: $missing"; check "Chromium knows every switch of the unit" [ -z "$missing" ]
  fi
else bad "no /usr/bin/chromium (tools/bootstrap --browser installs it)"; fi

echo "kiosk: $passed passed, $failed failed"
[ $failed = 0 ]
