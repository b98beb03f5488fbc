"""OAuth 2.0 user sign-in (kind ``user_oauth``): authorization code + PKCE, then refresh tokens.

The first sign-in happens on the portal's own page (:mod:`.oauth_flow`), so SAML, MFA and
any other login the organisation uses work. After that, one refresh token keeps access tokens
coming for its whole life (``grant_type=refresh_token``), and is itself exchanged for a new one
(``grant_type=exchange_refresh_token``) when a quarter of its life is left, so a profile or a
long run never meets its expiry. A refused refresh token is not retried: the user signs in
again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Tuple

import requests

from ..clock import Clock
from ..errors import ArcGISServiceError, ArcTokenError, AuthenticationError, ResponseFormatError
from ..secrets import Secret, get_logger, mask_token
from ..tokens.oauth_grant import (
    ROTATE_FRACTION,
    MemoryStore,
    RefreshGrant,
    RefreshStore,
    rotation_due,
)
from ..tokens.token import Token
from .base import FormSignIn, TokenProvider, oauth_token_from_reply, refused
from .oauth_flow import OOB_REDIRECT, Authorization, browser_authorization, oob_authorization

if TYPE_CHECKING:
    from ..connection import Connection

__all__ = [
    "ROTATE_FRACTION",
    "MemoryStore",
    "RefreshGrant",
    "RefreshStore",
    "UserOAuthProvider",
    "build",
    "rotation_due",
]

log = get_logger(__name__)

_REFUSED_REFRESH = (400, 401, 498)


class UserOAuthProvider(FormSignIn):
    """Access tokens for one user of one app at one portal, one token request per fetch."""

    carries = "an OAuth code or refresh token"

    def __init__(
        self,
        session: requests.Session,
        portal: str,
        client_id: str,
        store: RefreshStore,
        *,
        clock: Clock,
        sign_in: Optional[Callable[[], Authorization]],
        again: str,
        allow_http_loopback: bool = True,
    ) -> None:
        super().__init__(
            session,
            f"{portal}/sharing/rest/oauth2/token",
            expiration=0,
            clock=clock,
            audience=portal,
            allow_http_loopback=allow_http_loopback,
        )
        self.client_id = client_id
        self.store = store
        self.sign_in = sign_in
        self.again = again
        self._grant: Optional[RefreshGrant] = None

    def fetch(self) -> Token:
        """An access token: from the refresh token (rotating it when due), or a new sign-in.

        Raises:
            AuthenticationError: the refresh token was refused or expired, or there is none
                and this connection may not sign in interactively.
        """
        grant = self._grant or self.store.load()
        if grant is None:
            return self._redeem(self._authorize())
        return self._renew(grant, reload=True)

    def _renew(self, grant: RefreshGrant, reload: bool) -> Token:
        if rotation_due(grant, self.clock()):
            return self._exchange(grant, reload)
        return self._refresh(grant, reload)

    def _refused_unless_newer(
        self, used: RefreshGrant, exc: ArcGISServiceError, reload: bool
    ) -> Token:
        """Another process may have rotated the token: use the stored one, once, if newer."""
        newer = self.store.load() if reload else None
        if newer is None or newer.token == used.token:
            raise self._refused(exc) from None
        log.info("the saved refresh token was rotated elsewhere; using the new one")
        self._grant = newer
        return self._renew(newer, reload=False)

    # -- the three grants ----------------------------------------------------------------------
    def _authorize(self) -> Authorization:
        if self.sign_in is None:
            raise AuthenticationError(f"there is no saved sign-in to use; {self.again}")
        return self.sign_in()

    def _redeem(self, found: Authorization) -> Token:
        form = {
            "grant_type": "authorization_code",
            "code": found.code,
            "redirect_uri": found.redirect_uri,
            "code_verifier": found.verifier,
        }
        try:
            payload, now = self._ask(form, "OAuth sign-in")
        except ArcGISServiceError as exc:
            if refused(exc, _REFUSED_REFRESH):
                raise AuthenticationError(
                    f"{self.token_url} refused the authorization code ({_reason(exc)}); sign "
                    "in again (a code works once and only for a few minutes)"
                ) from None
            raise
        return self._keep(payload, now, found.redirect_uri, required=True)

    def _refresh(self, grant: RefreshGrant, reload: bool) -> Token:
        form = {"grant_type": "refresh_token", "refresh_token": grant.token.reveal()}
        try:
            payload, now = self._ask(form, "token refresh")
        except ArcGISServiceError as exc:
            if not refused(exc, _REFUSED_REFRESH):
                raise
            return self._refused_unless_newer(grant, exc, reload)
        self._grant = grant
        return self._keep(payload, now, grant.redirect_uri, required=False)

    def _exchange(self, grant: RefreshGrant, reload: bool) -> Token:
        form = {
            "grant_type": "exchange_refresh_token",
            "refresh_token": grant.token.reveal(),
            "redirect_uri": grant.redirect_uri,
        }
        try:
            payload, now = self._ask(form, "refresh token exchange")
        except ArcGISServiceError as exc:
            if exc.code == 498:
                return self._refused_unless_newer(grant, exc, reload)
            log.warning("could not renew the refresh token (%s); refreshing with it as is", exc)
            return self._refresh(grant, reload)
        log.info("refresh token renewed before its expiry")
        return self._keep(payload, now, grant.redirect_uri, required=True)

    # -- helpers -------------------------------------------------------------------------------
    def _ask(self, form: Dict[str, str], what: str) -> Tuple[Dict[str, Any], float]:
        payload, _, now = self._post({**form, "client_id": self.client_id, "f": "json"}, what)
        return payload, now

    def _keep(
        self, payload: Mapping[str, Any], now: float, redirect_uri: str, *, required: bool
    ) -> Token:
        """The access token of a reply; a refresh token in it replaces the stored one."""
        token = oauth_token_from_reply(payload, now, audience=self.audience)
        value = payload.get("refresh_token")
        if isinstance(value, str) and value:
            previous = self._grant
            username = str(payload.get("username") or (previous.username if previous else ""))
            grant = RefreshGrant(
                Secret(value), now, _expiry(payload, now), redirect_uri or OOB_REDIRECT, username
            )
            self._grant = grant
            self._save(grant)
        elif required:
            raise ResponseFormatError("the OAuth token reply lacks a refresh_token")
        who = self._grant.username if self._grant else ""
        shown = mask_token(token.value)
        log.info("OAuth token for %s at %s (%s)", who or "the user", self.audience, shown)
        return token

    def _save(self, grant: RefreshGrant) -> None:
        try:
            self.store.save(grant)
        except ArcTokenError as exc:
            log.warning("the new refresh token could not be saved (%s); %s later", exc, self.again)

    def _refused(self, exc: ArcGISServiceError) -> AuthenticationError:
        return AuthenticationError(
            f"{self.token_url} refused the refresh token ({_reason(exc)}): it expired or was "
            f"revoked; {self.again}. Not retried."
        )


def _reason(exc: ArcGISServiceError) -> str:
    return "; ".join(exc.details) or exc.server_message


def _expiry(payload: Mapping[str, Any], now: float) -> Optional[float]:
    raw = payload.get("refresh_token_expires_in")
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        return None
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return now + seconds if 0 < seconds < 10 * 366 * 86400 else None


def build(conn: Connection) -> TokenProvider:
    """Kind ``user_oauth``: the app's client ID at the portal, with the saved or given refresh
    token, or a sign-in through the browser (or out of band) when there is none."""
    assert conn.client_id  # validated by the Connection
    store, again = _store_for(conn)
    interactive = conn.profile is None or conn.open_browser is not None or conn.prompt is not None
    return UserOAuthProvider(
        conn.http_session(),
        conn.url,
        conn.client_id,
        store,
        clock=conn.clock,
        sign_in=_interactive(conn) if interactive else None,
        again=again,
        allow_http_loopback=conn.allow_http_loopback,
    )


def _store_for(conn: Connection) -> Tuple[RefreshStore, str]:
    if conn.profile is not None:
        from ..profiles import ProfileRefreshStore

        again = f"sign in again: arctoken login --profile {conn.profile}"
        return ProfileRefreshStore(conn.profile), again
    given = None
    if conn.refresh_token is not None:
        given = RefreshGrant(conn.refresh_token, conn.clock(), None, OOB_REDIRECT)
    return MemoryStore(given), "sign in again with a new Connection"


def _interactive(conn: Connection) -> Callable[[], Authorization]:
    assert conn.client_id
    portal, client_id = conn.url, conn.client_id
    if conn.oauth_flow == "oob":
        return lambda: oob_authorization(portal, client_id, conn.prompt)
    return lambda: browser_authorization(portal, client_id, conn.open_browser)
