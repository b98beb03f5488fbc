"""What every way of signing in shares: the provider protocol, one form POST, reply reading.

A provider does exactly one sign-in per :meth:`fetch` call and never retries on refused
credentials: the handler decides when to call it, and accounts lock after a few failures.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import requests

from ..clock import Clock
from ..errors import (
    AccountLockedError,
    ArcGISServiceError,
    ArcTokenError,
    AuthenticationError,
    InsecureTransportError,
    ResponseFormatError,
    detached,
)
from ..secrets import get_logger
from ..tokens.provider import TokenProvider
from ..tokens.token import Token, clock_skew, local_expiry, usable_token
from ..transport.failures import call
from ..transport.guard import check_transport
from ..transport.replies import read_json

__all__ = [
    "DeferredProvider",
    "FormSignIn",
    "TokenProvider",
    "authentication_error",
    "oauth_token_from_reply",
    "refused",
    "ssl_required",
    "token_from_reply",
]

log = get_logger(__name__)

_LOCK_WORDS = ("lock", "too many", "attempts")
UNUSABLE = (
    "the token service replied with a token that cannot be sent in a request (spaces, "
    "control or non-ASCII characters); check the URL and any proxy in between"
)
_MAX_EXPIRES_IN = 10 * 366 * 86400.0
"""Ten years in seconds: more than any OAuth token lives, less than breaks a date."""


class DeferredProvider:
    """A provider built on its first sign-in, so that discovery (``/rest/info``) happens only
    when a token is really needed: not at all when the shared cache already holds one.

    The handler calls :meth:`fetch` one thread at a time, so building once is safe.
    """

    def __init__(self, build: Callable[[], TokenProvider], audience: str) -> None:
        self.build = build
        self.audience = audience
        self._real: Optional[TokenProvider] = None

    def fetch(self) -> Token:
        """Build the real provider if needed, then sign in through it."""
        if self._real is None:
            self._real = self.build()
        return self._real.fetch()


def token_from_reply(
    payload: Mapping[str, Any],
    response: requests.Response,
    now: float,
    *,
    referer: Optional[str],
    audience: str,
) -> Token:
    """Build a Token from a generateToken reply, correcting ``expires`` for server clock skew."""
    value = payload.get("token")
    if not isinstance(value, str) or not value:
        raise ResponseFormatError("the token service replied without a token")
    if not usable_token(value):
        raise ResponseFormatError(UNUSABLE)
    skew = clock_skew(response.headers, now, payload.get("expires"))
    if skew:
        log.warning("the server's clock is %.0f s off ours; correcting token expiry", skew)
    return Token(
        value=value,
        expires_at=local_expiry(payload.get("expires"), skew),
        issued_at=now,
        referer=referer,
        ssl=bool(payload.get("ssl", False)),
        audience=audience,
    )


def authentication_error(error: ArcGISServiceError, who: str, where: str) -> AuthenticationError:
    """Turn a token service's refusal into AuthenticationError (or AccountLockedError)."""
    text = " ".join([error.server_message, *error.details]).lower()
    reason = "; ".join(error.details) or error.server_message
    if any(word in text for word in _LOCK_WORDS):
        return AccountLockedError(
            f"{where} says the account {who} is locked ({reason}); wait for the lockout to "
            "end or ask your administrator. No further attempts were made."
        )
    return AuthenticationError(
        f"{where} refused the sign-in for {who} ({reason}); check the username (it is "
        "case-sensitive) and the password. Not retried, so the account does not lock."
    )


class FormSignIn:
    """What the credential-posting providers share: one form POST to a token service.

    The POST never follows a redirect (requests would re-send the body, credentials and
    all, to wherever a 307/308 points), and the reply's time is taken when it arrives.
    """

    carries = "a password"
    """What the form carries, for the plain-http refusal."""

    def __init__(
        self,
        session: requests.Session,
        token_url: str,
        *,
        expiration: int,
        clock: Clock,
        audience: str,
        allow_http_loopback: bool,
    ) -> None:
        check_transport(token_url, self.carries, "url", allow_http_loopback)
        self.session = session
        self.token_url = token_url
        self.expiration = expiration
        self.clock = clock
        self.audience = audience

    def _post(
        self, form: Mapping[str, str], what: str, headers: Optional[Mapping[str, str]] = None
    ) -> Tuple[Dict[str, Any], requests.Response, float]:
        """POST ``form`` once; its JSON (or a typed error), the response, and when it came."""
        try:
            response = call(
                self.session,
                "POST",
                self.token_url,
                data=form,
                headers=headers,
                what=what,
                allow_redirects=False,
            )
            now = self.clock()
            return read_json(response, what), response, now
        except ArcTokenError as exc:
            del form  # the frame stays in the traceback: it must not hold the secret
            raise detached(self._explained(exc)) from None

    def _explained(self, exc: ArcTokenError) -> ArcTokenError:
        """``403 SSL Required`` is a plain-http sign-in, not a refused password."""
        if isinstance(exc, ArcGISServiceError) and ssl_required(exc):
            return InsecureTransportError(
                "url",
                f"{self.token_url.split('?')[0]} answered '403 SSL Required': the server "
                "accepts sign-ins only over https; use its https:// URL",
            )
        return exc


def refused(error: ArcGISServiceError, codes: Tuple[int, ...]) -> bool:
    """True when an ArcGIS reply (not a proxy's page) refused the credentials."""
    return error.envelope and (error.code in codes or error.code is None)


def ssl_required(error: ArcGISServiceError) -> bool:
    """ArcGIS's ``403 SSL Required``: the request came over http; not a wrong password."""
    return error.code == 403 and "ssl required" in error.server_message.lower()


def oauth_token_from_reply(
    payload: Mapping[str, Any], now: float, *, audience: str, referer: Optional[str] = None
) -> Token:
    """Build a Token from an OAuth 2.0 token reply (``expires_in`` is SECONDS).

    ``expires_in`` may come as a number or a numeric string, as some portals send it.
    """
    value = payload.get("access_token")
    seconds = _lifetime_seconds(payload.get("expires_in"))
    if not isinstance(value, str) or not value or seconds is None:
        raise ResponseFormatError("the OAuth token reply lacks access_token or expires_in")
    if not usable_token(value):
        raise ResponseFormatError(UNUSABLE)
    return Token(
        value=value,
        expires_at=now + seconds,
        issued_at=now,
        referer=referer,
        ssl=bool(payload.get("ssl", False)),
        audience=audience,
    )


def _lifetime_seconds(value: Any) -> Optional[float]:
    """OAuth ``expires_in``: at least one whole second (not a bool, NaN or infinity)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        seconds = float(value)
    except (ValueError, OverflowError):
        return None
    return seconds if 1 <= seconds <= _MAX_EXPIRES_IN else None
