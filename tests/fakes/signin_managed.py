"""Fake managed identity endpoints, served over plain HTTP (fake_tracker.py --plain) as the real
ones are: Azure's instance metadata service (IMDS, http://169.254.169.254) and the Azure Arc
agent (himds, http://127.0.0.1:40342). Shapes from reference/tracker-apis.md ("Managed identity",
"Azure Arc") and MSAL's Imds.ts / AzureArc.ts / ManagedIdentityTokenResponse.ts.

    GET /metadata/identity/oauth2/token?api-version=...&resource=...[&client_id=|object_id=|msi_res_id=]
        with "Metadata: true" (else 400 {"error":"invalid_request","error_description":
        "Required metadata header not specified"}). The answer gives its numbers as strings:
        {"access_token","client_id","expires_in":"86399","expires_on":"<epoch>","ext_expires_in",
        "not_before":"<epoch>","resource","token_type":"Bearer","refresh_token":""}.

Scenario: "managed_identity": "imds" | "arc"; "imds": {"client_id" (the system-assigned identity),
"user_assigned": [ids a request may name], "tenant", "token_lifetime_s" (86399)};
"arc": {"key_dir", "key_valid_s" (60), "realm_override"}.

Arc answers a request without Authorization with 401 and "WWW-Authenticate: Basic realm=<key_dir>/
<random hex>.key", a file it has just written (mode 0640) holding a random secret; the retry
"Authorization: Basic <the file's contents>" within key_valid_s gets the token (each secret
once; the file is removed when used). "realm_override" is sent as the realm verbatim instead,
and nothing is written: a test points it outside key_dir, at a name not ending in .key, or at a
huge file it made, to see the agent refuse to read it; the retry is accepted with the contents
of that file if it exists.
"""
import os
import secrets

from tokens import ADO_RESOURCE, guard, mint

PATH = "/metadata/identity/oauth2/token"
SYSTEM_ID = "7c0e1c3a-5d8f-4a2b-9e61-0f3d2b4c6a18"


@guard(True)
def route(h, s, method, path, query):
    kind = s.get("managed_identity")
    if kind not in ("imds", "arc") or path != PATH:
        return False
    arg = lambda name: query.get(name, [None])[0]
    if (h.headers.get("Metadata") or "").lower() != "true":
        return fail(h, 400, "invalid_request", "Required metadata header not specified")
    if method != "GET":
        return fail(h, 405, "invalid_request", "The request method is not supported")
    if not arg("api-version"):
        return fail(h, 400, "invalid_request", "Required query variable 'api-version' is missing")
    if not arg("resource"):
        return fail(h, 400, "invalid_request", "Required audience parameter not specified")
    ident = s.get("imds", {})
    named = arg("client_id") or arg("object_id") or arg("msi_res_id")
    if kind == "arc":
        if named:
            return fail(h, 400, "invalid_request", "User-assigned managed identities are not supported on Azure Arc")
        if not arc_authorized(h, s.get("arc", {})):
            return True
    elif named and named not in ident.get("user_assigned", []):
        return fail(h, 400, "invalid_request", "Identity not found")
    if arg("resource") != ADO_RESOURCE:
        return fail(h, 400, "invalid_resource",
                    "AADSTS500011: The resource principal named %s was not found in the tenant. This can happen if the "
                    "application has not been installed by the administrator of the tenant." % arg("resource"))
    client_id = named if named else ident.get("client_id", SYSTEM_ID)
    lifetime = ident.get("token_lifetime_s", 86399)
    token, claims = mint(s, kind, client_id, ADO_RESOURCE, lifetime,
                         tid=ident.get("tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47"))
    h.send(200, {"access_token": token, "client_id": client_id, "expires_in": str(lifetime),
                 "expires_on": str(claims["exp"]), "ext_expires_in": str(lifetime), "not_before": str(claims["iat"]),
                 "resource": ADO_RESOURCE, "token_type": "Bearer", "refresh_token": ""},
           None, "application/json; charset=utf-8")
    return True


def fail(h, status, error, text):
    h.send(status, {"error": error, "error_description": text}, None, "application/json; charset=utf-8")
    return True


def arc_authorized(h, arc):
    """True when the request carries a live secret from a key file; else a 401 challenge (with a
    fresh key file) was sent."""
    given = h.headers.get("Authorization") or ""
    secrets_held = h.server.grants
    if given.startswith("Basic "):
        secret = given[6:]
        if "realm_override" in arc:
            try:
                with open(arc["realm_override"], "rb") as f:
                    if f.read().decode("latin-1") == secret:
                        return True
            except OSError:
                pass
        else:
            path = secrets_held.take("arc-key", secret)
            if path is not None:
                try:
                    os.unlink(path)
                except OSError:
                    pass
                return True
    if "realm_override" in arc:
        realm = arc["realm_override"]
    else:
        folder = arc.get("key_dir", "/tmp")
        realm = os.path.join(folder, secrets.token_hex(16) + ".key")
        secret = secrets.token_hex(32)
        fd = os.open(realm, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        os.fchmod(fd, 0o640)  # whatever the umask: himds gives the key to its group
        os.write(fd, secret.encode())
        os.close(fd)
        secrets_held.put("arc-key", realm, arc.get("key_valid_s", 60), value=secret)
    h.send(401, {"error": "unauthorized", "error_description": "A key file was written; retry with its contents."},
           {"WWW-Authenticate": "Basic realm=" + realm}, "application/json; charset=utf-8")
    return False
