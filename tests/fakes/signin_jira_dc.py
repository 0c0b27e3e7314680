"""Fake Jira Data Center OAuth 2.0 provider (an incoming application link), on the fake Jira itself
under its base_path. Shapes from reference/tracker-apis.md ("DC OAuth 2.0 provider", "Sign-in flows
on a device"): PKCE S256, codes valid ~10 s, the refresh grant repeating redirect_uri.

    GET  {base}/rest/oauth2/latest/authorize?client_id&redirect_uri&response_type=code&scope&state
         &code_challenge&code_challenge_method=S256
         a consent page; its form (or a test: POST the same URL with decision=accept|deny) answers
         302 to redirect_uri?code=...&state=... (or ?error=access_denied). An unknown client_id or
         a redirect_uri other than the link's Redirect URL: an error page (400), no redirect.
    POST {base}/rest/oauth2/latest/token  form-encoded:
         grant_type=authorization_code, client_id, client_secret, code, redirect_uri, code_verifier
         grant_type=refresh_token, client_id, client_secret, refresh_token, redirect_uri
         -> {access_token, token_type:"bearer", expires_in, refresh_token, scope}. Codes are single
         use and expire; a code issued with a code_challenge needs the code_verifier whose
         base64url(SHA-256) it is. A refresh without redirect_uri gets a bare {"error":"invalid_grant"}.
         Refresh tokens rotate (the old one is then invalid). Errors 400 {"error":...,
         "error_description":...}; a bad client secret 401 invalid_client.
    {base}/rest/api/2/*  accepts "Authorization: Bearer <access_token>" (see fake_tracker.py).

Scenario "jira_oauth2": {"clients": {CLIENT_ID: {"secret", "callback"}}, "user" ("mia"),
"code_lifetime_s" (10), "access_token_lifetime_s" (3600), "require_pkce" (authorize without a
code_challenge gets an error page), "auto_consent" (GET authorize redirects at once)}.
"""
import hashlib
import hmac
import re
from urllib.parse import quote, urlencode

import pages
from tokens import b64url, bearer, check, guard, mint

AUD = "jira-dc"
SCOPES = {"READ", "WRITE", "ADMIN", "SYSTEM_ADMIN"}
REFRESH_TTL = 90 * 86400
VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636 §4.1


@guard(True)
def route(h, s, method, path, query):
    o = s.get("jira_oauth2")
    base = s.get("base_path", "")
    if o is None or not path.startswith(base + "/rest/oauth2/latest/"):
        return False
    tail = path[len(base + "/rest/oauth2/latest/"):]
    if tail == "authorize":
        authorize(h, o, method, query)
    elif tail == "token" and method == "POST":
        token(h, s, o)
    else:
        h.send(404, {"errorMessages": ["not in this fake"]})
    return True


def page_error(h, message):
    h.send(400, pages.error_page("OAuth 2.0 authorization failed", message), None, "text/html;charset=UTF-8")


def authorize(h, o, method, query):
    arg = lambda name: query.get(name, [None])[0]
    client = o.get("clients", {}).get(arg("client_id"))
    if client is None:
        return page_error(h, "Unknown client_id: no incoming link has it.")
    uri = arg("redirect_uri")
    if uri != client.get("callback"):
        return page_error(h, "The redirect_uri does not match the Redirect URL of the application link.")
    challenge, challenge_method = arg("code_challenge"), arg("code_challenge_method")
    if challenge and challenge_method != "S256":
        return page_error(h, "code_challenge_method must be S256.")
    if not challenge and o.get("require_pkce"):
        return page_error(h, "This link requires PKCE (code_challenge with code_challenge_method=S256).")
    state = [("state", arg("state"))] if arg("state") is not None else []
    scopes = (arg("scope") or "").split()
    back = lambda params: h.send(302, None, {"Location": uri + ("&" if "?" in uri else "?") +
                                                         urlencode(params + state, quote_via=quote, safe="")})
    if arg("response_type") != "code":
        return back([("error", "unsupported_response_type")])
    if not scopes or not set(scopes) <= SCOPES:
        return back([("error", "invalid_scope")])
    if method == "GET" and not o.get("auto_consent"):
        return h.send(200, pages.consent_page("Jira", arg("client_id"), scopes, h.path, "Allow", "Deny",
                                              o.get("user", "mia")), None, "text/html;charset=UTF-8")
    if method == "POST" and h.form.get("decision") != "accept":
        return back([("error", "access_denied")])
    code = h.server.grants.put("jira-dc-code", {"client_id": arg("client_id"), "redirect_uri": uri, "scopes": scopes,
                                                "challenge": challenge}, o.get("code_lifetime_s", 10))
    back([("code", code)])


def token(h, s, o):
    form = h.form
    refuse = lambda error, text=None, status=400: h.send(status, dict({"error": error},
                                                                      **({"error_description": text} if text else {})))
    if not form:
        return refuse("invalid_request", "The token request must be form-encoded (application/x-www-form-urlencoded).")
    client_id = form.get("client_id")
    client = o.get("clients", {}).get(client_id)
    if client is None or not hmac.compare_digest(form.get("client_secret", "").encode(), client.get("secret", "").encode()):
        return refuse("invalid_client", "Client authentication failed.", 401)
    grants, grant = h.server.grants, form.get("grant_type")
    if grant == "authorization_code":
        code = form.get("code", "")
        held = grants.take("jira-dc-code", code)  # single use, even when refused below
        if held is None or held["client_id"] != client_id:
            return refuse("invalid_grant", "The authorization code is invalid, expired or already used.")
        if form.get("redirect_uri") != held["redirect_uri"]:
            return refuse("invalid_grant", "The redirect_uri does not match the authorization request.")
        if held["challenge"]:
            verifier = form.get("code_verifier", "")
            if not VERIFIER.match(verifier) or b64url(hashlib.sha256(verifier.encode()).digest()) != held["challenge"]:
                return refuse("invalid_grant", "The code_verifier does not match the code_challenge.")
        return issue(h, s, o, client_id, held["scopes"])
    if grant == "refresh_token":
        if form.get("redirect_uri") != client.get("callback"):
            return refuse("invalid_grant")  # bare, as Jira answers a refresh without redirect_uri
        held = grants.get("jira-dc-refresh", form.get("refresh_token", ""))
        if held is None or held["client_id"] != client_id or grants.take("jira-dc-refresh", form["refresh_token"]) is None:
            return refuse("invalid_grant", "The refresh token is invalid or expired.")
        return issue(h, s, o, client_id, held["scopes"])
    refuse("unsupported_grant_type", "Unsupported grant_type: %s" % grant)


def issue(h, s, o, client_id, scopes):
    lifetime = o.get("access_token_lifetime_s", 3600)
    access, _ = mint(s, "jira-dc", o.get("user", "mia"), AUD, lifetime, scope=" ".join(scopes), client_id=client_id)
    refresh = h.server.grants.put("jira-dc-refresh", {"client_id": client_id, "scopes": scopes}, REFRESH_TTL)
    h.send(200, {"access_token": access, "token_type": "bearer", "expires_in": lifetime, "refresh_token": refresh,
                 "scope": " ".join(scopes)})


def bearer_ok(h, s):
    """True when the request carries an access token of this provider (valid, unexpired) and this
    fake plays Data Center (Cloud sites take 3LO tokens only through the gateway)."""
    if s.get("personality") != "jira-dc":
        return False
    claims, _ = check(s, bearer(h.headers), ("jira-dc",), AUD)
    return claims is not None
