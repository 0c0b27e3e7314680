#!/usr/bin/env python3
"""Smoke test of a cross-built agent under qemu-user: start it on a loopback port with a temporary
state directory, check /healthz, do the first-run setup through the API (the setup code the agent
prints), log in, and Test a Jira connection against the fake tracker (real TLS, its CA pasted as
the connection's CA certificate); the report must say authorized. Prints the qemu process's idle
RSS next to that of qemu running a program that only waits (the emulator's own share).

    smoke.py --arch arm64|armhf --binary build/arm64/tracklight [--timeout 240]

Every wait is bounded: on a hang the processes are killed and the step is named. The target's
runtime comes from multiarch (tools/bootstrap --cross); QEMU_LD_PREFIX is dropped, because the
cross sysroot's loader with the multiarch libc hangs in the first pthread_create."""
import argparse, json, os, queue, re, shutil, signal, subprocess, sys, tempfile, threading, time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True  # no __pycache__ left in tools/
sys.path.insert(0, os.path.join(TOP, "tools"))
from demo import Api, basic  # noqa: E402  (the demo's API client and Basic header)
TARGETS = {"arm64": ("qemu-aarch64-static", "aarch64-linux-gnu-gcc"),
           "armhf": ("qemu-arm-static", "arm-linux-gnueabihf-gcc")}
EMAIL, TOKEN, PASSWORD = "mia@example.com", "smoke-jira-token", "smoke test password"


class Fail(Exception):
    pass


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def rss_parts(pid, qemu, binary):
    """The qemu process's resident kB by mapping: qemu's own code and heap, the agent's binary,
    the guest's libraries, and anonymous memory, which holds both the guest's heap and stacks and
    qemu's translated code (qemu-user cannot tell them apart)."""
    parts, where = {"qemu": 0, "heap": 0, "agent": 0, "libs": 0, "anon": 0}, "anon"
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):
                name = line.split()[5] if len(line.split()) > 5 else ""
                where = ("qemu" if name.endswith("/" + qemu) else "heap" if name == "[heap]" else
                         "agent" if os.path.realpath(binary) == name else "libs" if name.startswith("/") else "anon")
            elif line.startswith("Rss:"):
                parts[where] += int(line.split()[1])
    return parts


def lines_of(stream):
    """A queue fed with the stream's lines by a thread, so reading it can time out."""
    q = queue.Queue()
    def pump():
        for line in stream:
            q.put(line)
    threading.Thread(target=pump, daemon=True).start()
    return q


def wait_line(q, pattern, deadline, what, seen):
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Fail("timed out waiting for " + what)
        try:
            line = q.get(timeout=min(left, 1))
        except queue.Empty:
            continue
        seen.append(line)
        m = re.search(pattern, line)
        if m:
            return m


def expect(cond, what, detail):
    if not cond:
        raise Fail("%s: %s" % (what, detail))


def baseline_rss(qemu, cc, work):
    """qemu's RSS running a program that only waits, dynamically linked like the agent: what the
    emulator (its code, translation buffers, the guest's libc) holds without any agent code."""
    src, exe = os.path.join(work, "idle.c"), os.path.join(work, "idle")
    with open(src, "w") as f:
        f.write("#include <unistd.h>\nint main(void) { pause(); return 0; }\n")
    if subprocess.run([cc, "-O2", "-o", exe, src]).returncode != 0:
        return None
    p = subprocess.Popen([qemu, exe])
    try:
        time.sleep(1.0)
        return rss_kb(p.pid)
    finally:
        p.kill()
        p.wait()


