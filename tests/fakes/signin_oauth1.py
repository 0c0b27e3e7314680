"""Fake Jira OAuth 1.0a provider (RSA-SHA1, an incoming application link with the consumer's public
key), on the fake Jira itself under its base_path. Shapes from reference/tracker-apis.md ("OAuth
1.0a", "Sign-in flows on a device"), RFC 5849 and the OAuth problem reporting extension.

    POST {base}/plugins/servlet/oauth/request-token   signed; oauth_callback=oob (or a URL)
         -> oauth_token=...&oauth_token_secret=...&oauth_callback_confirmed=true
    GET  {base}/plugins/servlet/oauth/authorize?oauth_token=...   a consent page (Allow / Deny);
         its form (or a test: POST the same URL with decision=accept|deny) shows, for oob, "Your
         verification code is '<v>'" with <code id="verifier">v</code>; for a callback URL it
         answers 302 callback?oauth_token=...&oauth_verifier=...
    POST {base}/plugins/servlet/oauth/access-token    signed with the request token and oauth_verifier
         -> oauth_token=...&oauth_token_secret=...&oauth_expires_in=157680000
            &oauth_session_handle=...&oauth_authorization_expires_in=160272000
    {base}/rest/api/2/*  with "Authorization: OAuth ..." signed with the access token.

Every signed request is checked as Jira does: the signature over the RFC 5849 §3.4.1 base string
(method, the base URL the client addressed - scheme://host[:port]/path, lower-cased, default port
left out, taken from the Host header - and the oauth_* parameters but oauth_signature, query and
form parameters, encoded per §3.6, sorted) verified against the consumer's public key; the
timestamp within 300 s of the fake's clock; each nonce once. A refusal is 401 with the body
oauth_problem=<problem>[&...] and "WWW-Authenticate: OAuth realm=..., oauth_problem=<problem>":
consumer_key_unknown, signature_method_rejected, parameter_absent, token_rejected (unknown,
revoked or expired token, a wrong verifier), permission_unknown / permission_denied (the request
token was not approved / was denied), timestamp_refused (with oauth_acceptable_timestamps=a-b),
signature_invalid (with oauth_signature_base_string, what the fake signed), nonce_used.

Scenario "oauth1": {"consumer_key", "public_key_pem", "clock_offset_s" (0: the fake's clock is
time.time() plus this), "base_url_override" (the base URL the fake signs instead of the one the
client addressed, as a Jira behind a reverse proxy does), "revoke_all" / "revoked": [tokens]
(access tokens refused with token_rejected), "user", "auto_consent" (GET authorize approves)}.
Access tokens are the signed tokens of tokens.py (kind "jira-oauth1"), so another fake instance
with the same token_key accepts them; request tokens live in this fake's memory (10 minutes).
"""
import base64
import re
import secrets
import time
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import pages
from tokens import check, guard, mint

SERVLET = "/plugins/servlet/oauth/"
WINDOW = 300  # seconds a timestamp may differ from the fake's clock
TOKEN_LIFETIME = 157680000  # ~5 years, as a default Jira answers
AUTHORIZATION_LIFETIME = 160272000
REQUEST_TOKEN_TTL = 600
PARAM = re.compile(r'([A-Za-z0-9_]+)\s*=\s*"([^"]*)"')


def enc(text):
    """RFC 5849 §3.6: UTF-8, then every byte but ALPHA / DIGIT / - . _ ~ as %XX (upper case)."""
    return quote(text, safe="-._~")


def header_params(h):
    value = h.headers.get("Authorization") or ""
    if value[:6].lower() != "oauth ":
        return None
    return {k: unquote(v) for k, v in PARAM.findall(value[6:])}


@guard(True)
def route(h, s, method, path, query):
    o = s.get("oauth1")
    base = s.get("base_path", "")
    if o is None or not path.startswith(base + SERVLET):
        return False
    step = path[len(base + SERVLET):]
    if step == "request-token" and method == "POST":
        request_token(h, s, o)
    elif step == "authorize":
        authorize(h, s, o, method, query)
    elif step == "access-token" and method == "POST":
        access_token(h, s, o)
    else:
        h.send(404, "<html>Oops, you've found a dead link.</html>", None, "text/html;charset=UTF-8")
    return True


