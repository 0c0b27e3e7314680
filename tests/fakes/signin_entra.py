"""Fake Microsoft Entra ID (login.microsoftonline.com) for the agent's Azure DevOps sign-in, and
Azure DevOps' side of Entra tokens. Shapes from reference/tracker-apis.md ("Entra ID tokens",
"Client credentials", "Device code", "Entra certificate credential", "Sign-in flows on a device")
and Entra's error code list (MicrosoftDocs/entra-docs reference-error-codes.md).

    POST /{tenant}/oauth2/v2.0/token       form: grant_type=client_credentials (client_secret, or
                                            client_assertion_type + client_assertion: a PS256 JWT),
                                            urn:ietf:params:oauth:grant-type:device_code, refresh_token
    POST /{tenant}/oauth2/v2.0/devicecode  form: client_id, scope
    GET  /devicelogin[?user_code=...]      the page where the person enters the code (a form)
    POST /devicelogin                      form: user_code, decision=approve|decline|deny: what the
                                            person did (deny: access_denied, as an admin's block)

Scenario "entra": {"tenant": ID or [IDs], "clients": {CLIENT_ID: {"secret", "certificate_pem",
"public_client": bool, "mfa": "50076"|"50079"}}, "device": {...}, "token_lifetime_s": 3599}.
"device": "interval" (5), "expires_in" (900), "slow_down" (the first N polls answer slow_down),
"enforce_interval" (a poll sooner than the interval answers slow_down and adds 5 s, RFC 8628),
"user_code" (fixed, so a test knows it), "user" (the person; the token's subject),
"verification_uri" (default: this fake's /devicelogin), "outcome" ("approve"|"decline"|"deny":
what happens without a person, after "pending_polls" (0) authorization_pending answers).

Errors in Entra's shape: {"error","error_description":"AADSTSnnnn: ...\\r\\nTrace ID: ...",
"error_codes":[n],"timestamp","trace_id","correlation_id","error_uri"}, HTTP 400, 401 for
invalid_client. "mfa" makes the refresh grant answer interaction_required (Conditional Access
asking for MFA: only a person in a browser can satisfy it).
"""
import hmac
import json
import re
import secrets
import time
import uuid
from urllib.parse import quote

import pages
from tokens import ADO_RESOURCE, b64url, bearer, check, guard, mint, unb64url

ENDPOINT = re.compile(r"^/([^/]+)/oauth2/v2\.0/(token|devicecode)$")
ADO_SCOPE = ADO_RESOURCE + "/.default"
GRANTED_SCOPE = ADO_RESOURCE + "/user_impersonation"  # what Entra reports for a delegated ADO token
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
OIDC_SCOPES = {"offline_access", "openid", "profile", "email"}  # what may accompany the .default scope
LEEWAY = 30  # seconds of clock difference allowed on a client assertion's times
REFRESH_TTL = 90 * 86400
USER_CODE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class Refusal(Exception):
    def __init__(self, status, error, code, text):
        super().__init__(text)
        self.status, self.error, self.code, self.text = status, error, code, text


def fail(status, error, code, text):
    raise Refusal(status, error, code, text)


def answer_error(h, r):
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    h.send(r.status, {"error": r.error,
                      "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s"
                                           % (r.code, r.text, trace, corr, stamp),
                      "error_codes": [r.code], "timestamp": stamp, "trace_id": trace, "correlation_id": corr,
                      "error_uri": "https://login.microsoftonline.com/error?code=%d" % r.code},
           {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}, "application/json; charset=utf-8")


@guard(True)
def route(h, s, method, path, query):
    e = s.get("entra")
    if e is None:
        return False
    if path == "/devicelogin":
        device_login(h, s, e, method, query)
        return True
    m = ENDPOINT.match(path)
    if not m:
        return False
    try:
        if method != "POST":
            fail(400, "invalid_request", 900561, "The endpoint only accepts POST requests. Received a %s request." % method)
        tenants = e.get("tenant", [])
        if m.group(1) not in (tenants if isinstance(tenants, list) else [tenants]):
            fail(400, "invalid_request", 90002,
                 "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the "
                 "correct cloud. Check with your subscription administrator, this may happen if there are no active "
                 "subscriptions for the tenant." % m.group(1))
        (device_code if m.group(2) == "devicecode" else token)(h, s, e, m.group(1), path)
    except Refusal as r:
        answer_error(h, r)
    return True


def need(form, name):
    if not form.get(name):
        fail(400, "invalid_request", 900144, "The request body must contain the following parameter: '%s'." % name)
    return form[name]


def client_of(e, tenant, client_id):
    client = e.get("clients", {}).get(client_id)
    if client is None:
        fail(400, "unauthorized_client", 700016,
             "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application "
             "has not been installed by the administrator of the tenant or consented to by any user in the tenant. You "
             "may have sent your authentication request to the wrong tenant." % (client_id, tenant))
    return client


