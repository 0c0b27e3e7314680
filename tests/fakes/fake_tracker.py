#!/usr/bin/env python3
"""A fake Jira (Cloud or Data Center) or Azure DevOps server for tests, over real TLS from
Python's ssl module (OpenSSL), so the agent's mbedTLS client talks to a different stack.

Responses follow reference/tracker-apis.md: serverInfo, myself (401 AUTHENTICATED_FAILED,
CAPTCHA 403), mypermissions (400 without `permissions`), /rest/api/3 404 on Data Center;
connectionData (401 with X-TFS-FedAuthRedirect: Suppress, else a 302 to a sign-in page; 203
sign-in page; anonymous identity), projects (paged through the x-ms-continuationtoken response
header; "projects_page_size" caps a page) and the direct lookup projects/{name}, builds, TFVC
changesets, TF200016 404.
Board data (section 5 and 8): Cloud /rest/api/3/search/jql (nextPageToken, isLast, no total,
fields default to id only) and the removed Cloud /rest/api/2/search (410 Gone); Data Center
/rest/api/2/search (startAt, total); Azure DevOps builds with maxBuildsPerDefinition, branchName
and paging through the x-ms-continuationtoken response header. "board_status"/"board_headers"
make the board endpoints answer e.g. 429 with Retry-After, or 200 with X-RateLimit-* headers.

Sign-in providers, each in its own module and each playing its part when the scenario has its
key, dispatched by path before the tracker personality (one process can play several roles):
    signin_entra.py      "entra": Microsoft Entra ID token and device code endpoints; Azure DevOps
                         here also accepts Entra / IMDS / Arc Bearer tokens ("entra_in_org",
                         "entra_first_signin" refuse an identity with TF400813 / TF401444)
    signin_managed.py    "managed_identity": IMDS or Azure Arc (run with --plain, as they are HTTP)
    signin_atlassian.py  "atlassian": Atlassian Cloud 3LO (auth.atlassian.com, api.atlassian.com)
    signin_jira_dc.py    "jira_oauth2": the Jira Data Center OAuth 2.0 provider under base_path
    signin_oauth1.py     "oauth1": Jira OAuth 1.0a (RSA-SHA1) under base_path
Their access tokens are HMAC-signed (tokens.py, scenario "token_key"), so another instance of
this fake (the tracker) accepts what this one (the provider) issued.

    fake_tracker.py --cert C --key K --scenario S.json --log L.jsonl [--tls-only 1.2] [--group G]
      [--ciphers C] [--port 0]
    fake_tracker.py --plain --scenario S.json --log L.jsonl [--port 0]   (no TLS: managed identity)

prints "listening PORT" when ready. The scenario file is re-read on every request, so a test can
change the server's behaviour between requests. Every request is appended to the log as JSON:
method, path, whether Authorization / Proxy-Authorization headers were present, and the values
of the X-* headers (e.g. X-TFS-FedAuthRedirect) under "custom"; also "auth_scheme" (Basic,
Bearer, OAuth) when Authorization is present, "grant_type" of a POST that names one and
"oauth_signature_method" of an OAuth 1.0a request: never a secret. A test counts refreshes
by the entries with grant_type "refresh_token".
"""
import argparse
import json
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs, parse_qsl

sys.dont_write_bytecode = True  # no __pycache__ of the modules below in the source tree
import signin_atlassian  # noqa: E402 (after the line above)
import signin_entra
import signin_jira_dc
import signin_managed
import signin_oauth1
import tokens

# Tried in this order on every request; each answers only paths of its own and only when the
# scenario has its key.
SIGNIN = (signin_managed, signin_entra, signin_atlassian, signin_jira_dc, signin_oauth1)
BODY_LIMIT = 1 << 20  # a request body larger than this is refused (413)

PERMISSION_NAMES = {
    "BROWSE_PROJECTS": "Browse Projects", "CREATE_ISSUES": "Create Issues", "EDIT_ISSUES": "Edit Issues",
    "TRANSITION_ISSUES": "Transition Issues", "CREATE_ATTACHMENTS": "Create Attachments",
    "ADD_COMMENTS": "Add Comments", "DELETE_ALL_COMMENTS": "Delete All Comments",
    "USER_PICKER": "Browse users and groups",
}
STATUSES = [("To Do", "new", 2), ("In Progress", "indeterminate", 4), ("Done", "done", 3)]
GONE = {"errorMessages": ["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
                          "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"],
        "errors": {}}


