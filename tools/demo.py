#!/usr/bin/env python3
"""The demo behind tools/demo: starts the fake trackers (tests/fakes/fake_tracker.py) with a
demo PKI made by tools/gen_test_certs.sh, starts build/tracklight on 127.0.0.1, sets the admin
password and connects both trackers through the agent's own API (Test + Connect for real, over
TLS, with the demo CA pasted as the connection's CA certificate)."""
import argparse
import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(TOP, "build", "demo")
PASSWORD = "tracklight-demo"
JIRA_EMAIL, JIRA_TOKEN, ADO_PAT = "mia@example.com", "demo-jira-api-token", "demo-ado-pat"


def basic(user, secret):
    return "Basic " + base64.b64encode((user + ":" + secret).encode()).decode()


def start_fake(name, cert, scenario, procs):
    path = os.path.join(DEMO, "scenario-%s.json" % name)
    with open(path, "w") as f:
        json.dump(scenario, f)
    p = subprocess.Popen([sys.executable, os.path.join(TOP, "tests", "fakes", "fake_tracker.py"),
                          "--cert", os.path.join(DEMO, "pki", cert + ".pem"), "--key", os.path.join(DEMO, "pki", cert + ".key"),
                          "--scenario", path, "--log", os.path.join(DEMO, "requests-%s.jsonl" % name)],
                         stdout=subprocess.PIPE, text=True)
    procs.append(p)
    return int(p.stdout.readline().split()[1])


