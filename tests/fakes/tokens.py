"""Access tokens that every fake can check, and the one-time grants one fake keeps in memory.

Access tokens are stateless so that a second fake instance (say the fake Azure DevOps, started
apart from the fake Entra that issued the token) accepts them: a JWT-shaped string
base64url(header).base64url(claims).base64url(HMAC-SHA256) with header {"alg":"HS256","typ":"JWT"}
and claims

    kind  which fake issued it: "entra", "imds", "arc", "atlassian", "jira-dc", "jira-oauth1"
    sub   who it stands for: a client id, a user, a managed identity's client id
    aud   whom it is for: Azure DevOps' resource id, "api.atlassian.com", "jira-dc"
    iat, exp  real epoch seconds (time.time()), so a token expires while a test runs
    jti   a random id; plus what the issuer adds (tid, appid, scope, client_id)

signed with the scenario's "token_key" (DEFAULT_KEY when absent). Every fake reading the same key
accepts the token; a test revokes every token at once by changing the key. Real tokens of these
services are opaque to the agent, so it must never read these claims; only the fakes do.

Refresh tokens, authorization codes, device codes and request tokens are random strings kept in
Grants, in the memory of the fake that issued them: they rotate or are single use, and a restart
of the fake forgets them (as a revoked grant).
"""
import base64
import hashlib
import hmac
import json
import functools
import secrets
import sys
import threading
import time
import traceback

DEFAULT_KEY = "tracklight fake token key"
ADO_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"  # Azure DevOps' app id (reference, Entra ID tokens)


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def random_code(n=24):
    return secrets.token_urlsafe(n)


def _key(s):
    return str(s.get("token_key") or DEFAULT_KEY).encode()


def mint(s, kind, sub, aud, lifetime, **claims):
    """A signed access token and its claims; lifetime in seconds (0 or less: already expired)."""
    now = int(time.time())
    payload = dict(claims, kind=kind, sub=sub, aud=aud, iat=now, exp=now + int(lifetime), jti=secrets.token_hex(8))
    signed = b64url(json.dumps({"alg": "HS256", "typ": "JWT"})) + "." + b64url(json.dumps(payload, separators=(",", ":")))
    mac = hmac.new(_key(s), signed.encode(), hashlib.sha256).digest()
    return signed + "." + b64url(mac), payload


def check(s, token, kinds, aud):
    """(claims, None) when the token is ours, unexpired, of one of these kinds and for aud;
    else (None, why)."""
    parts = (token or "").split(".")
    if len(parts) != 3:
        return None, "not a token of these fakes"
    try:
        mac = unb64url(parts[2])
        claims = json.loads(unb64url(parts[1]))
    except (ValueError, UnicodeDecodeError):
        return None, "malformed"
    want = hmac.new(_key(s), (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(mac, want):
        return None, "bad signature (another token_key?)"
    if claims.get("kind") not in kinds:
        return None, "issued by %s, not %s" % (claims.get("kind"), "/".join(kinds))
    if claims.get("aud") != aud:
        return None, "audience %s, not %s" % (claims.get("aud"), aud)
    if claims.get("exp", 0) <= time.time():
        return None, "expired"
    return claims, None


def bearer(headers):
    """The token of an "Authorization: Bearer ..." header, or None."""
    value = headers.get("Authorization") or ""
    return value[7:].strip() if value[:7].lower() == "bearer " else None


class Grants:
    """Random one-time values (codes, refresh tokens, device codes, request tokens) and what each
    stands for, by kind, each with an expiry. take() removes what it returns, so of two requests
    using the same value at the same time exactly one gets it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = {}

    def put(self, kind, data, ttl, value=None):
        value = value or random_code()
        with self.lock:
            self.items[(kind, value)] = (time.time() + ttl, data)
        return value

    def get(self, kind, value):
        with self.lock:
            expires, data = self.items.get((kind, value), (0, None))
            return data if expires > time.time() else None

    def take(self, kind, value):
        with self.lock:
            expires, data = self.items.pop((kind, value), (0, None))
            return data if expires > time.time() else None

    def find(self, kind, match):
        """(value, data) of the newest live grant of this kind whose data match() accepts."""
        now = time.time()
        with self.lock:
            for (k, value), (expires, data) in reversed(list(self.items.items())):
                if k == kind and expires > now and match(data):
                    return value, data
        return None, None


def guard(answered):
    """For a sign-in module's entry points: a bug in the fake answers 500 and prints its traceback
    to stderr (a test's fake-*.err), rather than dropping the connection without a word (the
    servers' handle_error is silent, for the refused handshakes); the entry point then returns
    `answered`, its "an answer was sent" value."""
    def wrap(fn):
        @functools.wraps(fn)
        def run(h, *args):
            try:
                return fn(h, *args)
            except Exception:  # noqa: BLE001 - any bug of the fake
                traceback.print_exc(file=sys.stderr)
                sys.stderr.flush()
                h.close_connection = True
                try:
                    h.send(500, {"error": "fake_failure", "error_description": "the fake failed; see its stderr"})
                except OSError:
                    pass
                return answered
        return run
    return wrap
