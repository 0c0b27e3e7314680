#!/usr/bin/python3
"""The Debian packages end to end: tools/package builds all three, lintian finds nothing at
warning level, each package holds its architecture's binary and the files a package needs; the
amd64 one installs here, its unit passes systemd-analyze verify, the agent it installs starts
with the unit's own command line and /etc/default values and answers /healthz, and a purge
removes the files and the state. The install half needs root (or passwordless sudo); systemd
need not run.
Ends with "package: N passed, N failed"."""
import json, os, re, shlex, signal, socket, subprocess, sys, tempfile, time, urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARCHS = {"amd64": "X86-64", "arm64": "AArch64", "armhf": "ARM"}  # readelf's Machine names
UNIT = "/lib/systemd/system/tracklight.service"
WANTS = "/etc/systemd/system/multi-user.target.wants/tracklight.service"  # deb-systemd-helper enable
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    print(f"{'ok' if ok else 'FAIL'}: {name}" + (f"\n{detail}" if detail and not ok else ""), flush=True)
    if ok: passed += 1
    else: failed += 1
    return ok


def run(cmd, timeout=120, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def version():
    text = open(os.path.join(TOP, "CMakeLists.txt")).read()
    return re.search(r"project\(tracklight VERSION ([0-9.]+)", text).group(1) + "-1"


def check_deb(arch, deb):
    lint = run(["lintian", "--fail-on", "error,warning", deb], timeout=600)
    check(f"lintian {arch}", lint.returncode == 0, lint.stdout + lint.stderr)
    files = run(["dpkg-deb", "-c", deb]).stdout
    want = ["./usr/bin/tracklight", "." + UNIT, "./etc/default/tracklight",
            "./usr/share/man/man8/tracklight.8.gz", "./usr/share/doc/tracklight/copyright",
            "./usr/share/doc/tracklight/changelog.Debian.gz", "./usr/share/tracklight/kiosk-setup"]
    missing = [w for w in want if not re.search(r" " + re.escape(w) + "$", files, re.M)]
    with tempfile.TemporaryDirectory() as d:
        run(["dpkg-deb", "-x", deb, d])
        machine = run(["readelf", "-h", d + "/usr/bin/tracklight"]).stdout
    field = run(["dpkg-deb", "-f", deb, "Architecture"]).stdout.strip()
    check(f"contents {arch}", not missing and field == arch and ARCHS[arch] in machine,
          f"missing {missing}, Architecture {field!r}, binary {machine[-300:]}")


def unit_command(port_env):
    """The installed unit's ExecStart, expanded as systemd does: Environment=, then the
    EnvironmentFile, then $VAR split into words and ${VAR} kept as one."""
    env, execstart = {}, None
    for line in open(UNIT):
        key, _, value = line.strip().partition("=")
        if key == "Environment":
            env.update(w.split("=", 1) for w in shlex.split(value))
        elif key == "EnvironmentFile":
            path = value.lstrip("-")
            if os.path.exists(path):
                for l in open(path):
                    if l.strip() and not l.lstrip().startswith("#"):
                        k, _, v = l.strip().partition("=")
                        env[k] = " ".join(shlex.split(v))
        elif key == "ExecStart":
            execstart = value
    env.update(port_env)
    argv = []
    for word in shlex.split(execstart):
        m = re.fullmatch(r"\$(\w+)", word)
        if m: argv += env.get(m.group(1), "").split()
        else: argv.append(re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), word))
    return argv


def get(port, host):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": host})
    try:
        with urllib.request.urlopen(req, timeout=5) as r: return r.status, r.read()
    except urllib.error.HTTPError as e: return e.code, b""
    except OSError: return None, b""


def run_agent():
    """Starts the installed agent as the unit would (the listen address set in
    /etc/default/tracklight to a free loopback port, an --allow-host through TRACKLIGHT_OPTS),
    in the state directory a DynamicUser service gets, then stops it with SIGTERM."""
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    text = open("/etc/default/tracklight").read()
    text = re.sub(r"(?m)^TRACKLIGHT_LISTEN=.*$", f"TRACKLIGHT_LISTEN=127.0.0.1:{port}", text)
    text = re.sub(r"(?m)^TRACKLIGHT_OPTS=.*$", 'TRACKLIGHT_OPTS="--allow-host pkgtest.invalid"', text)
    open("/etc/default/tracklight", "w").write(text)
    argv = unit_command({})
    if os.path.isdir("/run/systemd/system"):  # postinst started the real service: this test runs its own
        run(["systemctl", "stop", "tracklight"])
    os.makedirs("/var/lib/private/tracklight", mode=0o700, exist_ok=True)
    if not os.path.lexists("/var/lib/tracklight"): os.symlink("private/tracklight", "/var/lib/tracklight")
    log = tempfile.TemporaryFile(mode="w+")
    agent = subprocess.Popen(argv, stdout=log, stderr=log, env={"PATH": "/usr/bin:/bin",
                             "STATE_DIRECTORY": "/var/lib/tracklight"})
    status, body = None, b""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and agent.poll() is None:
        status, body = get(port, "pkgtest.invalid")
        if status: break
        time.sleep(0.1)
    other, _ = get(port, "elsewhere.invalid")
    agent.send_signal(signal.SIGTERM)
    try: code = agent.wait(timeout=10)
    except subprocess.TimeoutExpired: agent.kill(); code = "hung"
    log.seek(0); out = log.read()
    ok = status == 200 and json.loads(body or b"{}").get("ok") is True
    check("agent from the unit's ExecStart answers /healthz", ok, f"{argv}: {status} {body!r}\n{out}")
    check("TRACKLIGHT_OPTS reaches it (--allow-host; other names get 421)", other == 421, f"got {other}")
    check("setup code logged and in the state directory, clean stop", "setup code" in out and code == 0 and
          os.path.exists("/var/lib/tracklight/setup-code"), f"exit {code}\n{out}")