def make_issues(n):
    out = []
    for i in range(n):
        name, key, cid = STATUSES[i % 3]
        out.append({"id": str(10000 + i), "key": "TL-%d" % (i + 1), "self": "https://jira.example/rest/api/2/issue/%d" % (10000 + i),
                    "fields": {"summary": "Issue number %d of the fake" % (i + 1),
                               "status": {"name": name, "id": str(i % 3 + 1),
                                          "statusCategory": {"id": cid, "key": key, "colorName": "blue-gray", "name": name}},
                               "assignee": {"displayName": ["Mia Krystof", "Jon Berg"][i % 2]} if i % 4 else None,
                               "priority": {"name": ["High", "Medium", "Low"][i % 3]}}})
    return out


def make_builds(s):
    """The scenario's builds, newest first. "builds": [...] as given, else "pipelines": N
    definitions, each with a finished build and, for every third, a newer running one."""
    if "builds" in s:
        return s["builds"]
    out = []
    results = ["succeeded", "failed", "succeeded", "partiallySucceeded", "canceled"]
    for d in range(s.get("pipelines", 3)):
        name = s.get("pipeline_names", ["CI", "Nightly", "Deploy"])[d] if d < len(s.get("pipeline_names", ["CI", "Nightly", "Deploy"])) else "pipeline-%02d" % d
        if d % 3 == 2:
            out.append({"definition": name, "status": "inProgress", "result": None, "number": "20261125.%d" % (d + 2)})
        out.append({"definition": name, "status": "completed", "result": results[d % 5], "number": "20261125.%d" % (d + 1)})
    return out


def build_json(i, b, base):
    done = b["status"] == "completed"
    return {"id": 100 + i, "buildNumber": b["number"], "status": b["status"], "result": b.get("result"),
            "queueTime": "2026-11-25T08:%02d:00Z" % (i % 60), "startTime": "2026-11-25T08:%02d:10Z" % (i % 60),
            "finishTime": "2026-11-25T08:%02d:50Z" % (i % 60) if done else None,
            "sourceBranch": b.get("branch", "refs/heads/main"), "reason": "individualCI",
            "definition": {"id": abs(hash(b["definition"])) % 1000, "name": b["definition"], "path": "\\"},
            "requestedFor": {"displayName": b.get("by", "Mia Krystof"), "uniqueName": "mia@example.com"},
            "_links": {"web": {"href": base + "/_build/results?buildId=%d" % (100 + i)}}}


SIGN_IN_PAGE = "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>Sign in</body></html>"


class TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def get_request(self):
        # The handshake runs in the handler's thread (Handler.setup), so a client that never
        # completes it cannot block the accept loop.
        sock, addr = self.socket.accept()
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        pass  # refused handshakes are the point of several tests