def scopes_of(form, offline_allowed):
    scopes = need(form, "scope").split()
    if ADO_SCOPE not in scopes or any(x != ADO_SCOPE and (x not in OIDC_SCOPES or not offline_allowed) for x in scopes):
        fail(400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope "
                                          "'%s' is not valid." % " ".join(scopes))
    return scopes


# --- the token endpoint -------------------------------------------------------------------------
def token(h, s, e, tenant, path):
    form = h.form
    grant = need(form, "grant_type")
    client_id = need(form, "client_id")
    client = client_of(e, tenant, client_id)
    credential = authenticate(h, client_id, client, form, path)
    if grant == "client_credentials":
        if credential is None:
            no_credential()
        scopes_of(form, offline_allowed=False)
        return issue(h, s, e, tenant, client_id, client_id, refresh_scopes=None, delegated=False)
    if grant not in (DEVICE_GRANT, "refresh_token"):
        fail(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'." % grant)
    if credential is None and not client.get("public_client"):
        no_credential()  # "Allow public client flows" is off: the app must prove itself
    if grant == DEVICE_GRANT:
        return device_poll(h, s, e, tenant, client_id, need(form, "device_code"))
    return refresh(h, s, e, tenant, client_id, client, form)


def no_credential():
    fail(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or "
                                         "'client_secret'.")


def authenticate(h, client_id, client, form, path):
    """How the client proved itself: "secret", "certificate", or None (it sent nothing)."""
    if "client_assertion" in form or "client_assertion_type" in form:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            fail(400, "invalid_request", 90023, "Invalid client_assertion_type '%s'." % form.get("client_assertion_type"))
        verify_assertion(h, client_id, client, need(form, "client_assertion"), path)
        return "certificate"
    if "client_secret" in form:
        if not client.get("secret") or not hmac.compare_digest(form["client_secret"].encode(), client["secret"].encode()):
            fail(401, "invalid_client", 7000215,
                 "Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
                 "value, not the client secret ID, for a secret added to app '%s'." % client_id)
        return "secret"
    return None


def verify_assertion(h, client_id, client, assertion, path):
    """The certificate credential: a JWT signed PS256 with the registered certificate's key, its
    header naming the certificate by x5t#S256, its claims aud = the token URL the client used,
    iss = sub = client id, a jti, nbf, and an exp at most 10 minutes ahead."""
    # Imported here, not at the top: fake_tracker.py without a sign-in scenario must run on any
    # python3 (tools/demo.py, the ARM smoke test), not only on one with python3-cryptography.
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    parts = assertion.split(".")
    try:
        header, claims, signature = json.loads(unb64url(parts[0])), json.loads(unb64url(parts[1])), unb64url(parts[2])
        if not isinstance(header, dict) or not isinstance(claims, dict) or len(parts) != 3:
            raise ValueError
    except (ValueError, IndexError, UnicodeDecodeError):
        fail(401, "invalid_client", 50027, "JWT token is invalid or malformed.")
    if header.get("alg") != "PS256":
        fail(401, "invalid_client", 50027, "Invalid JWT token. The algorithm '%s' is not supported for client assertions "
                                           "of this application; use PS256." % header.get("alg"))
    pem = client.get("certificate_pem")
    cert = x509.load_pem_x509_certificate(pem.encode()) if pem else None
    thumb = b64url(cert.fingerprint(hashes.SHA256())) if cert else None
    if header.get("x5t#S256") != thumb or not thumb:
        fail(401, "invalid_client", 700027,
             "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used "
             "by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured "
             "keys for app Id '%s'.]" % (header.get("x5t#S256") or header.get("x5t"), client_id))
    try:
        cert.public_key().verify(signature, (parts[0] + "." + parts[1]).encode(),
                                 padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    except (InvalidSignature, ValueError, TypeError):
        fail(401, "invalid_client", 700027, "Client assertion contains an invalid signature. [Reason - The provided "
                                            "signature value did not match the expected signature value.]")
    if claims.get("iss") != claims.get("sub"):
        fail(401, "invalid_client", 50048, "Subject mismatches Issuer claim in the client assertion.")
    if claims.get("sub") != client_id:
        fail(401, "invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter.")
    token_url = h.origin() + path
    if claims.get("aud") != token_url:
        fail(401, "invalid_client", 50027, "Invalid JWT token. Token audience '%s' is not the token endpoint '%s'."
                                           % (claims.get("aud"), token_url))
    if not claims.get("jti"):
        fail(401, "invalid_client", 50027, "Invalid JWT token. The client assertion has no 'jti' claim.")
    now = time.time()
    exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat", now)
    if not all(isinstance(x, (int, float)) for x in (exp, nbf, iat)) or not (
            now - LEEWAY < exp <= now + 600 + LEEWAY and nbf <= now + LEEWAY and iat <= now + LEEWAY and nbf < exp):
        iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(t)) if isinstance(t, (int, float)) else t
        fail(401, "invalid_client", 700024,
             "Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry "
             "time of assertion %s. Review the documentation at "
             "https://learn.microsoft.com/entra/identity-platform/certificate-credentials ." % (iso(now), iso(nbf), iso(exp)))


def issue(h, s, e, tenant, client_id, sub, refresh_scopes, delegated, scopes=()):
    lifetime = e.get("token_lifetime_s", 3599)
    access, _ = mint(s, "entra", sub, ADO_RESOURCE, lifetime, tid=tenant, appid=client_id,
                     **({"scp": "user_impersonation"} if delegated else {"roles": []}))
    body = {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": access}
    if delegated:
        body["scope"] = GRANTED_SCOPE
    if refresh_scopes is not None and "offline_access" in refresh_scopes:
        body["refresh_token"] = h.server.grants.put("entra-refresh", {"client_id": client_id, "tenant": tenant, "sub": sub,
                                                                     "scopes": refresh_scopes}, REFRESH_TTL)
    if "openid" in scopes:
        body["id_token"], _ = mint(s, "entra-id", sub, client_id, lifetime, tid=tenant, preferred_username=sub)
    h.send(200, body, {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}, "application/json; charset=utf-8")


def refresh(h, s, e, tenant, client_id, client, form):
    value = need(form, "refresh_token")
    grants = h.server.grants
    held = grants.get("entra-refresh", value)
    if held is None or held["client_id"] != client_id or held["tenant"] != tenant:
        fail(400, "invalid_grant", 70000, "The provided value for the input parameter 'refresh_token' or 'assertion' is "
                                          "not valid.")
    if "scope" in form:
        scopes_of(form, offline_allowed=True)
    if client.get("mfa") in ("50076", "50079", 50076, 50079):
        code = int(client["mfa"])
        fail(400, "interaction_required", code,
             "Due to a configuration change made by your administrator, or because you moved to a new location, you "
             "must %s multi-factor authentication to access '%s'." % ("use" if code == 50076 else "enroll in", ADO_RESOURCE))
    if grants.take("entra-refresh", value) is None:  # another request used it a moment ago
        fail(400, "invalid_grant", 70000, "The provided value for the input parameter 'refresh_token' or 'assertion' is "
                                          "not valid.")
    issue(h, s, e, tenant, client_id, held["sub"], held["scopes"], delegated=True, scopes=held["scopes"])


# --- device code ----------------------------------------------------------------------------------
def device_code(h, s, e, tenant, path):
    form = h.form
    client_id = need(form, "client_id")
    client_of(e, tenant, client_id)
    scopes = scopes_of(form, offline_allowed=True)
    d = e.get("device", {})
    interval, expires_in = d.get("interval", 5), d.get("expires_in", 900)
    user_code = d.get("user_code") or "".join(secrets.choice(USER_CODE_CHARS) for _ in range(9))
    now = time.time()
    record = {"client_id": client_id, "tenant": tenant, "scopes": scopes, "user_code": user_code, "expires": now + expires_in,
              "interval": interval, "state": "pending", "polls": 0, "last_poll": None,
              "user": d.get("user", "mia@fabrikam.example")}
    # Kept an hour past its expiry, to answer expired_token rather than bad_verification_code.
    code = h.server.grants.put("entra-device", record, expires_in + 3600, value="DAQABAAEAAA" + secrets.token_urlsafe(48))
    uri = d.get("verification_uri") or h.origin() + "/devicelogin"
    h.send(200, {"user_code": user_code, "device_code": code, "verification_uri": uri, "expires_in": expires_in,
                 "interval": interval,
                 "message": "To sign in, use a web browser to open the page %s and enter the code %s to authenticate."
                            % (uri, user_code)}, None, "application/json; charset=utf-8")


OUTCOMES = {"approve": "approved", "decline": "declined", "deny": "denied"}


def device_poll(h, s, e, tenant, client_id, code):
    d = e.get("device", {})
    grants = h.server.grants
    record = grants.get("entra-device", code)
    if record is None or record["client_id"] != client_id or record["tenant"] != tenant:
        fail(400, "bad_verification_code", 70018, "The provided value for the input parameter 'device_code' is not valid.")
    with grants.lock:  # two polls at once must count as two
        now = time.time()
        record["polls"] += 1
        polls, last, record["last_poll"] = record["polls"], record["last_poll"], now
        too_soon = d.get("enforce_interval") and last is not None and now - last < record["interval"]
        if too_soon:
            record["interval"] += 5
        state = record["state"]
        if state == "pending" and d.get("outcome") in OUTCOMES and polls > d.get("slow_down", 0) + d.get("pending_polls", 0):
            state = record["state"] = OUTCOMES[d["outcome"]]
    if now >= record["expires"]:
        fail(400, "expired_token", 70020, "The provided value for the input parameter 'device_code' is not valid. This "
                                          "device code has expired.")
    if polls <= d.get("slow_down", 0) or too_soon:
        fail(400, "slow_down", 70016, "OAuth 2.0 device flow error. Polling too fast: wait the interval plus 5 seconds "
                                      "(RFC 8628).")
    if state == "pending":
        fail(400, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
    if state == "declined":
        fail(400, "authorization_declined", 65004, "User declined to consent to access the app.")
    if state == "denied":
        fail(400, "access_denied", 50105,
             "Your administrator has configured the application to block users unless they are specifically granted "
             "('assigned') access to the application. The signed in user '%s' is blocked because they are not a direct "
             "member of a group with access, nor had access directly assigned by an administrator." % record["user"])
    if grants.take("entra-device", code) is None:  # redeemed by a poll a moment ago
        fail(400, "invalid_grant", 70000, "The provided value for the input parameter 'device_code' has already been "
                                          "redeemed.")
    issue(h, s, e, tenant, client_id, record["user"], record["scopes"], delegated=True, scopes=record["scopes"])


def device_login(h, s, e, method, query):
    """The page at verification_uri: the person types the code and approves (or declines)."""
    if method != "POST":
        code = query.get("user_code", [""])[0]
        return h.send(200, pages.page(
            "Enter code",
            "<p>Enter the code displayed on your app or device.</p><form method=\"post\" action=\"/devicelogin\">"
            "<input name=\"user_code\" id=\"user_code\" autocomplete=\"off\" value=\"%s\">"
            "<button type=\"submit\" name=\"decision\" value=\"approve\" id=\"approve\">Continue</button>"
            "<button type=\"submit\" name=\"decision\" value=\"decline\" id=\"decline\">Cancel</button></form>"
            % pages.escape(code)), None, "text/html; charset=utf-8")
    typed = re.sub(r"[\s-]", "", h.form.get("user_code", "")).upper()
    decision = h.form.get("decision", "approve")
    grants = h.server.grants
    code, record = grants.find("entra-device", lambda r: r["user_code"].upper() == typed and r["state"] == "pending")
    if record is None:
        return h.send(400, pages.error_page("Enter code", "That code didn't work. Check the code and try again."),
                      None, "text/html; charset=utf-8")
    if time.time() >= record["expires"]:
        return h.send(400, pages.error_page("Enter code", "That code has expired. Start again on your device."),
                      None, "text/html; charset=utf-8")
    with grants.lock:
        record["state"] = {"approve": "approved", "accept": "approved", "deny": "denied"}.get(decision, "declined")
    done = {"approved": "You have signed in to the application on your device. You may now close this window.",
            "declined": "You declined the sign-in on your device.",
            "denied": "Your sign-in was blocked: you have no access to this application."}[record["state"]]
    h.send(200, pages.page("Device sign-in", "<p id=\"result\" data-state=\"%s\">%s</p>" % (record["state"], done)),
           None, "text/html; charset=utf-8")


# --- Azure DevOps' side -------------------------------------------------------------------------
@guard("answered")
def ado_bearer(h, s):
    """An Authorization: Bearer from the fake Entra, IMDS or Arc, for Azure DevOps: "ok" (its claims
    in h.bearer_claims), "answered" (the identity is refused: a 401 TF400813 / TF401444 was sent),
    or None (no valid token: the caller answers as for a bad PAT)."""
    claims, _ = check(s, bearer(h.headers), ("entra", "imds", "arc"), ADO_RESOURCE)
    if claims is None:
        return None
    sub, tid = claims["sub"], claims.get("tid", "72f988bf-86f1-41af-91ab-2d7cd011db47")
    if sub in s.get("entra_first_signin", []):
        message = "TF401444: Sign-in at least once as %s\\%s\\%s in a web browser to enable access to the service." % (tid, tid, sub)
    elif "entra_in_org" in s and sub not in s["entra_in_org"]:
        message = "TF400813: The user '%s' is not authorized to access this resource." % sub
    else:
        h.bearer_claims = claims
        return "ok"
    h.send(401, {"$id": "1", "innerException": None, "message": message,
                 "typeName": "Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, "
                             "Microsoft.TeamFoundation.Framework.Server",
                 "typeKey": "UnauthorizedRequestException", "errorCode": 0, "eventId": 3000},
           {"WWW-Authenticate": "Bearer authorization_uri=https://login.microsoftonline.com/%s" % quote(tid)})
    return "answered"
