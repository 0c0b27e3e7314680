#!/usr/bin/env python3
"""Talks to the agent's HTTPS page as a browser would, with Python's ssl (OpenSSL): trusts only
the given certificate, verifies the host name or address, sets up the admin password, and prints
what it saw as JSON for the C++ test to check.

    https_probe.py HOST PORT CERT.pem SETUP_CODE
"""
import hashlib
import http.client
import json
import ssl
import sys


def main():
    host, port, cert, code = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ctx = ssl.create_default_context(cafile=cert)  # check_hostname and CERT_REQUIRED
    conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=10)
    conn.request("GET", "/healthz")
    health = conn.getresponse()
    health.read()
    sock = conn.sock
    der = sock.getpeercert(binary_form=True)
    seen = {
        "version": sock.version(),
        "cipher": sock.cipher()[0],
        "fingerprint": ":".join("%02X" % b for b in hashlib.sha256(der).digest()),
        "names": [v for _, v in sock.getpeercert().get("subjectAltName", ())],
        "healthz": health.status,
    }
    body = json.dumps({"setup_code": code, "password": "correct horse battery"})
    conn.request("POST", "/api/v1/setup", body=body, headers={"Content-Type": "application/json"})
    setup = conn.getresponse()
    setup.read()
    seen["setup"] = setup.status
    seen["set_cookie"] = setup.getheader("Set-Cookie", "")
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