class PlainServer(ThreadingHTTPServer):
    """Plain HTTP, for the managed identity endpoints (IMDS and Azure Arc's agent speak no TLS)."""
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-tracker"

    def setup(self):
        self.request.settimeout(60)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def log_message(self, *args):
        pass

    # --- plumbing -------------------------------------------------------------------------
    def scenario(self):
        with open(self.server.scenario_path) as f:
            return json.load(f)

    def record(self):
        entry = {"method": self.command, "path": self.path, "client_port": self.client_address[1],
                 "sni": getattr(self.request, "sni", None),
                 "authorization": "Authorization" in self.headers,
                 "proxy_authorization": "Proxy-Authorization" in self.headers,
                 "custom": {k: v for k, v in self.headers.items() if k.lower().startswith("x-")}}
        if "Authorization" in self.headers:
            entry["auth_scheme"] = self.headers["Authorization"].split(" ")[0]
        fields = self.json if isinstance(self.json, dict) else self.form
        if fields.get("grant_type"):
            entry["grant_type"] = fields["grant_type"]
        oauth1 = signin_oauth1.header_params(self) or {}
        method = oauth1.get("oauth_signature_method") or self.form.get("oauth_signature_method")
        if method:
            entry["oauth_signature_method"] = method
        with self.server.log_lock, open(self.server.log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def send(self, status, body=None, headers=None, content_type="application/json;charset=UTF-8"):
        data = b"" if body is None else (body if isinstance(body, bytes) else
                                         (body if isinstance(body, str) else json.dumps(body)).encode())
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", content_type)
        if self.scenario().get("chunked") and data:
            # Chunked transfer coding, in pieces of 7 bytes so the client must reassemble.
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(data), 7):
                piece = data[i:i + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(data)))
        # Header and body in one write (what end_headers() would write, plus the body): as two
        # small writes the second waits for the client's delayed ACK (Nagle), ~40 ms a request.
        self._headers_buffer.append(b"\r\n" + data)
        self.flush_headers()

    def authorized(self, s):
        # auth_ok: a sign-in module has already checked this request's credential (the Atlassian
        # gateway in front of the Jira Cloud personality).
        return self.auth_ok or self.headers.get("Authorization") == s.get("expected_authorization")

    def origin(self):
        """scheme://host[:port] as the client addressed this server (its Host header), lower-cased."""
        host = self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_address[1]
        return ("%s://%s" % (self.server.scheme, host)).lower()

    def begin(self, body):
        """Per request (a connection carries several): the body, parsed when it is a form or JSON."""
        self.auth_ok, self.bearer_claims = False, None
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        text = body.decode("utf-8", "replace")
        self.form = dict(parse_qsl(text, keep_blank_values=True)) if kind == "application/x-www-form-urlencoded" else {}
        self.json = None
        if kind == "application/json":
            try:
                self.json = json.loads(text)
            except ValueError:
                pass

    def read_body(self):
        """The request body (Content-Length or chunked), or None when too large (413 sent)."""
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            data = b""
            while len(data) <= BODY_LIMIT:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailer fields
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            if length <= BODY_LIMIT:
                return self.rfile.read(length) if length else b""
        self.close_connection = True
        self.send(413, {"error": "request body too large"})
        return None

    def answered_early(self, s, url):
        """A scenario's "hang" (no answer at all) or its fixed answer for this path, for any method."""
        if s.get("hang"):
            time.sleep(s["hang"])
            return True
        override = s.get("overrides", {}).get(url.path)
        if override:
            self.send(override["status"], override.get("body"), override.get("headers"),
                      override.get("content_type", "application/json;charset=UTF-8"))
            return True
        return False

    def do_GET(self):
        self.begin(b"")
        self.record()
        s = self.scenario()
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if self.answered_early(s, url):
            return
        if any(m.route(self, s, "GET", url.path, query) for m in SIGNIN):
            return
        if "personality" not in s:  # only a sign-in provider here
            return self.send(404, {"error": "not_found", "error_description": "not in this fake"})
        if s["personality"].startswith("jira"):
            return self.jira(s, url.path, query)
        return self.azure(s, url.path, query)

    def do_POST(self):
        body = self.read_body()
        if body is None:
            return
        self.begin(body)
        self.record()
        s = self.scenario()
        url = urlsplit(self.path)
        if self.answered_early(s, url):
            return
        if any(m.route(self, s, "POST", url.path, parse_qs(url.query)) for m in SIGNIN):
            return
        self.send_error(501, "Unsupported method ('POST')")  # what this fake answered before it took POSTs

    # --- Jira -----------------------------------------------------------------------------
    def jira(self, s, path, query):
        cloud = s["personality"] == "jira-cloud"
        base = s.get("base_path", "")
        if not path.startswith(base + "/rest/"):
            return self.send(404, "<html>Oops, you've found a dead link.</html>", {"X-Seraph-LoginReason": "OK"},
                             "text/html;charset=UTF-8")
        path = path[len(base):]
        if path.startswith("/rest/api/3/") and not cloud:
            return self.send(404, {"errorMessages": ["null for uri"]})
        if path == "/rest/api/2/serverInfo":
            version = s.get("version", "1001.0.0-SNAPSHOT" if cloud else "9.12.2")
            return self.send(200, {"baseUrl": "https://jira.example", "version": version,
                                   "versionNumbers": [int(x) for x in version.split("-")[0].split(".")],
                                   "deploymentType": "Cloud" if cloud else "Server", "buildNumber": 100133,
                                   "serverTitle": "Jira"})
        if s.get("captcha"):
            return self.send(403, "<html>CAPTCHA</html>", {
                "X-Authentication-Denied-Reason": "CAPTCHA_CHALLENGE; login-url=https://jira.example/login.jsp",
                "X-Seraph-LoginReason": "AUTHENTICATION_DENIED"}, "text/html;charset=UTF-8")
        if not self.authorized(s):
            # OAuth 1.0a: a signed request is accepted or refused with its oauth_problem; then a
            # Bearer token of the fake Data Center OAuth 2.0 provider.
            oauth1 = signin_oauth1.rest(self, s)
            if oauth1 is False:
                return
            if oauth1 is None and not signin_jira_dc.bearer_ok(self, s):
                return self.send(401, {"message": "Client must be authenticated to access this resource.", "status-code": 401},
                                 {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
                                  "WWW-Authenticate": 'OAuth realm="https%3A%2F%2Fjira.example"'})
        if path == "/rest/api/2/myself":
            user = s.get("user", {})
            if cloud:
                body = {"accountId": "5b10a2844c20165700ede21g", "accountType": "atlassian",
                        "emailAddress": user.get("email"), "displayName": user.get("display", "Mia Krystof"),
                        "active": True, "timeZone": "Europe/Berlin"}
            else:
                body = {"key": "JIRAUSER10100", "name": user.get("name", "mia"), "emailAddress": user.get("email"),
                        "displayName": user.get("display", "Mia Krystof"), "active": True}
            return self.send(200, body)
        if path == "/rest/api/2/mypermissions":
            if "permissions" not in query:
                return self.send(400, {"errorMessages": ["The 'permissions' query parameter is required."], "errors": {}})
            granted = s.get("permissions", {})
            out = {}
            for key in query["permissions"][0].split(","):
                if key not in PERMISSION_NAMES:
                    return self.send(400, {"errorMessages": ["Unrecognized permission: " + key], "errors": {}})
                out[key] = {"id": str(len(out) + 10), "key": key, "name": PERMISSION_NAMES[key],
                            "type": "GLOBAL" if key == "USER_PICKER" else "PROJECT", "description": "",
                            "havePermission": bool(granted.get(key, True))}
            return self.send(200, {"permissions": out})
        if path in ("/rest/api/2/search", "/rest/api/3/search/jql"):
            return self.jira_search(s, path, query, cloud)
        return self.send(404, {"errorMessages": ["not in this fake"]})

    def board_refusal(self, s):
        """The board endpoints' rate-limit answers; True when one was sent."""
        status = s.get("board_status", 200)
        if status == 200:
            return False
        self.send(status, {"errorMessages": ["Rate limit exceeded."]} if status == 429 else {"message": "unavailable"},
                  s.get("board_headers"))
        return True

    def jira_search(self, s, path, query, cloud):
        if cloud and path == "/rest/api/2/search":
            return self.send(410, GONE)
        if self.board_refusal(s):
            return
        jql = query.get("jql", [""])[0]
        if s.get("jql_error") or (cloud and not jql):
            return self.send(400, {"errorMessages": ["Error in the JQL Query: The character '%' is a reserved JQL character."],
                                   "errors": {}})
        issues = make_issues(s.get("issues", 7))
        size = min(int(query.get("maxResults", ["50"])[0]), 100)
        wanted = query.get("fields", [""])[0].split(",") if "fields" in query else None
        if cloud:
            start = int(query.get("nextPageToken", ["0"])[0].replace("tok-", "") or 0)
        else:
            start = int(query.get("startAt", ["0"])[0])
        page = issues[start:start + size]
        if cloud and wanted is None:
            page = [{"id": i["id"]} for i in page]  # the new endpoint's default: ids only
        elif wanted is not None:
            page = [dict(i, fields={k: v for k, v in i["fields"].items() if k in wanted}) for i in page]
        headers = s.get("board_headers")
        if cloud:
            body = {"issues": page, "isLast": start + size >= len(issues)}
            if not body["isLast"]:
                body["nextPageToken"] = "tok-%d" % (start + size)
            return self.send(200, body, headers)
        return self.send(200, {"expand": "schema,names", "startAt": start, "maxResults": size, "total": len(issues),
                               "issues": page}, headers)

    # --- Azure DevOps ---------------------------------------------------------------------
    def azure(self, s, path, query):
        col = s.get("collection_path", "/fabrikam")
        if not path.startswith(col + "/"):
            return self.send(404, "<html>Page not found</html>", None, "text/html")
        rest = path[len(col):]
        suppress = self.headers.get("X-TFS-FedAuthRedirect") == "Suppress"
        # A Bearer token of the fake Entra / IMDS / Arc: accepted, or its identity refused (401
        # TF400813 / TF401444 sent); an invalid or expired one is answered below as a bad PAT.
        entra = signin_entra.ado_bearer(self, s) if not self.authorized(s) else None
        if entra == "answered":
            return
        if entra != "ok" and not self.authorized(s):
            mode = s.get("bad_pat", "401")
            if mode == "203":
                return self.send(203, SIGN_IN_PAGE, None, "text/html; charset=utf-8")
            if mode == "anonymous" and rest == "/_apis/connectionData":
                return self.send(200, {"authenticatedUser": {
                    "id": "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa",
                    "descriptor": "Microsoft.TeamFoundation.UnauthenticatedIdentity;S-1-0-0",
                    "providerDisplayName": "Anonymous", "isActive": True}, "instanceId": "i", "deploymentType": "hosted"})
            if mode == "302" or not suppress:
                return self.send(302, None, {"Location": "https://spsprodweu2.vssps.visualstudio.com/_signin?realm=dev.azure.com"})
            return self.send(401, {"$id": "1", "innerException": None,
                                   "message": s.get("bad_pat_message", "TF400813: The user '' is not authorized to access this resource."),
                                   "typeName": "Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException",
                                   "typeKey": "UnauthorizedRequestException", "errorCode": 0, "eventId": 3000},
                             {"WWW-Authenticate": 'Bearer authorization_uri=https://login.microsoftonline.com/t, Basic realm="https://tfs.example/", TFS-Federated'})
        if rest == "/_apis/connectionData":
            who = self.bearer_claims["sub"] if self.bearer_claims else None  # the Entra identity, when signed in so
            return self.send(200, {"authenticatedUser": {"id": "8d1e0c2a-1b5c-4a6e-9a51-3f7c2b6d9e10",
                                                         "descriptor": "Microsoft.IdentityModel.Claims.ClaimsIdentity;t\\"
                                                                       + (who or "mia@example.com"),
                                                         "providerDisplayName": who or "Mia Krystof", "isActive": True},
                                   "authorizedUser": {"id": "8d1e0c2a-1b5c-4a6e-9a51-3f7c2b6d9e10"},
                                   "instanceId": "e3f1", "deploymentType": "hosted"})
        if rest == "/_apis/projects":
            return self.azure_projects(s, query)
        if rest.startswith("/_apis/projects/"):
            return self.azure_project(s, rest[len("/_apis/projects/"):])
        parts = rest.split("/")  # "", project, "_apis", area, resource
        if len(parts) >= 5 and parts[2] == "_apis":
            from urllib.parse import unquote
            project = unquote(parts[1])
            if project not in s.get("projects", ["Fiber"]):
                return self.send(404, {"$id": "1", "innerException": None,
                                       "message": "TF200016: The following project does not exist: %s." % project,
                                       "typeKey": "ProjectDoesNotExistWithNameException", "errorCode": 0, "eventId": 3000})
            area = parts[3] + "/" + parts[4]
            if area == "build/builds" and "maxBuildsPerDefinition" in query:
                return self.azure_board(s, col, project, query)
            if area == "build/builds":
                status = s.get("builds_status", 200)
                return self.send(status, {"count": 1, "value": [{"id": 7, "buildNumber": "20261124.1", "status": "completed",
                                                                "result": "succeeded", "definition": {"id": 1, "name": "CI"}}]}
                                 if status == 200 else {"message": "TF401027: You need the Git 'GenericRead' permission"})
            if area == "tfvc/changesets":
                status = s.get("tfvc_status", 200)
                return self.send(status, {"count": 1, "value": [{"changesetId": 16, "createdDate": "2026-03-24T20:21:02.727Z",
                                                                "author": {"displayName": "Mia"}}]}
                                 if status == 200 else {"message": "TF10158: no TFVC repository"})
        return self.send(404, {"message": "not in this fake"})


    @staticmethod
    def project_json(i, name):
        return {"id": "eb6e4656-77fc-42a1-9181-4c6d8e9da5%02d" % i, "name": name, "state": "wellFormed",
                "revision": 411, "visibility": "private", "lastUpdateTime": "2026-11-02T09:12:44.28Z",
                "url": "https://dev.azure.com/fabrikam/_apis/projects/eb6e4656-77fc-42a1-9181-4c6d8e9da5%02d" % i}

    def azure_projects(self, s, query):
        """The list in pages: $top per page (the server's own cap "projects_page_size"), the next
        page named by the x-ms-continuationtoken response header, asked for with continuationToken."""
        names = s.get("projects", ["Fiber"])
        top = min(int(query.get("$top", ["100"])[0]), s.get("projects_page_size", 1000))
        start = int(query.get("continuationToken", ["0"])[0])
        page = [self.project_json(start + i, n) for i, n in enumerate(names[start:start + top])]
        headers = {"x-ms-continuationtoken": str(start + top)} if start + top < len(names) else None
        return self.send(200, {"count": len(page), "value": page}, headers)

    def azure_project(self, s, name_or_id):
        """The direct lookup by name (ignoring case, as Azure DevOps does) or id."""
        from urllib.parse import unquote
        wanted = unquote(name_or_id)
        for i, n in enumerate(s.get("projects", ["Fiber"])):
            p = self.project_json(i, n)
            if n.lower() == wanted.lower() or p["id"] == wanted:
                p["_links"] = {"self": {"href": p["url"]}, "web": {"href": "https://dev.azure.com/fabrikam/" + n}}
                p["defaultTeam"] = {"id": "66df9be7-3586-467b-9c5f-425b29afedfd", "name": n + " Team"}
                return self.send(200, p)
        return self.send(404, {"$id": "1", "innerException": None,
                               "message": "TF200016: The following project does not exist: %s. Verify that the name of the "
                                          "project is correct and that the project exists on the specified Azure DevOps Server." % wanted,
                               "typeName": "Microsoft.TeamFoundation.Core.WebApi.ProjectDoesNotExistWithNameException, "
                                           "Microsoft.TeamFoundation.Core.WebApi",
                               "typeKey": "ProjectDoesNotExistWithNameException", "errorCode": 0, "eventId": 3000})

    def azure_board(self, s, col, project, query):
        if self.board_refusal(s):
            return
        per = int(query["maxBuildsPerDefinition"][0])
        branch = query.get("branchName", [None])[0]
        kept, seen = [], {}
        for b in make_builds(s):
            if branch and b.get("branch", "refs/heads/main") != branch:
                continue
            seen[b["definition"]] = seen.get(b["definition"], 0) + 1
            if seen[b["definition"]] <= per:
                kept.append(b)
        top = min(int(query.get("$top", ["1000"])[0]), s.get("page_size", 1000))
        start = int(query.get("continuationToken", ["0"])[0])
        base = "https://dev.azure.com" + col + "/" + project
        page = [build_json(start + i, b, base) for i, b in enumerate(kept[start:start + top])]
        headers = dict(s.get("board_headers") or {})
        if start + top < len(kept):
            headers["x-ms-continuationtoken"] = str(start + top)
        return self.send(200, {"count": len(page), "value": page}, headers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--plain", action="store_true",
                    help="plain HTTP on 127.0.0.1, no TLS (the managed identity endpoints); --cert and --key are ignored")
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-only", choices=["1.0", "1.1", "1.2", "1.3"], default=None,
                    help="speak this TLS version and no other")
    ap.add_argument("--group", default=None,
                    help="the only key-exchange group, e.g. secp384r1 (a TLS 1.3 client offering "
                         "another first is asked to retry: HelloRetryRequest)")
    ap.add_argument("--ciphers", default=None, help="OpenSSL cipher list for TLS 1.2 and older")
    args = ap.parse_args()
    if args.plain:
        return serve(PlainServer(("127.0.0.1", args.port), Handler), "http", args)
    if not (args.cert and args.key):
        ap.error("--cert and --key are required (or --plain)")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.tls_only:
        if args.tls_only in ("1.0", "1.1"):
            ctx.set_ciphers("DEFAULT@SECLEVEL=0")  # OpenSSL 3 refuses old versions otherwise
        version = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1,
                   "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[args.tls_only]
        ctx.minimum_version = ctx.maximum_version = version
    if args.group:
        ctx.set_ecdh_curve(args.group)
    if args.ciphers:
        ctx.set_ciphers(args.ciphers)
    def remember_sni(sock, name, _ctx):
        sock.sni = name  # recorded with each request: the name the client sent, or None
    ctx.sni_callback = remember_sni
    server = TlsServer(("127.0.0.1", args.port), Handler)
    server.tls = ctx
    serve(server, "https", args)


def serve(server, scheme, args):
    server.scheme = scheme
    server.scenario_path, server.log_path, server.log_lock = args.scenario, args.log, threading.Lock()
    # Refresh tokens, codes, device codes, request tokens, Arc key secrets; OAuth 1.0a nonces.
    server.grants, server.nonces = tokens.Grants(), {}
    print("listening", server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
