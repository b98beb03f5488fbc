"""How each kind of connection obtains a token. One small class per way of signing in.

A provider does exactly one sign-in per :meth:`fetch` call and never retries on refused
credentials: the handler decides when to call it, and accounts lock after a few failures.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Protocol, Tuple

import requests

from ..clock import Clock
from ..errors import (
    AccountLockedError,
    ArcGISServiceError,
    AuthenticationError,
    InvalidTokenError,
    ResponseFormatError,
    SignInRequiredError,
)
from ..secrets import Secret, get_logger, mask_token
from ..tokens.token import Token, clock_skew, epoch_seconds, local_expiry, usable_token
from ..transport.http import call, check_transport, read_json

log = get_logger(__name__)

_LOCK_WORDS = ("lock", "too many", "attempts")
_UNUSABLE = (
    "the token service replied with a token that cannot be sent in a request (spaces, "
    "control or non-ASCII characters); check the URL and any proxy in between"
)
_MAX_EXPIRES_IN = 10 * 366 * 86400.0
"""Ten years in seconds: more than any OAuth token lives, less than breaks a date."""


class TokenProvider(Protocol):
    """Anything that can sign in once and return a fresh :class:`Token`."""

    audience: str

    def fetch(self) -> Token:
        """Sign in once; raise AuthenticationError on refused credentials (never retry)."""
        ...


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
        raise ResponseFormatError(_UNUSABLE)
    skew = clock_skew(response.headers, now)
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


class _FormSignIn:
    """What the three credential-posting providers share: one form POST to a token service.

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


def _refused(error: ArcGISServiceError, codes: Tuple[int, ...]) -> bool:
    """True when an ArcGIS reply (not a proxy's page) refused the credentials."""
    return error.envelope and (error.code in codes or error.code is None)


class GenerateTokenProvider(_FormSignIn):
    """``generateToken`` with a username and password (portal, Online or standalone server)."""

    def __init__(
        self,
        session: requests.Session,
        token_url: str,
        username: str,
        password: Secret,
        *,
        referer: str,
        expiration: int,
        clock: Clock,
        audience: str,
        allow_http_loopback: bool = True,
    ) -> None:
        super().__init__(
            session,
            token_url,
            expiration=expiration,
            clock=clock,
            audience=audience,
            allow_http_loopback=allow_http_loopback,
        )
        self.username = username
        self.password = password
        self.referer = referer

    def fetch(self) -> Token:
        """POST the credentials once (in the body, never the URL) and return the token."""
        form = {
            "username": self.username,
            "password": self.password.reveal(),
            "client": "referer",
            "referer": self.referer,
            "expiration": str(self.expiration),
            "f": "json",
        }
        try:
            payload, response, now = self._post(form, "sign-in")
        except ArcGISServiceError as exc:
            if _refused(exc, (400, 401, 403)):
                raise authentication_error(exc, repr(self.username), self.token_url) from None
            raise
        token = token_from_reply(
            payload, response, now, referer=self.referer, audience=self.audience
        )
        log.info(
            "signed in as %s at %s (%s)", self.username, self.token_url, mask_token(token.value)
        )
        return token


class FederatedExchangeProvider(_FormSignIn):
    """Exchange a portal token for a token of a server federated with that portal."""

    carries = "a token"

    def __init__(
        self,
        session: requests.Session,
        portal_token: Callable[[], Token],
        invalidate_portal_token: Callable[[str], None],
        token_url: str,
        server_root: str,
        *,
        referer: str,
        expiration: int,
        clock: Clock,
        allow_http_loopback: bool = True,
    ) -> None:
        super().__init__(
            session,
            token_url,
            expiration=expiration,
            clock=clock,
            audience=server_root,
            allow_http_loopback=allow_http_loopback,
        )
        self.portal_token = portal_token
        self.invalidate_portal_token = invalidate_portal_token
        self.server_root = server_root
        self.referer = referer

    def fetch(self) -> Token:
        """Exchange once; if the portal token was rejected (498), refresh it and try once more."""
        try:
            return self._exchange(self.portal_token())
        except InvalidTokenError:
            log.info("portal token rejected during exchange; refreshing it once")
        return self._exchange(self.portal_token())

    def _exchange(self, portal: Token) -> Token:
        form = {
            "token": portal.value,
            "serverUrl": self.server_root,
            "request": "getToken",
            "referer": self.referer,
            "expiration": str(self.expiration),
            "f": "json",
        }
        headers = {"Referer": portal.referer} if portal.referer else None
        try:
            payload, response, now = self._post(form, "token exchange", headers)
        except InvalidTokenError:
            self.invalidate_portal_token(portal.value)
            raise
        return token_from_reply(
            payload, response, now, referer=self.referer, audience=self.audience
        )