ADVICE = {
    "consumer_key_unknown": "The consumer key is not that of an application link of this Jira.",
    "signature_method_rejected": "Only RSA-SHA1 is accepted.",
    "parameter_absent": "A required OAuth parameter is missing.",
    "version_rejected": "Only OAuth 1.0 is accepted.",
    "timestamp_refused": "The timestamp is too far from this server's clock; check the device's clock.",
    "signature_invalid": "The signature does not match what this server signed: check the key and the URL "
                         "(scheme, host, port, path and query) the request was signed for.",
    "nonce_used": "This nonce was already used with this timestamp.",
    "token_rejected": "The token is unknown, expired or revoked; authorise the application again.",
    "permission_unknown": "The request token has not been authorised yet.",
    "permission_denied": "The user denied access to this application.",
}


def problem(h, o, name, **extra):
    """The 401 of a refused OAuth 1.0a request: oauth_problem first, then what it names
    (e.g. oauth_acceptable_timestamps), then oauth_problem_advice."""
    realm = quote(o.get("base_url_override") or h.origin(), safe="")
    extra.setdefault("oauth_problem_advice", ADVICE.get(name, ""))
    body = urlencode([("oauth_problem", name)] + list(extra.items()), quote_via=quote, safe="")
    h.send(401, body, {"WWW-Authenticate": 'OAuth realm="%s", oauth_problem="%s"' % (realm, name)},
           "text/plain;charset=UTF-8")
    return False


def verify(h, s, o):
    """The oauth_* parameters of a correctly signed, fresh, first-seen request; else None after
    answering the problem."""
    params = header_params(h) or {}
    for k, v in h.form.items():  # RFC 5849 §3.5.2: the parameters may come in the body instead
        if k.startswith("oauth_"):
            params.setdefault(k, v)
    if not params.get("oauth_consumer_key"):
        return problem(h, o, "parameter_absent", oauth_parameters_absent="oauth_consumer_key") or None
    if params["oauth_consumer_key"] != o.get("consumer_key"):
        return problem(h, o, "consumer_key_unknown") or None
    if params.get("oauth_signature_method") != "RSA-SHA1":
        return problem(h, o, "signature_method_rejected", oauth_acceptable_signature_methods="RSA-SHA1") or None
    absent = [k for k in ("oauth_signature", "oauth_timestamp", "oauth_nonce") if not params.get(k)]
    if absent:
        return problem(h, o, "parameter_absent", oauth_parameters_absent="&".join(absent)) or None
    if params.get("oauth_version", "1.0") != "1.0":
        return problem(h, o, "version_rejected", oauth_acceptable_versions="1.0-1.0") or None
    now = int(time.time() + o.get("clock_offset_s", 0))
    try:
        stamp = int(params["oauth_timestamp"])
    except ValueError:
        stamp = None
    if stamp is None or abs(stamp - now) > WINDOW:
        return problem(h, o, "timestamp_refused", oauth_acceptable_timestamps="%d-%d" % (now - WINDOW, now + WINDOW)) or None
    base_string = signature_base(h, o, params)
    # Imported here: fake_tracker.py without "oauth1" must run on a python3 lacking cryptography.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    try:
        key = serialization.load_pem_public_key(o["public_key_pem"].encode())
        key.verify(base64.b64decode(params["oauth_signature"], validate=True), base_string.encode(),
                   padding.PKCS1v15(), hashes.SHA1())
    except (InvalidSignature, ValueError, TypeError, KeyError):
        return problem(h, o, "signature_invalid", oauth_signature_base_string=base_string) or None
    # After the signature, so that a forged request cannot burn a nonce the client will use.
    seen = (params["oauth_consumer_key"], params.get("oauth_token", ""), stamp, params["oauth_nonce"])
    with h.server.grants.lock:
        nonces = h.server.nonces
        for old in [k for k, t in nonces.items() if t < time.time() - 2 * WINDOW]:
            del nonces[old]
        if seen in nonces:
            used = True
        else:
            used, nonces[seen] = False, time.time()
    if used:
        return problem(h, o, "nonce_used") or None
    return params


def signature_base(h, o, params):
    url = urlsplit(h.path)
    base = (o.get("base_url_override") or h.origin()).rstrip("/")
    scheme, _, host = base.partition("://")
    scheme, host = scheme.lower(), host.lower()
    if (scheme, host.rpartition(":")[2]) in (("https", "443"), ("http", "80")):
        host = host.rpartition(":")[0]
    pairs = [(k, v) for k, v in params.items() if k not in ("oauth_signature", "realm")]
    pairs += parse_qsl(url.query, keep_blank_values=True)
    pairs += [(k, v) for k, v in h.form.items() if not k.startswith("oauth_")]
    normalized = "&".join("%s=%s" % p for p in sorted((enc(k), enc(v)) for k, v in pairs))
    return "&".join([h.command.upper(), enc("%s://%s%s" % (scheme, host, url.path)), enc(normalized)])


