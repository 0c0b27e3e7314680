"""Fake Atlassian Cloud OAuth 2.0 (3LO): auth.atlassian.com and api.atlassian.com in one server.
Shapes from reference/tracker-apis.md ("Cloud 3LO flow", "Sign-in flows on a device"); the
token endpoint's refusals are those of Auth0, which serves auth.atlassian.com.

    GET  /authorize?audience=api.atlassian.com&client_id&scope&redirect_uri&state&response_type=code&prompt=consent
         a consent page; its form (or a test: POST the same URL with decision=accept|deny)
         answers 302 to redirect_uri?code=...&state=... (state echoed), or ?error=access_denied.
         An unknown client_id or a redirect_uri not exactly the registered callback gets an error
         page (400), never a redirect.
    POST /oauth/token  JSON {grant_type:"authorization_code", client_id, client_secret, code, redirect_uri}
                       or {grant_type:"refresh_token", client_id, client_secret, refresh_token}
         -> {access_token, expires_in, token_type:"Bearer", scope, refresh_token (only with
         offline_access)}. Each refresh returns a new refresh token and retires the old one; a
         retired, unknown or foreign one gets 403 {"error":"invalid_grant","error_description":
         "Unknown or invalid refresh token."}. A bad client secret: 401 access_denied. A form body
         is refused (400): the documented request is JSON.
    GET  /oauth/token/accessible-resources  (Bearer) -> [{id, name, url, scopes, avatarUrl}]
    GET  /ex/jira/{cloudId}/rest/...  (Bearer) -> the fake Jira Cloud's answers (/rest/api/3/x is
         answered as /rest/api/2/x, search/jql as itself); an unknown cloudId 404; a bad or
         expired token 401 {"code":401,"message":"Unauthorized"}; myself without read:jira-user
         or search without read:jira-work 401 "Unauthorized; scope does not match".

Scenario "atlassian": {"clients": {CLIENT_ID: {"secret", "callback"}}, "sites": [{"id", "name",
"url", "scopes"?, "avatarUrl"?}], "account_id", "expires_in" (3600), "code_lifetime_s" (600),
"omit_refresh_token" (refresh answers carry none; the old one stays valid), "refresh_reuse_leeway_s"
(0: a retired refresh token keeps working this long, as Atlassian allows), "auto_consent" (GET
/authorize redirects at once, as if the person had accepted)}.
"""
import hmac
import re
from urllib.parse import quote, urlencode

import pages
from tokens import bearer, check, guard, mint

AUD = "api.atlassian.com"
GATEWAY = re.compile(r"^/ex/jira/([^/]+)(/.*)$")
SITE = {"id": "1324a887-45db-1bf4-1e99-ef0ff456d421", "name": "fabrikam", "url": "https://fabrikam.atlassian.net"}
AVATAR = "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png"
REFRESH_TTL = 90 * 86400  # unused this long, a refresh token expires
UNAUTHORIZED = {"code": 401, "message": "Unauthorized"}


@guard(True)
def route(h, s, method, path, query):
    a = s.get("atlassian")
    if a is None:
        return False
    if path == "/authorize":
        authorize(h, s, a, method, query)
    elif path == "/oauth/token":
        token(h, s, a)
    elif path == "/oauth/token/accessible-resources":
        resources(h, s, a)
    elif GATEWAY.match(path):
        gateway(h, s, a, *GATEWAY.match(path).groups(), query)
    else:
        return False
    return True


def redirect(h, uri, params):
    h.send(302, None, {"Location": uri + ("&" if "?" in uri else "?") + urlencode(params, quote_via=quote, safe="")})


def authorize(h, s, a, method, query):
    arg = lambda name: query.get(name, [None])[0]
    client = a.get("clients", {}).get(arg("client_id"))
    if client is None:
        return h.send(400, pages.error_page("Something went wrong", "Invalid client_id: this app is not registered."),
                      None, "text/html;charset=UTF-8")
    uri = arg("redirect_uri")
    if uri != client.get("callback"):
        return h.send(400, pages.error_page("Something went wrong",
                                            "The redirect_uri is not the callback URL registered for this app."),
                      None, "text/html;charset=UTF-8")
    state = [("state", arg("state"))] if arg("state") is not None else []
    if arg("audience") != AUD or arg("response_type") != "code" or not arg("scope"):
        return redirect(h, uri, [("error", "invalid_request"),
                                 ("error_description", "audience, response_type=code and scope are required")] + state)
    scopes = arg("scope").split()
    if method == "GET" and not a.get("auto_consent"):
        return h.send(200, pages.consent_page("Atlassian", arg("client_id"), scopes, h.path),
                      None, "text/html;charset=UTF-8")
    if method == "POST" and h.form.get("decision") != "accept":
        return redirect(h, uri, [("error", "access_denied"),
                                 ("error_description", "User did not authorize the request")] + state)
    code = h.server.grants.put("atlassian-code", {"client_id": arg("client_id"), "redirect_uri": uri, "scopes": scopes},
                               a.get("code_lifetime_s", 600))
    redirect(h, uri, [("code", code)] + state)