class AppCredentialsProvider(_FormSignIn):
    """OAuth 2.0 ``client_credentials`` for an app (``expires_in`` is SECONDS)."""

    carries = "a client secret"

    def __init__(
        self,
        session: requests.Session,
        portal: str,
        client_id: str,
        client_secret: Secret,
        *,
        expiration: int,
        clock: Clock,
        allow_http_loopback: bool = True,
    ) -> None:
        super().__init__(
            session,
            f"{portal}/sharing/rest/oauth2/token",
            expiration=expiration,
            clock=clock,
            audience=portal,
            allow_http_loopback=allow_http_loopback,
        )
        self.client_id = client_id
        self.client_secret = client_secret

    def fetch(self) -> Token:
        """POST the app credentials once and return the access token."""
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret.reveal(),
            "expiration": str(self.expiration),
            "f": "json",
        }
        try:
            payload, _, now = self._post(form, "app sign-in")
        except ArcGISServiceError as exc:
            if _refused(exc, (400, 401)):
                raise authentication_error(exc, f"app {self.client_id!r}", self.token_url) from None
            raise
        value = payload.get("access_token")
        seconds = _lifetime_seconds(payload.get("expires_in"))
        if not isinstance(value, str) or not value or seconds is None:
            raise ResponseFormatError("the OAuth token reply lacks access_token or expires_in")
        if not usable_token(value):
            raise ResponseFormatError(_UNUSABLE)
        return Token(
            value=value,
            expires_at=now + seconds,
            issued_at=now,
            ssl=bool(payload.get("ssl", False)),
            audience=self.audience,
        )


def _lifetime_seconds(value: Any) -> Optional[float]:
    """OAuth ``expires_in``: at least one whole second (not a bool, NaN or infinity)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if 1 <= seconds <= _MAX_EXPIRES_IN else None


class ApiKeyProvider:
    """A static API key (or a token made elsewhere): no sign-in, an optional expiry.

    ``referer`` is sent with it when given: a token from Generate Token is referer-bound,
    while a real API key may restrict referers, so none is sent unless asked.
    """

    def __init__(
        self,
        key: Secret,
        *,
        audience: str,
        clock: Clock,
        expires_at: Optional[float] = None,
        referer: Optional[str] = None,
    ) -> None:
        self.key = key
        self.audience = audience
        self.clock = clock
        self.expires_at = expires_at
        self.referer = referer

    def fetch(self) -> Token:
        """Return the key as a token; an expired key is an AuthenticationError (not refreshable)."""
        now = self.clock()
        if self.expires_at is not None and self.expires_at <= now:
            raise AuthenticationError(
                "api_key: the API key has expired; create a new key in your portal"
            )
        forever = now + 10 * 365 * 86400.0
        return Token(
            value=self.key.reveal(),
            expires_at=self.expires_at if self.expires_at is not None else forever,
            issued_at=now,
            referer=self.referer,
            audience=self.audience,
        )


SigninSource = Callable[[], Optional[Dict[str, Any]]]


def arcpy_signin() -> Optional[Dict[str, Any]]:
    """``arcpy.GetSigninToken()``, imported only when the ``pro`` kind is used."""
    try:
        import arcpy  # noqa: PLC0415 - arcpy exists only inside ArcGIS Pro
    except ImportError:
        raise SignInRequiredError(
            "kind 'pro' uses ArcGIS Pro's sign-in, and ArcGIS Pro's Python (arcpy) is not "
            "available here: run inside ArcGIS Pro, or sign in with another kind"
        ) from None

    result: Optional[Dict[str, Any]] = arcpy.GetSigninToken()
    return result


class ProSigninProvider:
    """ArcGIS Pro's own sign-in: asks Pro each time, since Pro refreshes its token itself."""

    def __init__(self, signin: SigninSource, *, audience: str, clock: Clock) -> None:
        self.signin = signin
        self.audience = audience
        self.clock = clock
        self._last: Optional[Token] = None

    def fetch(self) -> Token:
        """Ask Pro for its token; not signed in is a SignInRequiredError saying what to do."""
        info = self.signin()
        if not info or not info.get("token"):
            raise SignInRequiredError(
                "ArcGIS Pro is not signed in to a portal; sign in (Project > Portals, or the "
                "sign-in link at the top right of Pro) and run the tool again"
            )
        value = str(info["token"])
        expires_at = epoch_seconds(info.get("expires"), "expires")
        last = self._last
        if last is not None and (last.value, last.expires_at) == (value, expires_at):
            return last  # Pro has not refreshed yet: same token, same lifetime and margins
        self._last = Token(
            value=value,
            expires_at=expires_at,
            issued_at=self.clock(),
            referer=str(info["referer"]) if info.get("referer") else None,
            ssl=True,
            audience=self.audience,
        )
        return self._last
