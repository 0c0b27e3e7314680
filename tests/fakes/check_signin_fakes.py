#!/usr/bin/python3
"""End-to-end check of the fake sign-in providers (signin_*.py behind fake_tracker.py): each
provider is driven as a client would drive the real one, over real TLS (urllib's http.client,
trusting the test CA), with the client-side signatures made here with `cryptography` (PS256
client assertions, RSA-SHA1 OAuth 1.0a) independently of the fakes' own code. Every success
shape and every refusal the fakes promise (reference/tracker-apis.md) is asserted; the script
prints each failed expectation and exits 1 if there was any.

    /usr/bin/python3 tests/fakes/check_signin_fakes.py [--pki DIR] [-v]

DIR is a test PKI from tools/gen_test_certs.sh (made there when missing; default
/tmp/pki-fakes). Four fakes run at once: "idp" (Entra and Atlassian), "ado" (Azure DevOps, a
separate instance: it must accept the tokens "idp" and "mi" issued), "jira" (Jira Data Center
with the OAuth 2.0 provider and OAuth 1.0a under /jira) and "mi" (IMDS / Azure Arc over plain
HTTP). Runs in a few seconds: no test waits for a clock; expiry is tested with lifetimes of 0.
"""
import argparse
import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
ADO = "499b84ac-1321-427f-aa17-267ca6975798"
TENANT = "3f2a9c41-7d1e-4b8a-a5c6-0e9d8b7f6a52"
PUBLIC = "0c9d5a17-aaaa-4b7e-9c1d-2e3f4a5b6c7d"       # device code app, public client flows on
CONFIDENTIAL = "5e6f7a8b-bbbb-4c1d-8e9f-0a1b2c3d4e5f"  # secret and certificate, public client flows off
SECRET = "CANARY-ENTRA-SECRET-5d1"
ATL_CLIENT, ATL_SECRET, ATL_CALLBACK = "atl-client-1", "CANARY-ATL-SECRET-9e2", "http://localhost:8377/oauth/atlassian"
DC_CLIENT, DC_SECRET, DC_CALLBACK = "dc-client-1", "CANARY-DC-SECRET-4a7", "https://device.local:8443/oauth/jira"
CLOUD_ID = "1324a887-45db-1bf4-1e99-ef0ff456d421"

FAILED = []
VERBOSE = False


def expect(name, ok, detail=""):
    if not ok:
        FAILED.append(name)
        print("FAIL %s: %s" % (name, detail))
    elif VERBOSE:
        print("ok   %s" % name)
    return ok


# --- fakes and requests -----------------------------------------------------------------------
class Fake:
    def __init__(self, work, pki, name, scenario, plain=False):
        self.name, self.plain = name, plain
        self.scenario_path, self.log_path = os.path.join(work, name + ".json"), os.path.join(work, name + ".jsonl")
        self.set(scenario)
        args = [sys.executable, os.path.join(HERE, "fake_tracker.py"), "--scenario", self.scenario_path, "--log", self.log_path]
        args += ["--plain"] if plain else ["--cert", pki + "/good.pem", "--key", pki + "/good.key"]
        self.err = open(os.path.join(work, name + ".err"), "w+")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.port = None

    def wait(self):
        line = self.proc.stdout.readline()
        if not line.startswith("listening "):
            self.err.seek(0)
            sys.exit("fake %s did not start: %s" % (self.name, self.err.read()))
        self.port = int(line.split()[1])

    def set(self, scenario):
        # Replaced whole (rename), as the fake re-reads it on every request.
        with open(self.scenario_path + ".tmp", "w") as f:
            json.dump(scenario, f)
        os.replace(self.scenario_path + ".tmp", self.scenario_path)
        self.scenario = scenario

    def change(self, **keys):
        self.set(dict(self.scenario, **keys))

    def log(self):
        with open(self.log_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.text)
        except ValueError:
            return {}

    def form(self):
        return {k: v[0] for k, v in parse_qs(self.text, keep_blank_values=True).items()}


CTX = None
# One kept-alive connection per fake and thread, as a client reusing its connection does (and
# because the fake's TLS handshake costs ~40 ms of Nagle and delayed ACK; a request on an open
# connection ~1 ms).
CONNECTIONS = threading.local()


def call(fake, method, path, form=None, body=None, headers=None):
    headers = dict(headers or {})
    if form is not None:
        body = urlencode(form)
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif isinstance(body, (dict, list)):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    data = body.encode() if isinstance(body, str) else body
    pool = CONNECTIONS.__dict__.setdefault("pool", {})
    conn = pool.get(fake.name)
    if conn is None:
        if fake.plain:
            conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
        else:
            conn = http.client.HTTPSConnection("localhost", fake.port, context=CTX, timeout=10)
        pool[fake.name] = conn
    conn.putrequest(method, path, skip_host="Host" in headers, skip_accept_encoding=True)
    for k, v in headers.items():
        conn.putheader(k, v)
    if data is not None or method == "POST":
        conn.putheader("Content-Length", str(len(data or b"")))
    conn.endheaders(data)
    r = conn.getresponse()
    answer = Answer(r.status, r.headers, r.read())
    if r.will_close:  # the fake said Connection: close (it does so only after an error page)
        conn.close()
        del pool[fake.name]
    return answer


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def location_query(answer):
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers.get("Location", "")).query).items()}


# --- keys -------------------------------------------------------------------------------------
def make_cert(key, name):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = int(time.time())
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime.utcfromtimestamp(now - 3600))
            .not_valid_after(datetime.datetime.utcfromtimestamp(now + 86400))
            .sign(key, hashes.SHA256()))


KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CERT = make_cert(KEY, "tracklight device")
CERT_PEM = CERT.public_bytes(serialization.Encoding.PEM).decode()
THUMB = b64url(hashlib.sha256(CERT.public_bytes(serialization.Encoding.DER)).digest())
PUBLIC_PEM = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def client_assertion(aud, key=KEY, alg="PS256", thumb=THUMB, **claims):
    """A certificate credential as MSAL makes one; a claim given as None is left out."""
    now = int(time.time())
    body = {"aud": aud, "iss": CONFIDENTIAL, "sub": CONFIDENTIAL, "jti": str(uuid.uuid4()), "nbf": now, "iat": now,
            "exp": now + 300}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    signed = b64url(json.dumps({"alg": alg, "typ": "JWT", "x5t#S256": thumb}).encode()) + "." + \
        b64url(json.dumps(body).encode())
    if alg == "PS256":
        sig = key.sign(signed.encode(), padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    else:
        sig = key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signed + "." + b64url(sig)


def oauth1_header(method, url, token=None, key=KEY, consumer="tracklight-agent", nonce=None, stamp=None, **extra):
    """RFC 5849 RSA-SHA1: the base string from method, base URL (no query, lower-case scheme and
    host, default port left out) and all parameters (oauth_* and query), encoded per §3.6."""
    enc = lambda t: quote(str(t), safe="-._~")
    params = {"oauth_consumer_key": consumer, "oauth_nonce": nonce or secrets.token_hex(8),
              "oauth_signature_method": "RSA-SHA1", "oauth_timestamp": str(stamp or int(time.time())),
              "oauth_version": "1.0"}
    if token:
        params["oauth_token"] = token
    params.update(extra)
    parts = urlsplit(url)
    host = parts.hostname.lower() + ("" if parts.port in (None, 443 if parts.scheme == "https" else 80) else ":%d" % parts.port)
    pairs = list(params.items()) + [(k, v) for k, vs in parse_qs(parts.query, keep_blank_values=True).items() for v in vs]
    normalized = "&".join("%s=%s" % p for p in sorted((enc(k), enc(v)) for k, v in pairs))
    base = "&".join([method, enc("%s://%s%s" % (parts.scheme.lower(), host, parts.path)), enc(normalized)])
    params["oauth_signature"] = base64.b64encode(key.sign(base.encode(), padding.PKCS1v15(), hashes.SHA1())).decode()
    return 'OAuth realm="", ' + ", ".join('%s="%s"' % (k, enc(v)) for k, v in params.items())


# --- Entra --------------------------------------------------------------------------------------
def entra_error(name, r, status, error, code):
    j = r.json()
    expect(name, r.status == status and j.get("error") == error and j.get("error_codes") == [code]
           and j.get("error_description", "").startswith("AADSTS%d: " % code)
           and all(j.get(k) for k in ("timestamp", "trace_id", "correlation_id", "error_uri")),
           "%d %s" % (r.status, r.text[:300]))


def entra_scenario():
    return {"tenant": TENANT, "token_lifetime_s": 3599,
            "clients": {PUBLIC: {"public_client": True},
                        CONFIDENTIAL: {"secret": SECRET, "certificate_pem": CERT_PEM, "public_client": False}},
            "device": {"interval": 1, "expires_in": 900, "user_code": "FAKE42XYZ", "user": "mia@fabrikam.example"}}


def check_entra(idp, ado):
    token_path = "/%s/oauth2/v2.0/token" % TENANT
    token_url = "https://localhost:%d%s" % (idp.port, token_path)
    scope = ADO + "/.default"

    r = call(idp, "POST", token_path, {"grant_type": "client_credentials", "client_id": CONFIDENTIAL,
                                       "client_secret": SECRET, "scope": scope})
    j = r.json()
    expect("entra secret: 200 Bearer", r.status == 200 and j.get("token_type") == "Bearer" and j.get("expires_in") == 3599
           and j.get("access_token") and "refresh_token" not in j, r.text)
    sp_token = j.get("access_token")
    entra_error("entra wrong secret: 401 7000215", call(idp, "POST", token_path, {
        "grant_type": "client_credentials", "client_id": CONFIDENTIAL, "client_secret": "wrong", "scope": scope}),
        401, "invalid_client", 7000215)
    entra_error("entra unknown tenant: 90002", call(idp, "POST", "/contoso.example/oauth2/v2.0/token", {
        "grant_type": "client_credentials", "client_id": CONFIDENTIAL, "client_secret": SECRET, "scope": scope}),
        400, "invalid_request", 90002)
    entra_error("entra unknown client: 700016", call(idp, "POST", token_path, {
        "grant_type": "client_credentials", "client_id": "11111111-2222-3333-4444-555555555555", "client_secret": SECRET,
        "scope": scope}), 400, "unauthorized_client", 700016)
    entra_error("entra bad scope: 70011", call(idp, "POST", token_path, {
        "grant_type": "client_credentials", "client_id": CONFIDENTIAL, "client_secret": SECRET,
        "scope": ADO + "/.default offline_access"}), 400, "invalid_scope", 70011)
    entra_error("entra client credentials without a credential: 7000218", call(idp, "POST", token_path, {
        "grant_type": "client_credentials", "client_id": CONFIDENTIAL, "scope": scope}), 401, "invalid_client", 7000218)

    # The certificate credential.
    def with_assertion(assertion):
        return call(idp, "POST", token_path, {
            "grant_type": "client_credentials", "client_id": CONFIDENTIAL, "scope": scope,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion})
    r = with_assertion(client_assertion(token_url))
    expect("entra certificate: 200", r.status == 200 and r.json().get("access_token"), r.text)
    now = int(time.time())
    for name, assertion, code in [
            ("unregistered thumbprint", client_assertion(token_url, thumb=b64url(b"x" * 32)), 700027),
            ("signed by another key", client_assertion(token_url, key=OTHER_KEY), 700027),
            ("RS256", client_assertion(token_url, alg="RS256"), 50027),
            ("wrong aud", client_assertion("https://login.microsoftonline.com/%s/oauth2/v2.0/token" % TENANT), 50027),
            ("no jti", client_assertion(token_url, jti=None), 50027),
            ("iss is not sub", client_assertion(token_url, iss="someone"), 50048),
            ("another client's", client_assertion(token_url, iss=PUBLIC, sub=PUBLIC), 700021),
            ("exp an hour ahead", client_assertion(token_url, exp=now + 3600), 700024),
            ("expired", client_assertion(token_url, nbf=now - 900, iat=now - 900, exp=now - 300), 700024),
            ("nbf in the future", client_assertion(token_url, nbf=now + 300), 700024),
            ("no nbf", client_assertion(token_url, nbf=None), 700024),
            ("malformed", "abc.def", 50027)]:
        entra_error("entra assertion %s: %d" % (name, code), with_assertion(assertion), 401, "invalid_client", code)

    # Device code: the person approves through /devicelogin, as a test without a browser does.
    r = call(idp, "POST", "/%s/oauth2/v2.0/devicecode" % TENANT, {"client_id": PUBLIC, "scope": scope + " offline_access"})
    d = r.json()
    expect("entra devicecode: shape", r.status == 200 and set(d) == {"device_code", "user_code", "verification_uri",
                                                                     "expires_in", "interval", "message"}
           and d["user_code"] == "FAKE42XYZ" and d["interval"] == 1 and d["expires_in"] == 900
           and d["verification_uri"].endswith("/devicelogin") and "FAKE42XYZ" in d["message"], r.text)
    poll = lambda code, client=PUBLIC: call(idp, "POST", token_path, {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": client, "device_code": code})
    entra_error("entra device: authorization_pending 70016", poll(d.get("device_code")), 400, "authorization_pending", 70016)
    page = call(idp, "GET", "/devicelogin")
    expect("entra device: the code page is a form", page.status == 200 and 'name="user_code"' in page.text
           and 'action="/devicelogin"' in page.text, page.text[:200])
    r = call(idp, "POST", "/devicelogin", {"user_code": "NOTACODE1", "decision": "approve"})
    expect("entra device: an unknown user code is refused", r.status == 400, r.status)
    r = call(idp, "POST", "/devicelogin", {"user_code": "fake-42x yz", "decision": "approve"})
    expect("entra device: approve (code typed loosely)", r.status == 200 and 'data-state="approved"' in r.text, r.text[:300])
    r = poll(d.get("device_code"))
    j = r.json()
    expect("entra device: approved: tokens", r.status == 200 and j.get("token_type") == "Bearer" and j.get("access_token")
           and j.get("refresh_token") and j.get("scope") == ADO + "/user_impersonation", r.text)
    user_token, refresh1 = j.get("access_token"), j.get("refresh_token")
    entra_error("entra device: a redeemed device code is refused", poll(d.get("device_code")), 400,
                "bad_verification_code", 70018)

    def new_device(client=PUBLIC, offline=True):
        return call(idp, "POST", "/%s/oauth2/v2.0/devicecode" % TENANT,
                    {"client_id": client, "scope": scope + (" offline_access" if offline else "")}).json().get("device_code")
    code = new_device()
    call(idp, "POST", "/devicelogin", {"user_code": "FAKE42XYZ", "decision": "decline"})
    entra_error("entra device: declined", poll(code), 400, "authorization_declined", 65004)
    entra_error("entra device: public client flows off: 7000218", poll(new_device(CONFIDENTIAL), CONFIDENTIAL), 401,
                "invalid_client", 7000218)
    code = new_device(offline=False)
    call(idp, "POST", "/devicelogin", {"user_code": "FAKE42XYZ"})
    r = poll(code)
    expect("entra device: no offline_access, no refresh token", r.status == 200 and "refresh_token" not in r.json(), r.text)

    sc = entra_scenario()
    sc["device"].update(slow_down=2, outcome="approve", pending_polls=1)
    idp.change(entra=sc)
    code = new_device()
    answers = [poll(code) for _ in range(4)]
    entra_error("entra device: slow_down 1", answers[0], 400, "slow_down", 70016)
    entra_error("entra device: slow_down 2", answers[1], 400, "slow_down", 70016)
    entra_error("entra device: then pending", answers[2], 400, "authorization_pending", 70016)
    expect("entra device: outcome approve without a person", answers[3].status == 200, answers[3].text)
    sc["device"] = {"outcome": "deny", "interval": 1}
    idp.change(entra=sc)
    entra_error("entra device: access_denied", poll(new_device()), 400, "access_denied", 50105)
    sc["device"] = {"expires_in": 0, "user_code": "EXPIRED01"}
    idp.change(entra=sc)
    code = new_device()
    entra_error("entra device: expired_token", poll(code), 400, "expired_token", 70020)
    r = call(idp, "POST", "/devicelogin", {"user_code": "EXPIRED01"})
    expect("entra device: an expired code cannot be approved", r.status == 400, r.status)
    sc["device"] = {"interval": 30, "enforce_interval": True}
    idp.change(entra=sc)
    code = new_device()
    first, second = poll(code), poll(code)
    entra_error("entra device: enforce_interval: first poll pending", first, 400, "authorization_pending", 70016)
    entra_error("entra device: enforce_interval: too soon is slow_down", second, 400, "slow_down", 70016)

    # Refresh: rotation, and Conditional Access asking for MFA.
    refresh = lambda value, client=PUBLIC: call(idp, "POST", token_path, {
        "grant_type": "refresh_token", "client_id": client, "refresh_token": value, "scope": scope + " offline_access"})
    r = refresh(refresh1)
    refresh2 = r.json().get("refresh_token")
    expect("entra refresh: new refresh token", r.status == 200 and refresh2 and refresh2 != refresh1, r.text)
    entra_error("entra refresh: the old one is spent", refresh(refresh1), 400, "invalid_grant", 70000)
    entra_error("entra refresh: another client's", refresh(refresh2, CONFIDENTIAL), 401, "invalid_client", 7000218)
    for mfa in ("50076", "50079"):
        sc["clients"][PUBLIC]["mfa"] = mfa
        idp.change(entra=sc)
        entra_error("entra refresh: MFA %s" % mfa, refresh(refresh2), 400, "interaction_required", int(mfa))
    del sc["clients"][PUBLIC]["mfa"]
    idp.change(entra=sc)
    r = refresh(refresh2)
    expect("entra refresh: after MFA is no longer asked, the refresh token still works", r.status == 200, r.text)
    entra_error("entra: GET on the token endpoint", call(idp, "GET", token_path), 400, "invalid_request", 900561)

    text = open(idp.log_path).read()
    grants = [e.get("grant_type") for e in idp.log() if e["method"] == "POST"]
    expect("entra log: grant types recorded", grants.count("refresh_token") == 6 and "client_credentials" in grants
           and "urn:ietf:params:oauth:grant-type:device_code" in grants, grants)
    expect("entra log: no secret, assertion or token", SECRET not in text and refresh1 not in text
           and "eyJ" not in text, "a secret reached the log")

    # Azure DevOps (another instance) takes these tokens.
    def ado_get(token, suppress=True):
        return call(ado, "GET", "/tfs/DefaultCollection/_apis/connectionData", headers=dict(
            {"Authorization": "Bearer " + token}, **({"X-TFS-FedAuthRedirect": "Suppress"} if suppress else {})))
    r = ado_get(sp_token)
    expect("ado: service principal token accepted", r.status == 200 and
           r.json().get("authenticatedUser", {}).get("providerDisplayName") == CONFIDENTIAL, r.text[:300])
    r = ado_get(user_token)
    expect("ado: device code token accepted", r.status == 200, r.text[:300])
    ado.change(entra_in_org=["somebody@fabrikam.example"])
    r = ado_get(sp_token)
    expect("ado: identity not in the org: 401 TF400813", r.status == 401 and r.json().get("message") ==
           "TF400813: The user '%s' is not authorized to access this resource." % CONFIDENTIAL
           and r.json().get("$id") == "1" and "innerException" in r.json(), r.text)
    ado.change(entra_in_org=[CONFIDENTIAL], entra_first_signin=[CONFIDENTIAL])
    r = ado_get(sp_token)
    expect("ado: first sign-in: 401 TF401444", r.status == 401 and r.json().get("message", "").startswith(
        "TF401444: Sign-in at least once as %s\\%s\\%s" % (TENANT, TENANT, CONFIDENTIAL)), r.text)
    ado.change(entra_first_signin=[])
    expect("ado: a forged token is a bad PAT (401)", ado_get(sp_token[:-4] + "AAAA").status == 401)
    expect("ado: without Suppress a bad token is a 302", ado_get("x.y.z", suppress=False).status == 302)
    ado.change(token_key="another key")
    expect("ado: another token_key: 401", ado_get(sp_token).status == 401)
    ado.change(token_key=None)
    sc["token_lifetime_s"] = 0
    idp.change(entra=sc)
    expired = call(idp, "POST", token_path, {"grant_type": "client_credentials", "client_id": CONFIDENTIAL,
                                             "client_secret": SECRET, "scope": scope}).json().get("access_token", "")
    expect("ado: an expired Entra token: 401", ado_get(expired).status == 401)
    r = call(ado, "GET", "/tfs/DefaultCollection/_apis/connectionData",
             headers={"Authorization": "Basic " + base64.b64encode(b":CANARY-ADO-PAT").decode()})
    expect("ado: the PAT still works", r.status == 200, r.text[:200])
    ado.set({k: v for k, v in ado.scenario.items() if k not in ("entra_in_org", "entra_first_signin", "token_key")})


# --- managed identity ---------------------------------------------------------------------------
def check_managed(mi, ado, work):
    path = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" + ADO
    r = call(mi, "GET", path)
    expect("imds: no Metadata header: 400", r.status == 400 and r.json() == {
        "error": "invalid_request", "error_description": "Required metadata header not specified"}, r.text)
    r = call(mi, "GET", path, headers={"Metadata": "true"})
    j = r.json()
    expect("imds: numbers as strings", r.status == 200 and all(isinstance(j.get(k), str) and j[k].isdigit()
                                                               for k in ("expires_in", "expires_on", "not_before"))
           and abs(int(j["expires_on"]) - time.time() - 86399) < 5 and j.get("token_type") == "Bearer"
           and j.get("resource") == ADO and j.get("client_id") == "mi-system", r.text)
    r = call(ado, "GET", "/tfs/DefaultCollection/_apis/projects",
             headers={"Authorization": "Bearer " + j.get("access_token", ""), "X-TFS-FedAuthRedirect": "Suppress"})
    expect("imds: its token works at Azure DevOps", r.status == 200, r.text[:200])
    r = call(mi, "GET", path + "&client_id=mi-user-1", headers={"Metadata": "true"})
    expect("imds: user-assigned identity", r.status == 200 and r.json().get("client_id") == "mi-user-1", r.text)
    r = call(mi, "GET", path + "&client_id=mi-nobody", headers={"Metadata": "true"})
    expect("imds: unknown user-assigned: 400 Identity not found", r.status == 400 and
           r.json().get("error_description") == "Identity not found", r.text)
    r = call(mi, "GET", path.replace(ADO, "https://management.azure.com/"), headers={"Metadata": "true"})
    expect("imds: another resource: 400", r.status == 400, r.text)

    keys = os.path.join(work, "arc-keys")
    os.mkdir(keys)
    mi.set({"managed_identity": "arc", "arc": {"key_dir": keys}, "imds": {"client_id": "arc-system"}})
    arc = path.replace("2018-02-01", "2019-11-01")
    r = call(mi, "GET", arc, headers={"Metadata": "true"})
    realm = (r.headers.get("WWW-Authenticate") or "")
    m = re.match(r"^Basic realm=(%s/[0-9a-f]+\.key)$" % re.escape(keys), realm)
    expect("arc: 401 with a key file realm", r.status == 401 and m, realm)
    if m:
        mode = stat.S_IMODE(os.stat(m.group(1)).st_mode)
        secret = open(m.group(1)).read()
        expect("arc: key file 0640", mode == 0o640, oct(mode))
        r = call(mi, "GET", arc, headers={"Metadata": "true", "Authorization": "Basic " + secret})
        j = r.json()
        expect("arc: the retry gets the token", r.status == 200 and j.get("client_id") == "arc-system"
               and isinstance(j.get("expires_on"), str), r.text)
        r = call(ado, "GET", "/tfs/DefaultCollection/_apis/projects",
                 headers={"Authorization": "Bearer " + j.get("access_token", ""), "X-TFS-FedAuthRedirect": "Suppress"})
        expect("arc: its token works at Azure DevOps", r.status == 200, r.text[:200])
        r = call(mi, "GET", arc, headers={"Metadata": "true", "Authorization": "Basic " + secret})
        expect("arc: a secret works once", r.status == 401 and r.headers.get("WWW-Authenticate", "").startswith("Basic realm="))
    r = call(mi, "GET", arc, headers={"Metadata": "true", "Authorization": "Basic guessed"})
    expect("arc: a wrong secret: 401", r.status == 401)
    r = call(mi, "GET", arc + "&client_id=x", headers={"Metadata": "true"})
    expect("arc: no user-assigned identities", r.status == 400, r.text)
    hostile = os.path.join(work, "elsewhere.txt")
    with open(hostile, "w") as f:
        f.write("outside-secret")
    mi.set({"managed_identity": "arc", "arc": {"key_dir": keys, "realm_override": hostile}})
    r = call(mi, "GET", arc, headers={"Metadata": "true"})
    expect("arc: realm_override sent verbatim", r.headers.get("WWW-Authenticate") == "Basic realm=" + hostile,
           r.headers.get("WWW-Authenticate"))
    r = call(mi, "GET", arc, headers={"Metadata": "true", "Authorization": "Basic outside-secret"})
    expect("arc: realm_override's file contents are accepted", r.status == 200, r.text)


# --- Atlassian 3LO ------------------------------------------------------------------------------
def check_atlassian(idp):
    state = "s t/ä?&=%+" + secrets.token_hex(4)  # state must come back verbatim, however odd
    scopes = "read:jira-user read:jira-work offline_access"
    query = lambda **o: "/authorize?" + urlencode(dict({
        "audience": "api.atlassian.com", "client_id": ATL_CLIENT, "scope": scopes, "redirect_uri": ATL_CALLBACK,
        "state": state, "response_type": "code", "prompt": "consent"}, **o))
    page = call(idp, "GET", query())
    expect("atlassian: consent page with a form", page.status == 200 and "<form method=\"post\"" in page.text
           and 'value="accept"' in page.text and "read:jira-work" in page.text, page.text[:300])
    action = re.search(r'action="([^"]+)"', page.text)
    expect("atlassian: the form posts back to the authorize URL", action and
           action.group(1).replace("&amp;", "&") == query(), action and action.group(1))
    for name, q in [("unknown client", query(client_id="nobody")),
                    ("callback with a trailing slash", query(redirect_uri=ATL_CALLBACK + "/")),
                    ("callback on 127.0.0.1", query(redirect_uri=ATL_CALLBACK.replace("localhost", "127.0.0.1")))]:
        r = call(idp, "GET", q)
        expect("atlassian: %s: error page, no redirect" % name, r.status == 400 and "Location" not in r.headers, r.status)

    def consent(decision="accept", q=None):
        return call(idp, "POST", q or query(), {"decision": decision})
    r = consent("deny")
    back = location_query(r)
    expect("atlassian: deny: access_denied", r.status == 302 and back.get("error") == "access_denied"
           and back.get("state") == state, r.headers.get("Location"))
    r = consent()
    back = location_query(r)
    raw_state = re.search(r"[?&]state=([^&]*)", r.headers.get("Location", ""))
    expect("atlassian: accept: 302 with code and the state verbatim", r.status == 302 and
           r.headers["Location"].startswith(ATL_CALLBACK + "?") and back.get("code") and back.get("state") == state
           # percent-encoded (RFC 3986), so that a client decoding without the form rule "+ is a space" gets it too
           and raw_state and unquote(raw_state.group(1)) == state, r.headers.get("Location"))
    code = back.get("code")
    token = lambda body: call(idp, "POST", "/oauth/token", body=body)
    exchange = {"grant_type": "authorization_code", "client_id": ATL_CLIENT, "client_secret": ATL_SECRET, "code": code,
                "redirect_uri": ATL_CALLBACK}
    r = call(idp, "POST", "/oauth/token", form=exchange)
    expect("atlassian token: a form body is refused", r.status == 400, r.text)
    r = token(dict(exchange, client_secret="wrong"))
    expect("atlassian token: wrong secret: 401 access_denied", r.status == 401 and r.json().get("error") == "access_denied", r.text)
    r = token(dict(exchange, redirect_uri=ATL_CALLBACK + "x"))
    expect("atlassian token: other redirect_uri: 403 invalid_grant", r.status == 403 and
           r.json().get("error") == "invalid_grant", r.text)
    r = token(exchange)
    j = r.json()
    expect("atlassian token: code exchanged", r.status == 200 and j.get("expires_in") == 3600 and j.get("refresh_token")
           and j.get("token_type") == "Bearer" and j.get("scope") == scopes, r.text)
    access, rt1 = j.get("access_token", ""), j.get("refresh_token")
    r = token(exchange)
    expect("atlassian token: a code works once", r.status == 403 and r.json().get("error") == "invalid_grant", r.text)

    refresh = lambda value: token({"grant_type": "refresh_token", "client_id": ATL_CLIENT, "client_secret": ATL_SECRET,
                                   "refresh_token": value})
    r = refresh(rt1)
    rt2 = r.json().get("refresh_token")
    expect("atlassian refresh: a new refresh token", r.status == 200 and rt2 and rt2 != rt1, r.text)
    r = refresh(rt1)
    expect("atlassian refresh: the old one: 403 exactly", r.status == 403 and r.json() == {
        "error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}, r.text)
    # Two refreshes with the same token at the same moment: exactly one wins.
    results = []
    threads = [threading.Thread(target=lambda: results.append(refresh(rt2).status)) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    expect("atlassian refresh: concurrent reuse: one 200, one 403", sorted(results) == [200, 403], results)
    idp.change(atlassian=dict(idp.scenario["atlassian"], omit_refresh_token=True))
    r = call(idp, "POST", query(), {"decision": "accept"})
    rt = token(dict(exchange, code=location_query(r).get("code"))).json().get("refresh_token")
    r1, r2 = refresh(rt), refresh(rt)
    expect("atlassian refresh: omit_refresh_token: none given, the old one keeps working",
           r1.status == 200 and "refresh_token" not in r1.json() and r2.status == 200, r1.text + r2.text)
    idp.change(atlassian=dict(idp.scenario["atlassian"], omit_refresh_token=False, refresh_reuse_leeway_s=60))
    rt3 = refresh(rt).json().get("refresh_token")  # rt is now retired, with a leeway
    expect("atlassian refresh: within the reuse leeway the old one still works", refresh(rt).status == 200)
    expect("atlassian refresh: and so does the new one", refresh(rt3).status == 200)
    r = call(idp, "POST", query(scope="read:jira-work"), {"decision": "accept"})
    j = token(dict(exchange, code=location_query(r).get("code"))).json()
    expect("atlassian: no offline_access, no refresh token", j.get("access_token") and "refresh_token" not in j, j)
    work_only = j.get("access_token", "")

    bearer = lambda t: {"Authorization": "Bearer " + t}
    r = call(idp, "GET", "/oauth/token/accessible-resources", headers=bearer(access))
    sites = r.json()
    expect("atlassian resources: the site", r.status == 200 and isinstance(sites, list) and len(sites) == 1 and
           sites[0].get("id") == CLOUD_ID and sites[0].get("url") == "https://fabrikam.atlassian.net"
           and "read:jira-work" in sites[0].get("scopes", []) and sites[0].get("avatarUrl") and sites[0].get("name"), r.text)
    expect("atlassian resources: bad token: 401",
           call(idp, "GET", "/oauth/token/accessible-resources", headers=bearer("nope")).status == 401)
    gw = "/ex/jira/%s/rest/api/" % CLOUD_ID
    r = call(idp, "GET", gw + "3/serverInfo", headers=bearer(access))
    expect("atlassian gateway: serverInfo", r.status == 200 and r.json().get("deploymentType") == "Cloud", r.text[:200])
    r = call(idp, "GET", gw + "3/myself", headers=bearer(access))
    expect("atlassian gateway: myself", r.status == 200 and r.json().get("accountId"), r.text[:200])
    r = call(idp, "GET", gw + "3/search/jql?jql=project%3DTL&fields=summary", headers=bearer(access))
    expect("atlassian gateway: search/jql", r.status == 200 and "isLast" in r.json(), r.text[:200])
    r = call(idp, "GET", gw + "2/mypermissions?permissions=BROWSE_PROJECTS", headers=bearer(access))
    expect("atlassian gateway: mypermissions", r.status == 200, r.text[:200])
    r = call(idp, "GET", "/ex/jira/00000000-0000-0000-0000-000000000000/rest/api/3/myself", headers=bearer(access))
    expect("atlassian gateway: wrong cloudId: 404", r.status == 404, r.status)
    expect("atlassian gateway: bad token: 401", call(idp, "GET", gw + "3/myself", headers=bearer(access + "x")).status == 401)
    expect("atlassian gateway: no Authorization: 401", call(idp, "GET", gw + "3/myself").status == 401)
    r = call(idp, "GET", gw + "3/myself", headers=bearer(work_only))
    expect("atlassian gateway: myself without read:jira-user: 401", r.status == 401 and "scope" in r.text, r.text)
    idp.change(atlassian=dict(idp.scenario["atlassian"], expires_in=0, auto_consent=True,
                              sites=[{"id": CLOUD_ID, "url": "https://fabrikam.atlassian.net", "name": "fabrikam"},
                                     {"id": "second", "url": "https://other.atlassian.net", "name": "other"}]))
    r = call(idp, "GET", query())
    expect("atlassian: auto_consent redirects at once", r.status == 302 and location_query(r).get("code"), r.status)
    expired = token(dict(exchange, code=location_query(r).get("code"))).json().get("access_token", "")
    expect("atlassian gateway: expired token: 401", call(idp, "GET", gw + "3/myself", headers=bearer(expired)).status == 401)
    r = call(idp, "GET", "/oauth/token/accessible-resources", headers=bearer(access))
    expect("atlassian resources: two sites", r.status == 200 and [s["id"] for s in r.json()] == [CLOUD_ID, "second"], r.text)
    text = open(idp.log_path).read()
    expect("atlassian log: no secret", ATL_SECRET not in text and rt1 not in text)


# --- Jira Data Center OAuth 2.0 -------------------------------------------------------------------
def check_jira_dc(jira):
    verifier = secrets.token_urlsafe(48)
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    query = lambda **o: "/jira/rest/oauth2/latest/authorize?" + urlencode(dict({
        "client_id": DC_CLIENT, "redirect_uri": DC_CALLBACK, "response_type": "code", "scope": "READ", "state": "st-1",
        "code_challenge": challenge, "code_challenge_method": "S256"}, **o))
    page = call(jira, "GET", query())
    expect("jira dc: consent page", page.status == 200 and 'value="accept"' in page.text and "READ" in page.text, page.text[:200])
    for name, q in [("unknown client", query(client_id="x")), ("other redirect", query(redirect_uri=DC_CALLBACK + "/x")),
                    ("plain PKCE", query(code_challenge_method="plain"))]:
        r = call(jira, "GET", q)
        expect("jira dc: %s: error page" % name, r.status == 400 and "Location" not in r.headers, r.status)

    def code_for(q=None):
        r = call(jira, "POST", q or query(), {"decision": "accept"})
        back = location_query(r)
        expect("jira dc: consent redirects with code and state", r.status == 302 and back.get("state") == "st-1"
               and back.get("code"), r.headers.get("Location"))
        return back.get("code", "")
    r = call(jira, "POST", query(), {"decision": "deny"})
    expect("jira dc: deny: access_denied", location_query(r).get("error") == "access_denied", r.headers.get("Location"))
    token = lambda form: call(jira, "POST", "/jira/rest/oauth2/latest/token", form,
                              headers={"X-Request-Tag": "dc-token"})
    exchange = {"grant_type": "authorization_code", "client_id": DC_CLIENT, "client_secret": DC_SECRET,
                "redirect_uri": DC_CALLBACK, "code_verifier": verifier}
    r = call(jira, "POST", "/jira/rest/oauth2/latest/token", body=dict(exchange, code=code_for()))
    expect("jira dc token: a JSON body is refused", r.status == 400, r.text)
    r = token(dict(exchange, code=code_for(), client_secret="wrong"))
    expect("jira dc token: wrong secret: 401 invalid_client", r.status == 401 and r.json().get("error") == "invalid_client", r.text)
    r = token(dict(exchange, code=code_for(), code_verifier=secrets.token_urlsafe(48)))
    expect("jira dc token: wrong PKCE verifier: invalid_grant", r.status == 400 and r.json().get("error") == "invalid_grant", r.text)
    r = token(dict(exchange, code=code_for(), code_verifier=""))
    expect("jira dc token: no PKCE verifier: invalid_grant", r.status == 400 and r.json().get("error") == "invalid_grant", r.text)
    code = code_for()
    r = token(dict(exchange, code=code))
    j = r.json()
    expect("jira dc token: exchanged", r.status == 200 and j.get("access_token") and j.get("refresh_token") and
           j.get("token_type", "").lower() == "bearer" and j.get("expires_in") == 3600, r.text)
    access, rt1 = j.get("access_token", ""), j.get("refresh_token")
    r = token(dict(exchange, code=code))
    expect("jira dc token: a code works once", r.status == 400 and r.json().get("error") == "invalid_grant", r.text)
    r = call(jira, "GET", "/jira/rest/api/2/myself", headers={"Authorization": "Bearer " + access})
    expect("jira dc: REST with the access token", r.status == 200 and r.json().get("name") == "mia", r.text[:200])
    r = call(jira, "GET", "/jira/rest/api/2/myself", headers={"Authorization": "Bearer " + access[:-3] + "abc"})
    expect("jira dc: REST with a forged token: 401", r.status == 401 and
           r.headers.get("X-Seraph-LoginReason") == "AUTHENTICATED_FAILED", r.status)
    refresh = {"grant_type": "refresh_token", "client_id": DC_CLIENT, "client_secret": DC_SECRET, "refresh_token": rt1}
    r = token(refresh)
    expect("jira dc refresh: without redirect_uri: bare invalid_grant", r.status == 400 and r.json() == {"error": "invalid_grant"},
           r.text)
    r = token(dict(refresh, redirect_uri=DC_CALLBACK))
    rt2 = r.json().get("refresh_token")
    expect("jira dc refresh: rotated", r.status == 200 and rt2 and rt2 != rt1, r.text)
    r = token(dict(refresh, redirect_uri=DC_CALLBACK))
    expect("jira dc refresh: the old one is spent", r.status == 400 and r.json().get("error") == "invalid_grant", r.text)
    jira.change(jira_oauth2=dict(jira.scenario["jira_oauth2"], code_lifetime_s=0, require_pkce=True))
    r = token(dict(exchange, code=code_for()))
    expect("jira dc token: an expired code: invalid_grant", r.status == 400 and r.json().get("error") == "invalid_grant", r.text)
    q = "/jira/rest/oauth2/latest/authorize?" + urlencode({"client_id": DC_CLIENT, "redirect_uri": DC_CALLBACK,
                                                          "response_type": "code", "scope": "READ"})
    expect("jira dc: require_pkce refuses an authorize without a challenge", call(jira, "GET", q).status == 400)
    jira.change(jira_oauth2=dict(jira.scenario["jira_oauth2"], code_lifetime_s=10, access_token_lifetime_s=0))
    expired = token(dict(exchange, code=code_for())).json().get("access_token", "")
    r = call(jira, "GET", "/jira/rest/api/2/myself", headers={"Authorization": "Bearer " + expired})
    expect("jira dc: an expired access token: 401", r.status == 401, r.status)
    log = [e for e in jira.log() if e["path"] == "/jira/rest/oauth2/latest/token"]
    expect("jira dc log: custom headers and grant types on token requests",
           sum(e["custom"].get("X-Request-Tag") == "dc-token" for e in log) == len(log) - 1 and
           sum(e.get("grant_type") == "refresh_token" for e in log) == 3, log[-1] if log else None)
    text = open(jira.log_path).read()
    expect("jira dc log: no secret, verifier or token", DC_SECRET not in text and verifier not in text and rt1 not in text)


# --- Jira OAuth 1.0a ----------------------------------------------------------------------------
def check_oauth1(jira):
    origin = "https://localhost:%d" % jira.port
    servlet = "/jira/plugins/servlet/oauth/"

    def signed(method, path, token=None, **kw):
        return call(jira, method, path, headers={"Authorization": oauth1_header(method, origin + path, token, **kw)})

    def problem(name, r, want):
        www = r.headers.get("WWW-Authenticate") or ""
        return expect(name, r.status == 401 and r.form().get("oauth_problem") == want and r.form().get("oauth_problem_advice") and
                      r.text.startswith("oauth_problem=%s&" % want) and
                      'oauth_problem="%s"' % want in www and www.startswith("OAuth realm="), "%d %s | %s" % (r.status, r.text, www))

    r = signed("POST", servlet + "request-token", oauth_callback="oob")
    rt = r.form()
    expect("oauth1 request-token", r.status == 200 and rt.get("oauth_token") and rt.get("oauth_token_secret")
           and rt.get("oauth_callback_confirmed") == "true", r.text)
    page = call(jira, "GET", servlet + "authorize?oauth_token=" + quote(rt.get("oauth_token", "")))
    expect("oauth1 authorize: consent page", page.status == 200 and 'value="accept"' in page.text, page.text[:200])
    r = signed("POST", servlet + "access-token", rt.get("oauth_token"), oauth_verifier="x")
    problem("oauth1 access-token before approval: permission_unknown", r, "permission_unknown")
    r = call(jira, "POST", servlet + "authorize?oauth_token=" + quote(rt.get("oauth_token", "")), {"decision": "accept"})
    verifier = re.search(r'<code id="verifier">([^<]+)</code>', r.text)
    expect("oauth1 authorize: verification code shown (oob)", r.status == 200 and verifier and
           "Your verification code is '%s'" % verifier.group(1) in r.text, r.text[:400])
    verifier = verifier.group(1) if verifier else ""
    r = signed("POST", servlet + "access-token", rt.get("oauth_token"), oauth_verifier="wrong")
    problem("oauth1 access-token with a wrong verifier: token_rejected", r, "token_rejected")
    r = signed("POST", servlet + "access-token", rt.get("oauth_token"), oauth_verifier=verifier)
    at = r.form()
    expect("oauth1 access-token", r.status == 200 and at.get("oauth_token") and at.get("oauth_token_secret") and
           at.get("oauth_expires_in") == "157680000" and at.get("oauth_session_handle") and
           at.get("oauth_authorization_expires_in"), r.text)
    r = signed("POST", servlet + "access-token", rt.get("oauth_token"), oauth_verifier=verifier)
    problem("oauth1 access-token: a request token works once", r, "token_rejected")
    token = at.get("oauth_token", "")

    path = "/jira/rest/api/2/search?" + urlencode({"jql": 'project = TL AND summary ~ "a+b/c"', "fields": "summary,status"})
    r = signed("GET", path, token)
    expect("oauth1 REST with query parameters", r.status == 200 and r.json().get("total") == 7, r.text[:300])
    nonce, stamp = secrets.token_hex(8), int(time.time())
    header = oauth1_header("GET", origin + "/jira/rest/api/2/myself", token, nonce=nonce, stamp=stamp)
    first = call(jira, "GET", "/jira/rest/api/2/myself", headers={"Authorization": header})
    again = call(jira, "GET", "/jira/rest/api/2/myself", headers={"Authorization": header})
    expect("oauth1 REST: myself", first.status == 200, first.text[:200])
    problem("oauth1 REST: nonce_used", again, "nonce_used")
    r = call(jira, "GET", "/jira/rest/api/2/myself", headers={"Authorization": oauth1_header(
        "GET", origin + "/jira/rest/api/2/myself", token, key=OTHER_KEY)})
    problem("oauth1 REST: another key: signature_invalid", r, "signature_invalid")
    expect("oauth1 REST: signature_invalid carries the base string", "oauth_signature_base_string" in r.form())
    r = call(jira, "GET", "/jira/rest/api/2/myself", headers={"Authorization": oauth1_header(
        "GET", origin.replace("https", "http") + "/jira/rest/api/2/myself", token)})
    problem("oauth1 REST: signed for http, sent over https: signature_invalid", r, "signature_invalid")
    r = call(jira, "GET", path, headers={"Authorization": oauth1_header("GET", origin + path.split("?")[0], token)})
    problem("oauth1 REST: query left out of the signature: signature_invalid", r, "signature_invalid")
    # The client addressed https://JIRA.example:443: scheme and host lower-cased, the default port dropped.
    r = call(jira, "GET", "/jira/rest/api/2/myself", headers={"Host": "JIRA.example:443", "Authorization": oauth1_header(
        "GET", "https://jira.example/jira/rest/api/2/myself", token)})
    expect("oauth1 REST: default port left out of the base string", r.status == 200, r.text[:300])
    r = signed("GET", "/jira/rest/api/2/myself", token, stamp=int(time.time()) - 400)
    problem("oauth1 REST: old timestamp: timestamp_refused", r, "timestamp_refused")
    expect("oauth1 REST: acceptable timestamps", re.match(r"^\d+-\d+$", r.form().get("oauth_acceptable_timestamps", "")),
           r.text)
    jira.change(oauth1=dict(jira.scenario["oauth1"], clock_offset_s=1000))
    problem("oauth1 REST: the fake's clock ahead: timestamp_refused", signed("GET", "/jira/rest/api/2/myself", token),
            "timestamp_refused")
    jira.change(oauth1=dict(jira.scenario["oauth1"], clock_offset_s=0))
    problem("oauth1 REST: consumer_key_unknown", signed("GET", "/jira/rest/api/2/myself", token, consumer="nobody"),
            "consumer_key_unknown")
    problem("oauth1 REST: unknown token: token_rejected", signed("GET", "/jira/rest/api/2/myself", "made-up"),
            "token_rejected")
    jira.change(oauth1=dict(jira.scenario["oauth1"], revoke_all=True))
    problem("oauth1 REST: revoked: token_rejected", signed("GET", "/jira/rest/api/2/myself", token), "token_rejected")
    jira.change(oauth1=dict(jira.scenario["oauth1"], revoke_all=False, revoked=[token]))
    problem("oauth1 REST: revoked by name: token_rejected", signed("GET", "/jira/rest/api/2/myself", token), "token_rejected")
    jira.change(oauth1=dict(jira.scenario["oauth1"], revoked=[]))
    r = signed("POST", servlet + "request-token", oauth_callback="oob")
    denied = r.form().get("oauth_token", "")
    call(jira, "POST", servlet + "authorize?oauth_token=" + quote(denied), {"decision": "deny"})
    problem("oauth1 access-token after Deny: permission_denied",
            signed("POST", servlet + "access-token", denied, oauth_verifier="x"), "permission_denied")
    methods = {e.get("oauth_signature_method") for e in jira.log() if e.get("auth_scheme") == "OAuth"}
    expect("oauth1 log: signature method recorded", methods == {"RSA-SHA1"}, methods)


def main():
    global CTX, VERBOSE
    ap = argparse.ArgumentParser()
    ap.add_argument("--pki", default="/tmp/pki-fakes")
    ap.add_argument("-v", action="store_true", help="print every expectation, not only the failed ones")
    args = ap.parse_args()
    VERBOSE = args.v
    started = time.time()
    subprocess.run([os.path.join(HERE, "..", "..", "tools", "gen_test_certs.sh"), args.pki], check=True)
    CTX = ssl.create_default_context(cafile=os.path.join(args.pki, "ca.pem"))
    work = tempfile.mkdtemp(prefix="signin-fakes-")
    fakes = {
        "idp": Fake(work, args.pki, "idp", {
            "entra": entra_scenario(),
            "atlassian": {"clients": {ATL_CLIENT: {"secret": ATL_SECRET, "callback": ATL_CALLBACK}},
                          "sites": [{"id": CLOUD_ID, "name": "fabrikam", "url": "https://fabrikam.atlassian.net"}]}}),
        "ado": Fake(work, args.pki, "ado", {"personality": "ado", "collection_path": "/tfs/DefaultCollection",
                                            "expected_authorization": "Basic " + base64.b64encode(b":CANARY-ADO-PAT").decode(),
                                            "projects": ["Fiber"]}),
        "jira": Fake(work, args.pki, "jira", {
            "personality": "jira-dc", "base_path": "/jira", "expected_authorization": "Bearer CANARY-DC-PAT",
            "jira_oauth2": {"clients": {DC_CLIENT: {"secret": DC_SECRET, "callback": DC_CALLBACK}}},
            "oauth1": {"consumer_key": "tracklight-agent", "public_key_pem": PUBLIC_PEM}}),
        "mi": Fake(work, args.pki, "mi", {"managed_identity": "imds",
                                          "imds": {"client_id": "mi-system", "user_assigned": ["mi-user-1"]}}, plain=True),
    }
    try:
        for f in fakes.values():
            f.wait()
        check_entra(fakes["idp"], fakes["ado"])
        check_managed(fakes["mi"], fakes["ado"], work)
        check_atlassian(fakes["idp"])
        check_jira_dc(fakes["jira"])
        check_oauth1(fakes["jira"])
        r = call(fakes["jira"], "GET", "/jira/rest/api/2/myself", headers={"Authorization": "Bearer CANARY-DC-PAT"})
        expect("jira: the PAT still works", r.status == 200, r.status)
    finally:
        for f in fakes.values():
            f.stop()
        for f in fakes.values():
            f.err.seek(0)
            trace = f.err.read()
            expect("fake %s: no Python error" % f.name, "Traceback" not in trace, trace[-2000:])
        shutil.rmtree(work, ignore_errors=True)
    print("%s: %d failed expectation(s), %.1f s" % ("FAILED" if FAILED else "passed", len(FAILED), time.time() - started))
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