class Api:
    """The agent's JSON API as the page uses it (session cookie, CSRF token). Each call waits at
    most 30 s, or only until `deadline` (time.monotonic()) when one is given. A failure to reach
    the agent raises OSError naming the request. tests/cross/smoke.py uses it too."""
    def __init__(self, port, deadline=None):
        self.base, self.deadline, self.cookie, self.csrf = "http://127.0.0.1:%d" % port, deadline, "", ""

    def call(self, method, path, body=None):
        left = 30 if self.deadline is None else self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out before %s %s" % (method, path))
        req = urllib.request.Request(self.base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
        req.add_header("Content-Type", "application/json")
        if self.cookie:
            req.add_header("Cookie", self.cookie)
            req.add_header("X-CSRF-Token", self.csrf)
        try:
            with urllib.request.urlopen(req, timeout=left) as r:
                if "Set-Cookie" in r.headers:
                    self.cookie = r.headers["Set-Cookie"].split(";")[0]
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")
        except OSError as e:
            raise OSError("%s %s: %s" % (method, path, e)) from e


def check_board(api, procs):
    """The newcomer's path end to end: both connections authorized and both boards fresh."""
    for _ in range(120):
        status, board = api.call("GET", "/api/v1/board")
        sources = board.get("sources", [])
        if status == 200 and len(sources) == 2 and not any(s["stale"] for s in sources):
            print("demo: board populated: %d pipelines, %d Jira issues" %
                  (len(sources[1].get("pipelines", [])), sources[0]["jira"]["total"]))
            ok = all(p.poll() is None for p in procs)
            for p in procs:
                p.terminate()
            return 0 if ok else 1
        time.sleep(0.25)
    print("demo: the board did not fill in 30 s:", board, file=sys.stderr)
    for p in procs:
        p.terminate()
    return 1


def listening_port(agent):
    """The port the agent says it listens on (--port 0 lets it pick a free one, so nothing can
    take the port between choosing it and binding it); its log keeps going to stderr."""
    port = 0
    for line in agent.stderr:
        sys.stderr.write(line)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
        if m:
            port = int(m.group(1))
            break
    threading.Thread(target=lambda: [sys.stderr.write(l) for l in agent.stderr], daemon=True).start()
    return port


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=8080, help="0: any free port")
    ap.add_argument("--fresh", action="store_true", help="leave the setup and the dialog to you")
    ap.add_argument("--check", action="store_true",
                    help="wait until the board is populated from both fakes, print it, stop (tools/test runs this)")
    args = ap.parse_args()
    os.makedirs(DEMO, exist_ok=True)
    subprocess.run([os.path.join(TOP, "tools", "gen_test_certs.sh"), os.path.join(DEMO, "pki")], check=True)
    with open(os.path.join(DEMO, "pki", "ca.pem")) as f:
        ca = f.read()
    state = os.path.join(DEMO, "state")
    subprocess.run(["rm", "-rf", state], check=True)
    procs = []

    def stop(*_):
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    jira_port = start_fake("jira", "good", {"personality": "jira-cloud", "expected_authorization": basic(JIRA_EMAIL, JIRA_TOKEN),
                                            "user": {"email": JIRA_EMAIL, "display": "Mia Krystof"}, "issues": 23}, procs)
    ado_port = start_fake("ado", "noip", {"personality": "ado", "collection_path": "/tfs/DefaultCollection",
                                          "expected_authorization": basic("", ADO_PAT), "projects": ["Fiber"],
                                          "pipelines": 6, "pipeline_names": ["CI", "Nightly", "Deploy", "Docs", "Mobile", "Release"]}, procs)
    agent = subprocess.Popen([os.path.join(TOP, "build", "tracklight"), "--listen", "127.0.0.1:%d" % args.port,
                              "--state-dir", state], stderr=subprocess.PIPE, text=True)
    procs.append(agent)
    port = listening_port(agent)
    if not port:
        print("demo: the agent did not start", file=sys.stderr)
        for p in procs:
            p.terminate()
        return 1
    code_file = os.path.join(state, "setup-code")
    for _ in range(100):
        if os.path.exists(code_file):
            break
        time.sleep(0.05)
    jira = {"name": "Team Jira", "provider": "jira", "server_url": "https://localhost:%d" % jira_port, "auth": "api-key",
            "username": JIRA_EMAIL, "api_key": JIRA_TOKEN, "ca_cert": ca,
            "board": {"enabled": True, "jql": "project = TL ORDER BY priority DESC", "max_issues": 6, "interval_s": 15}}
    ado = {"name": "Fabrikam builds", "provider": "azure-devops", "server_url": "https://localhost:%d/tfs" % ado_port,
           "auth": "pat", "token": ADO_PAT, "ca_cert": ca, "board": {"enabled": True, "interval_s": 15}}
    page = "http://127.0.0.1:%d/" % port
    if args.fresh:
        print("\nDemo running (fresh state). Open %s and enter the setup code from %s, then in the dialog:" % (page, code_file))
        print("  Jira:  Server URL %s  Auth API key  Username %s  API key %s" % (jira["server_url"], JIRA_EMAIL, JIRA_TOKEN))
        print("  Azure DevOps:  Server URL %s  PAT %s" % (ado["server_url"], ADO_PAT))
        print("  CA certificate for both: paste %s" % os.path.join(DEMO, "pki", "ca.pem"))
    else:
        with open(code_file) as f:
            code = f.read().strip()
        api = Api(port)
        status, body = api.call("POST", "/api/v1/setup", {"setup_code": code, "password": PASSWORD})
        if status != 200:
            print("demo: setup failed:", body, file=sys.stderr)
            stop()
        api.csrf = body["csrf_token"]
        for cid, conn in (("jira", jira), ("ado", ado)):
            status, body = api.call("PUT", "/api/v1/connections/" + cid, conn)
            print("demo: Connect %s -> %s (%s)" % (cid, status, body.get("connection", {}).get("status") or body))
        if args.check:
            sys.exit(check_board(api, procs))
        print("\nDemo running. Page: %s (password %s)   Board: %sboard   CCTray: %scc.xml" % (page, PASSWORD, page, page))
        print("Try: Test and Connect in the dialog, or stop a fake (kill %d) and watch the board go stale." % procs[1].pid)
    print("Ctrl-C stops everything.")
    agent.wait()
    stop()


if __name__ == "__main__":
    main()
