#!/usr/bin/env python3
"""Run under `unshare -rn` (a network namespace of its own, so the machine's addresses are not
touched): starts the agent with the HTTPS page, adds addresses to the namespace's loopback, and
prints as JSON the certificate served before and after, as Python's ssl (OpenSSL) sees it.

    address_change.py AGENT_BINARY STATE_DIR NEW_ADDRESS
"""
import hashlib
import ipaddress
import json
import re
import socket
import ssl
import subprocess
import sys
import time


def normal(name):  # OpenSSL shows IPv6 SANs in full and upper case
    try:
        return ipaddress.ip_address(name).compressed
    except ValueError:
        return name


def served(port, cafile):
    ctx = ssl.create_default_context(cafile=cafile)  # trusts only the device certificate on disk
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:  # a sanitizer build under load
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            der = s.getpeercert(binary_form=True)
            names = [normal(v) for _, v in s.getpeercert().get("subjectAltName", ())]
    return {"fingerprint": ":".join("%02X" % b for b in hashlib.sha256(der).digest()), "names": names}


def wait_for(path, pattern, seconds):
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        m = re.search(pattern, open(path).read())
        if m:
            return m
        time.sleep(0.05)
    return None


def main():
    binary, state, address = sys.argv[1], sys.argv[2], sys.argv[3]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    log_path = state + ".log"
    with open(log_path, "w") as log:
        agent = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--listen-tls", "127.0.0.1:0",
                                  "--state-dir", state], stderr=log)
    out = {}
    try:
        m = wait_for(log_path, r"listening on https://127\.0\.0\.1:(\d+)/", 15)
        if not m:
            raise SystemExit("the agent did not start:\n" + open(log_path).read())
        port = int(m.group(1))
        wait_for(log_path, r"listening on http://", 15)
        out["before"] = served(port, state + "/tls-cert.pem")
        # A deprecated IPv6 address (on its way out, as a rotated privacy address is) does not
        # belong in the certificate; it comes first, so the addresses after it prove the agent
        # looked once it was there. A stable IPv6 address does belong.
        subprocess.run(["ip", "-6", "addr", "add", "2001:db8::7/64", "dev", "lo", "preferred_lft", "0"], check=True)
        subprocess.run(["ip", "-6", "addr", "add", "2001:db8::5/64", "dev", "lo"], check=True)
        subprocess.run(["ip", "addr", "add", address + "/32", "dev", "lo"], check=True)
        out["renewed"] = wait_for(log_path, r"serving the new certificate", 15) is not None
        out["after"] = served(port, state + "/tls-cert.pem")
        out["log"] = open(log_path).read()
    finally:
        agent.terminate()
        try:
            agent.wait(30)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