def request_token(h, s, o):
    params = verify(h, s, o)
    if params is None:
        return
    callback = params.get("oauth_callback")
    if not callback:
        return problem(h, o, "parameter_absent", oauth_parameters_absent="oauth_callback")
    value = h.server.grants.put("oauth1-request", {"callback": callback, "state": "pending", "verifier": None},
                                REQUEST_TOKEN_TTL)
    h.send(200, urlencode({"oauth_token": value, "oauth_token_secret": secrets.token_urlsafe(24),
                           "oauth_callback_confirmed": "true"}), None, "text/plain;charset=UTF-8")


def authorize(h, s, o, method, query):
    value = query.get("oauth_token", [""])[0]
    record = h.server.grants.get("oauth1-request", value)
    if record is None or record["state"] != "pending":
        return h.send(400, pages.error_page("OAuth authorization", "The request token is invalid, expired or already "
                                                                   "used. Start again from the application."),
                      None, "text/html;charset=UTF-8")
    if method == "GET" and not o.get("auto_consent"):
        return h.send(200, pages.consent_page("Jira", o.get("consumer_key", ""), ["Read and write Jira data on your behalf"],
                                              h.path, "Allow", "Deny", o.get("user", "mia")), None, "text/html;charset=UTF-8")
    approved = method == "GET" or h.form.get("decision") == "accept"
    with h.server.grants.lock:
        record["state"] = "approved" if approved else "denied"
        record["verifier"] = secrets.token_urlsafe(6) if approved else None
    if record["callback"] != "oob":
        params = {"oauth_token": value, "oauth_verifier": record["verifier"]} if approved else \
                 {"oauth_token": value, "oauth_problem": "permission_denied"}
        uri = record["callback"]
        return h.send(302, None, {"Location": uri + ("&" if "?" in uri else "?") + urlencode(params)})
    if not approved:
        return h.send(200, pages.page("Access denied", "<p id=\"result\">You have denied access to your Jira data.</p>"),
                      None, "text/html;charset=UTF-8")
    h.send(200, pages.page("Access approved",
                           "<p id=\"result\">You have successfully authorized '%s'. Your verification code is '%s'. You "
                           "will need to enter this exact text when prompted. You should write this value down before "
                           "you close the browser window.</p><p><code id=\"verifier\">%s</code></p>"
                           % (pages.escape(o.get("consumer_key", "")), record["verifier"], record["verifier"])),
           None, "text/html;charset=UTF-8")


def access_token(h, s, o):
    params = verify(h, s, o)
    if params is None:
        return
    grants, value = h.server.grants, params.get("oauth_token", "")
    record = grants.get("oauth1-request", value)
    if record is None:
        return problem(h, o, "token_rejected")
    if record["state"] == "pending":
        return problem(h, o, "permission_unknown")
    if record["state"] == "denied":
        grants.take("oauth1-request", value)
        return problem(h, o, "permission_denied")
    if not params.get("oauth_verifier") or params["oauth_verifier"] != record["verifier"]:
        return problem(h, o, "token_rejected", oauth_problem_advice="The oauth_verifier does not match the request token.")
    if grants.take("oauth1-request", value) is None:  # exchanged by another request a moment ago
        return problem(h, o, "token_rejected")
    token, _ = mint(s, "jira-oauth1", o.get("user", "mia"), "jira-dc", TOKEN_LIFETIME, consumer=o.get("consumer_key"))
    h.send(200, urlencode({"oauth_token": token, "oauth_token_secret": secrets.token_urlsafe(24),
                           "oauth_expires_in": TOKEN_LIFETIME, "oauth_session_handle": secrets.token_urlsafe(18),
                           "oauth_authorization_expires_in": AUTHORIZATION_LIFETIME}), None, "text/plain;charset=UTF-8")


@guard(False)
def rest(h, s):
    """For {base}/rest/...: None when the request is not OAuth 1.0a (or the scenario has no
    "oauth1"), True when it is correctly signed with a live access token, False when a problem
    was answered."""
    o = s.get("oauth1")
    if o is None or header_params(h) is None:
        return None
    params = verify(h, s, o)
    if params is None:
        return False
    value = params.get("oauth_token", "")
    claims, _ = check(s, value, ("jira-oauth1",), "jira-dc")
    if claims is None or o.get("revoke_all") or value in o.get("revoked", []):
        return problem(h, o, "token_rejected")
    return True
