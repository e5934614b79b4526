"""HTTP Digest authentication (RFC 7616 / 2617, MD5, qop="auth"), server side.

Sequence runs on Rails, whose digest authentication answers a missing or bad
`Authorization` with the challenge and body reproduced here. Nonces are
stateless, as in Rails: an issue time signed with the secret, so every
process sharing the secret accepts them and nothing needs storing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

DENIED_BODY = b"HTTP Digest: Access denied.\n"

# One `key=value` or `key="quoted \"value\""` pair of the credentials list.
_PARAM = re.compile(r'([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))')
_ESCAPE = re.compile(r"\\(.)")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def parse_credentials(header: str) -> dict[str, str] | None:
    """The parameters of an `Authorization: Digest ...` header (keys lower-cased), or None for another scheme."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params: dict[str, str] = {}
    for match in _PARAM.finditer(rest):
        quoted, token = match.group(2), match.group(3)
        params[match.group(1).lower()] = _ESCAPE.sub(r"\1", quoted) if quoted is not None else token
    return params


def _request_target(scope: Scope) -> str:
    # The digest `uri` must be the request target exactly as the client sent it.
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    target = raw_path + (b"?" + query if query else b"")
    return target.decode("latin-1")


class DigestAuthMiddleware:
    """Require HTTP Digest credentials on every http request.

    Args:
        realm: the protection space, e.g. "Production Sequence".
        users: user name to password; read on every request, so changes show at once.
        secret: signs nonces; processes sharing it accept each other's nonces.
        nonce_lifetime: seconds a nonce stays valid; a correct answer to an older
            one gets a fresh challenge with `stale=true`, so clients retry silently.

    On success the user name is put in `scope["state"]["user"]`.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        realm: str,
        users: Mapping[str, str],
        secret: bytes,
        nonce_lifetime: float = 300.0,
    ) -> None:
        self.app = app
        self.realm = realm
        self.users = users
        self.secret = secret
        self.nonce_lifetime = nonce_lifetime
        self.opaque = hmac.new(secret, b"opaque", hashlib.sha256).hexdigest()[:32]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        user, stale = self.authenticate(scope)
        if user is None:
            await self._deny(send, stale=stale)
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)

    # nonces ----------------------------------------------------------------
    def make_nonce(self, issued: float | None = None) -> str:
        stamp = f"{time.time() if issued is None else issued:.6f}"
        return base64.b64encode(f"{stamp}:{self._sign(stamp)}".encode()).decode()

    def _sign(self, stamp: str) -> str:
        return hmac.new(self.secret, stamp.encode(), hashlib.sha256).hexdigest()

    def _nonce_issued(self, nonce: str) -> float | None:
        """When a nonce we signed was issued, or None when we did not sign it."""
        try:
            stamp, _, mac = base64.b64decode(nonce, validate=True).decode().partition(":")
            issued = float(stamp)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return issued if hmac.compare_digest(mac.encode(), self._sign(stamp).encode()) else None

    # checking ----------------------------------------------------------------
    def authenticate(self, scope: Scope) -> tuple[str | None, bool]:
        """(user, stale): the user when the credentials are good; stale when only the nonce's age is wrong."""
        header = next((value for key, value in scope["headers"] if key == b"authorization"), None)
        params = parse_credentials(header.decode("latin-1")) if header is not None else None
        if params is None or not {"username", "realm", "nonce", "uri", "response"} <= params.keys():
            return None, False
        password = self.users.get(params["username"])
        target = _request_target(scope)
        # Rails also accepts a bare trailing "?" that the client kept and the server dropped.
        uri_matches = params["uri"] == target or (params["uri"] == target + "?" and "?" not in target)
        if (
            password is None
            or params["realm"] != self.realm
            or params.get("opaque") != self.opaque
            or params.get("algorithm", "MD5").upper() != "MD5"
            or not uri_matches
        ):
            return None, False
        issued = self._nonce_issued(params["nonce"])
        expected = self._expected(scope, params, password)
        if (
            issued is None
            or expected is None
            or not hmac.compare_digest(params["response"].encode(), expected.encode())
        ):
            return None, False
        if abs(time.time() - issued) > self.nonce_lifetime:
            return None, True
        return params["username"], False

    def _expected(self, scope: Scope, params: Mapping[str, str], password: str) -> str | None:
        ha1 = _md5(f"{params['username']}:{self.realm}:{password}")
        ha2 = _md5(f"{scope['method']}:{params['uri']}")
        qop = params.get("qop")
        if qop is None:
            # RFC 2069: no qop, no nonce count, no client nonce.
            return _md5(f"{ha1}:{params['nonce']}:{ha2}")
        if qop != "auth" or "nc" not in params or "cnonce" not in params:
            return None
        return _md5(f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:{qop}:{ha2}")

    # answering ----------------------------------------------------------------
    def challenge(self, *, stale: bool = False) -> str:
        nonce = self.make_nonce()
        value = f'Digest realm="{self.realm}", qop="auth", algorithm=MD5, nonce="{nonce}", opaque="{self.opaque}"'
        return value + ", stale=true" if stale else value

    async def _deny(self, send: Send, *, stale: bool) -> None:
        headers = [
            (b"www-authenticate", self.challenge(stale=stale).encode("latin-1")),
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(DENIED_BODY)).encode()),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": DENIED_BODY})