def install_and_purge(deb, ver):
    # Never touch a real installation or its state.
    present = [p for p in ("/var/lib/tracklight", "/var/lib/private/tracklight") if os.path.lexists(p)]
    if run(["dpkg-query", "-W", "tracklight"]).returncode == 0 or present:
        check("no tracklight installed here before the test", False, f"installed, or state in {present}")
        return
    made_private = not os.path.lexists("/var/lib/private")
    try: installed(deb, ver)
    finally: purge_and_check(made_private)


def installed(deb, ver):
    inst = run(["dpkg", "-i", deb], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if check("dpkg -i amd64", inst.returncode == 0, inst.stdout + inst.stderr):
        check("postinst says where the setup code is", "journalctl -u tracklight" in inst.stdout, inst.stdout)
        link = os.path.realpath(WANTS)
        check("postinst enabled the unit (for the next boot)", link == os.path.realpath(UNIT), link)
        got = run(["/usr/bin/tracklight", "--version"]).stdout.strip()
        check("installed version", got == "tracklight " + ver.rsplit("-", 1)[0], got)
        verify = run(["systemd-analyze", "verify", UNIT])
        check("systemd-analyze verify", verify.returncode == 0 and not verify.stderr.strip(),
              verify.stdout + verify.stderr)
        try: run_agent()
        except Exception as e: check("run the installed agent", False, repr(e))
        # Removing (not purging) keeps the settings and the state: a reinstall finds them.
        remove = run(["dpkg", "-r", "tracklight"])
        kept = [p for p in ("/etc/default/tracklight", "/var/lib/private/tracklight/setup-code") if os.path.lexists(p)]
        check("dpkg -r removes the binary and keeps the settings and the state",
              remove.returncode == 0 and not os.path.lexists("/usr/bin/tracklight") and len(kept) == 2,
              f"kept {kept}\n{remove.stdout}{remove.stderr}")


def purge_and_check(made_private):
    purge = run(["dpkg", "--purge", "tracklight"])
    left = [p for p in ("/usr/bin/tracklight", UNIT, "/usr/share/tracklight", "/etc/default/tracklight", "/usr/share/doc/tracklight",
                        "/usr/share/man/man8/tracklight.8.gz", WANTS, "/var/lib/tracklight",
                        "/var/lib/private/tracklight") if os.path.lexists(p)]
    check("dpkg --purge removes the files and the state", purge.returncode == 0 and not left,
          f"left {left}\n{purge.stdout}{purge.stderr}")
    if made_private:
        try: os.rmdir("/var/lib/private")
        except OSError: pass


def main():
    global passed, failed
    # tools/test's time limit sends SIGTERM: end through the finally blocks, so the package is purged.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("package test: stopped by SIGTERM"))
    ver = version()
    debs = {a: f"{TOP}/build/packages/tracklight_{ver}_{a}.deb" for a in ARCHS}
    if sys.argv[1:] == ["--install-only"]:
        install_and_purge(debs["amd64"], ver)
    else:
        # Built as the calling user (build/ stays theirs); only the install half needs root.
        built = run([os.path.join(TOP, "tools/package")], timeout=3600, cwd=TOP)
        print(built.stdout, end="")
        if not check("tools/package", built.returncode == 0, built.stderr):
            print(f"package: {passed} passed, {failed} failed"); return 1
        for arch, deb in debs.items():
            check_deb(arch, deb)
        if os.geteuid() == 0:
            install_and_purge(debs["amd64"], ver)
        else:
            sub = run(["sudo", "-n", sys.executable, os.path.abspath(__file__), "--install-only"], timeout=600)
            print(sub.stdout, end="")
            m = re.search(r"^package: (\d+) passed, (\d+) failed$", sub.stdout, re.M)
            if m: passed += int(m.group(1)); failed += int(m.group(2))
            else: check("install as root (sudo -n)", False, "needs root or passwordless sudo\n" + sub.stderr)
    print(f"package: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
