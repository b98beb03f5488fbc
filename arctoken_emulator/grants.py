"""What OAuth 2.0 user sign-in remembers: pending sign-ins, authorization codes, refresh tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence
from urllib.parse import urlsplit

from .state import State

OOB = "urn:ietf:wg:oauth:2.0:oob"
"""The out-of-band redirect: the code is shown on a page instead of sent to an app."""
DEFAULT_REDIRECT_URIS = (OOB, "http://127.0.0.1/", "http://localhost/")
"""What every emulated app allows unless told otherwise (a native app's usual registration)."""
BUILTIN_APPS = ("arcgisonline", "pythonapi", "arcgispro")
"""Esri's own apps every portal knows (public clients: no secret, user sign-in only)."""
CODE_SECONDS = 600.0
"""How long an authorization code can be redeemed (it is single use as well)."""
SIGNIN_SECONDS = 3600.0
"""How long a sign-in page stays usable before it must be asked for again."""
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


@dataclass(frozen=True)
class Authorization:
    """One authorize request, as the sign-in page carries it (by its ``oauth_state``)."""

    origin: str
    client_id: str
    redirect_uri: str
    state: Optional[str]
    code_challenge: Optional[str]
    challenge_method: str
    refresh_seconds: float
    """The refresh token lifetime this sign-in asked for (``expiration``, clamped); for an
    implicit grant, the access token's."""
    expires_at: float
    implicit: bool = False
    """``response_type=token``: the access token itself goes back in the URL fragment."""


@dataclass(frozen=True)
class Code:
    """An issued authorization code, waiting to be redeemed once."""

    authorization: Authorization
    username: str
    expires_at: float


@dataclass(frozen=True)
class RefreshGrant:
    """A live refresh token: who it signs in, for which app, until when."""

    origin: str
    client_id: str
    username: str
    redirect_uri: str
    expires_at: float


def redirect_allowed(registered: Iterable[str], asked: str) -> bool:
    """True when ``asked`` is a registered redirect URI, where a registered loopback
    ``http://127.0.0.1/...`` (or ``localhost``) URI without a port admits any port,
    as ArcGIS and RFC 8252 allow for native apps."""
    for allowed in registered:
        if asked == allowed or _loopback_match(allowed, asked):
            return True
    return False


def _loopback_match(allowed: str, asked: str) -> bool:
    try:
        want, got = urlsplit(allowed), urlsplit(asked)
        got_port = got.port
        want_port = want.port
    except ValueError:
        return False
    if want.scheme != "http" or got.scheme != "http" or want_port is not None:
        return False
    if (want.hostname or "") not in _LOOPBACK_HOSTS or want.hostname != got.hostname:
        return False
    return got_port is not None and (got.path or "/").startswith(want.path or "/")


def pkce_matches(challenge: str, method: str, verifier: str) -> bool:
    """RFC 7636: does ``verifier`` answer ``challenge`` (``S256`` or ``plain``)?"""
    if method.upper() == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        expected = verifier
    return hmac.compare_digest(expected, challenge)


class Grants:
    """Registered redirect URIs and the OAuth records, under the emulator state's lock."""

    def __init__(self, state: State, redirect_uris: Mapping[str, Sequence[str]]) -> None:
        self.state = state
        self.redirect_uris: Dict[str, List[str]] = {k: list(v) for k, v in redirect_uris.items()}
        self._pending: Dict[str, Authorization] = {}
        self._codes: Dict[str, Code] = {}
        self._refresh: Dict[str, RefreshGrant] = {}

    def registered(self, client_id: str) -> Optional[List[str]]:
        """The app's allowed redirect URIs; None when no such app is registered."""
        if client_id not in self.state.apps and client_id not in BUILTIN_APPS:
            return None
        return self.redirect_uris.get(client_id, list(DEFAULT_REDIRECT_URIS))

    def begin(self, authorization: Authorization) -> str:
        """Remember an authorize request; returns the ``oauth_state`` its page carries."""
        key = secrets.token_urlsafe(24)
        with self.state.lock:
            self._pending[key] = authorization
        return key

    def pending(self, key: str) -> Optional[Authorization]:
        """The authorize request behind ``oauth_state``, while it is still usable."""
        with self.state.lock:
            found = self._pending.get(key)
        if found is None or found.expires_at <= self.state.server_now():
            return None
        return found

    def finish(self, key: str) -> Optional[Authorization]:
        """Finish an implicit sign-in: forget the pending request and return it."""
        return self.cancel(key)

    def issue_code(self, key: str, username: str) -> Optional[str]:
        """Finish a sign-in: the pending request becomes a single-use authorization code."""
        with self.state.lock:
            authorization = self._pending.pop(key, None)
            if authorization is None:
                return None
            code = secrets.token_urlsafe(32)
            expires = self.state.server_now() + CODE_SECONDS
            self._codes[code] = Code(authorization, username, expires)
        return code

    def cancel(self, key: str) -> Optional[Authorization]:
        """The user said no: forget the pending request and return it."""
        with self.state.lock:
            return self._pending.pop(key, None)

    def redeem(self, code: str) -> Optional[Code]:
        """Take an authorization code (it works once); None when unknown or expired."""
        with self.state.lock:
            found = self._codes.pop(code, None)
        if found is None or found.expires_at <= self.state.server_now():
            return None
        return found

    def new_refresh(self, grant: RefreshGrant) -> str:
        """Mint a refresh token for ``grant``."""
        value = secrets.token_urlsafe(40)
        with self.state.lock:
            self._refresh[value] = grant
        return value

    def refresh(self, value: str) -> Optional[RefreshGrant]:
        """The grant behind a refresh token, live or expired; None when unknown or revoked."""
        with self.state.lock:
            return self._refresh.get(value)

    def retire(self, value: str) -> None:
        """Invalidate a refresh token (after an exchange, or by :meth:`Emulator.revoke`)."""
        with self.state.lock:
            self._refresh.pop(value, None)