def token(h, s, a):
    body = h.json
    if not isinstance(body, dict):
        return h.send(400, {"error": "invalid_request", "error_description": "The request body must be JSON "
                                                                             "(Content-Type: application/json)."})
    client_id, grant = body.get("client_id"), body.get("grant_type")
    client = a.get("clients", {}).get(client_id)
    if client is None or not hmac.compare_digest(str(body.get("client_secret", "")).encode(),
                                                 str(client.get("secret", "")).encode()):
        return h.send(401, {"error": "access_denied", "error_description": "Unauthorized"})
    grants = h.server.grants
    if grant == "authorization_code":
        held = grants.get("atlassian-code", str(body.get("code")))
        if held is None or held["client_id"] != client_id:
            return h.send(403, {"error": "invalid_grant", "error_description": "Invalid authorization code"})
        if body.get("redirect_uri") != held["redirect_uri"]:
            return h.send(403, {"error": "invalid_grant", "error_description": "The redirect_uri does not match the one "
                                                                               "the code was issued for"})
        if grants.take("atlassian-code", str(body.get("code"))) is None:
            return h.send(403, {"error": "invalid_grant", "error_description": "Invalid authorization code"})
        return issue(h, s, a, client_id, held["scopes"], refresh=True)
    if grant == "refresh_token":
        value = str(body.get("refresh_token"))
        held = grants.get("atlassian-refresh", value)
        if held is None or held["client_id"] != client_id:
            return h.send(403, {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."})
        if a.get("omit_refresh_token"):
            return issue(h, s, a, client_id, held["scopes"], refresh=False)
        if not held.get("retired"):
            if grants.take("atlassian-refresh", value) is None:  # another request rotated it a moment ago
                return h.send(403, {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."})
            if a.get("refresh_reuse_leeway_s", 0) > 0:
                grants.put("atlassian-refresh", dict(held, retired=True), a["refresh_reuse_leeway_s"], value=value)
        return issue(h, s, a, client_id, held["scopes"], refresh=True)
    h.send(400, {"error": "unsupported_grant_type", "error_description": "Unsupported grant type: %s" % grant})


def issue(h, s, a, client_id, scopes, refresh):
    lifetime = a.get("expires_in", 3600)
    access, _ = mint(s, "atlassian", a.get("account_id", "5b10a2844c20165700ede21g"), AUD, lifetime,
                     scope=" ".join(scopes), client_id=client_id)
    body = {"access_token": access, "expires_in": lifetime, "token_type": "Bearer", "scope": " ".join(scopes)}
    if refresh and "offline_access" in scopes:
        body["refresh_token"] = h.server.grants.put("atlassian-refresh", {"client_id": client_id, "scopes": scopes},
                                                    REFRESH_TTL)
    h.send(200, body)


def resources(h, s, a):
    claims, _ = check(s, bearer(h.headers), ("atlassian",), AUD)
    if claims is None:
        return h.send(401, UNAUTHORIZED)
    granted = [x for x in claims.get("scope", "").split() if x != "offline_access"]
    h.send(200, [{"id": site["id"], "name": site.get("name", ""), "url": site["url"], "scopes": site.get("scopes", granted),
                  "avatarUrl": site.get("avatarUrl", AVATAR)} for site in a.get("sites", [SITE])])


def gateway(h, s, a, cloud_id, rest, query):
    claims, _ = check(s, bearer(h.headers), ("atlassian",), AUD)
    if claims is None:
        return h.send(401, UNAUTHORIZED)
    if cloud_id not in [site["id"] for site in a.get("sites", [SITE])]:
        return h.send(404, {"code": 404, "message": "Not Found"})
    scopes = claims.get("scope", "").split()
    api = re.sub(r"^/rest/api/[23]/", "", rest)
    wanted = {"myself": "read:jira-user", "search/jql": "read:jira-work", "search": "read:jira-work"}.get(api)
    if wanted and wanted not in scopes:
        return h.send(401, {"code": 401, "message": "Unauthorized; scope does not match"})
    if rest.startswith("/rest/api/3/") and not api.startswith("search/jql"):
        rest = "/rest/api/2/" + api  # the fake Jira answers these under /2/ only
    h.auth_ok = True  # the gateway has checked the token; the site itself sees no credential
    h.jira(dict(s, personality="jira-cloud", base_path=""), rest, query)