def smoke(args, work, procs):
    qemu, cc = TARGETS[args.arch]
    deadline = time.monotonic() + args.timeout
    pki = os.path.join(TOP, "build", "test-pki")
    subprocess.run([os.path.join(TOP, "tools", "gen_test_certs.sh"), pki], check=True, timeout=120)
    scenario = os.path.join(work, "scenario.json")
    with open(scenario, "w") as f:
        json.dump({"personality": "jira-cloud", "user": {"email": EMAIL},
                   "expected_authorization": basic(EMAIL, TOKEN)}, f)
    fake = subprocess.Popen([sys.executable, os.path.join(TOP, "tests", "fakes", "fake_tracker.py"),
                             "--cert", pki + "/good.pem", "--key", pki + "/good.key", "--scenario", scenario,
                             "--log", os.path.join(work, "fake.jsonl")], stdout=subprocess.PIPE, text=True)
    procs.append(fake)
    fake_port = int(wait_line(lines_of(fake.stdout), r"listening (\d+)", deadline, "the fake tracker", []).group(1))

    t0 = time.monotonic()
    env = {k: v for k, v in os.environ.items() if k != "QEMU_LD_PREFIX"}
    if args.qemu_ld_prefix:  # only to show the known hang (and that it is caught)
        env["QEMU_LD_PREFIX"] = args.qemu_ld_prefix
    agent = subprocess.Popen([qemu, args.binary, "--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")],
                             stderr=subprocess.PIPE, text=True, env=env)
    procs.append(agent)
    log, seen = lines_of(agent.stderr), []
    try:  # the two lines in either order
        m = wait_line(log, r"setup code (\S+)|listening on http://127\.0\.0\.1:(\d+)/", deadline, "the agent's log", seen)
        m2 = wait_line(log, r"setup code (\S+)|listening on http://127\.0\.0\.1:(\d+)/", deadline, "the agent's log", seen)
        code, port = m.group(1) or m2.group(1), int(m.group(2) or m2.group(2) or 0)
        expect(code and port, "the agent's log", "no setup code or no port")
    except Fail:
        sys.stderr.write("".join(seen))
        raise
    api = Api(port, deadline)
    status, body = api.call("GET", "/healthz")
    expect(status == 200 and body.get("ok") is True, "GET /healthz", "%s %s" % (status, body))
    served_s = time.monotonic() - t0
    time.sleep(1.0)
    idle, parts = rss_kb(agent.pid), rss_parts(agent.pid, qemu, args.binary)

    status, body = api.call("POST", "/api/v1/setup", {"setup_code": code, "password": PASSWORD})
    expect(status == 200 and "csrf_token" in body, "POST /api/v1/setup", "%s %s" % (status, body))
    api.cookie = ""  # the setup's session is not used: log in as an admin would
    status, body = api.call("POST", "/api/v1/login", {"password": PASSWORD})
    expect(status == 200 and "csrf_token" in body, "POST /api/v1/login", "%s %s" % (status, body))
    api.csrf = body["csrf_token"]
    with open(pki + "/ca.pem") as f:
        ca = f.read()
    conn = {"name": "Smoke Jira", "provider": "jira", "server_url": "https://localhost:%d" % fake_port,
            "auth": "api-key", "username": EMAIL, "api_key": TOKEN, "ca_cert": ca}
    t1 = time.monotonic()
    status, body = api.call("POST", "/api/v1/connections/test", conn)
    expect(status == 200 and body.get("status") == "authorized", "POST /api/v1/connections/test", "%s %s" % (status, body))
    test_s = time.monotonic() - t1
    base = baseline_rss(qemu, cc, work)
    print("smoke %s: /healthz answered %.2f s after start; setup, login, Test authorized (Test %.2f s)\n"
          "smoke %s: idle RSS of the qemu process %d kB: qemu's code %d kB and heap %d kB, the agent's binary %d kB, "
          "the guest's libraries %d kB, anonymous %d kB (guest heap and stacks with qemu's translated code); "
          "qemu running a program that only waits: %s kB"
          % (args.arch, served_s, test_s, args.arch, idle, parts["qemu"], parts["heap"], parts["agent"], parts["libs"],
             parts["anon"], base if base is not None else "?"))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--arch", choices=sorted(TARGETS), required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--timeout", type=float, default=240, help="seconds for the whole test")
    ap.add_argument("--qemu-ld-prefix", help="run with QEMU_LD_PREFIX=DIR: reproduces the hang, to see it caught")
    args = ap.parse_args()
    # timeout(1) in tools/test ends a hang with SIGTERM: leave through finally, killing qemu too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("smoke %s FAILED: terminated (time limit)" % args.arch))
    work, procs = tempfile.mkdtemp(prefix="tracklight-smoke-"), []
    try:
        smoke(args, work, procs)
        return 0
    except (Fail, OSError, subprocess.SubprocessError) as e:
        print("smoke %s FAILED: %s" % (args.arch, e), file=sys.stderr)
        return 1
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
