"""OAuth 2.0 on a portal: ``oauth2/authorize`` (sign-in page), ``oauth2/signin``,
``oauth2/approval`` (out-of-band code) and ``oauth2/token`` with the ``authorization_code``
(PKCE), ``refresh_token``, ``exchange_refresh_token`` and ``client_credentials`` grants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Optional
from urllib.parse import urlencode

from . import pages
from .grants import (
    OOB,
    SIGNIN_SECONDS,
    Authorization,
    Grants,
    RefreshGrant,
    pkce_matches,
    redirect_allowed,
)
from .params import PORTAL_DEFAULT_MINUTES, merged, minutes
from .records import RequestRecord, Response, json_reply
from .state import State

PKCE_METHODS = ("S256", "plain")
"""``code_challenge_method`` values the portal accepts."""


@dataclass(frozen=True)
class OAuthConfig:
    """Where one portal's OAuth endpoints live."""

    origin: str
    rest_url: str
    """``<portal>/sharing/rest``."""
    https: bool
    title: str


def oauth_error(code: str, description: str, status: int = 400) -> Response:
    """The OAuth error envelope: ``{"error": {"code", "error", "error_description", ...}}``."""
    body = {
        "code": status,
        "error": code,
        "error_description": description,
        "message": description,
        "details": [],
    }
    return json_reply({"error": body})


class OAuthEndpoints:
    """The ``oauth2/...`` routes of one portal."""

    def __init__(self, state: State, grants: Grants, config: OAuthConfig) -> None:
        self.state = state
        self.grants = grants
        self.config = config
        self.routes: Dict[str, Callable[[RequestRecord], Response]] = {
            "oauth2/authorize": self._authorize,
            "oauth2/signin": self._signin,
            "oauth2/approval": self._approval,
            "oauth2/token": self._token,
            "oauth2/revoketoken": self._revoke,
        }
        self._grant_types: Dict[str, Callable[[Dict[str, str]], Response]] = {
            "authorization_code": self._authorization_code,
            "refresh_token": self._refresh_token,
            "exchange_refresh_token": self._exchange_refresh_token,
            "client_credentials": self._client_credentials,
        }

    # -- authorize and sign in ---------------------------------------------------------------
    def _authorize(self, req: RequestRecord) -> Response:
        params = merged(req)
        client_id, redirect = params.get("client_id", ""), params.get("redirect_uri", "")
        refusal = self._check_client(client_id, redirect)
        if refusal is not None:
            return _refuse(params, refusal)
        method = params.get("code_challenge_method") or "plain"
        if params.get("response_type") not in ("code", "token"):
            return _redirect(redirect, error="unsupported_response_type", state=params.get("state"))
        if method not in PKCE_METHODS:
            return _redirect(redirect, error="invalid_request", state=params.get("state"))
        authorization = Authorization(
            origin=self.config.origin,
            client_id=client_id,
            redirect_uri=redirect,
            state=params.get("state") or None,
            code_challenge=params.get("code_challenge") or None,
            challenge_method=method,
            refresh_seconds=self._refresh_seconds(params.get("expiration")),
            expires_at=self.state.server_now() + SIGNIN_SECONDS,
            implicit=params.get("response_type") == "token",
        )
        return self._signin_form(self.grants.begin(authorization), client_id)

    def _check_client(self, client_id: str, redirect: str) -> Optional[str]:
        registered = self.grants.registered(client_id)
        if registered is None:
            return "Invalid client_id"
        if not redirect or not redirect_allowed(registered, redirect):
            return "Invalid redirect_uri"
        return None

    def _refresh_seconds(self, raw: Optional[str]) -> float:
        longest = self.state.settings.refresh_token_lifetime
        return min(minutes(raw, longest / 60.0) * 60.0, longest)

    def _signin_form(self, key: str, client_id: str, problem: str = "") -> Response:
        info = {
            "oauth_state": key,
            "clientId": client_id,
            "appTitle": self.config.title,
            "locale": "en",
        }
        action = f"{self.config.rest_url.rsplit('/', 1)[0]}/oauth2/signin"
        return pages.signin_page(action, info, problem)

    def _signin(self, req: RequestRecord) -> Response:
        key = req.form.get("oauth_state", "")
        pending = self.grants.pending(key) if req.method == "POST" else None
        if pending is None or pending.origin != self.config.origin:
            return pages.error_page("Invalid or expired oauth_state: start the sign-in again.")
        if req.form.get("cancel"):
            self.grants.cancel(key)
            detail = "The user denied your request."
            return _redirect(pending.redirect_uri, "access_denied", pending.state, detail)
        username = req.form.get("username", "")
        failure = self.state.authenticate(username, req.form.get("password", ""))
        if failure is not None:
            return self._signin_form(key, pending.client_id, failure)
        if pending.implicit:
            return self._implicit(key, pending, username)
        code = self.grants.issue_code(key, username) or ""
        if pending.redirect_uri == OOB:
            return _found(f"{self.config.rest_url}/oauth2/approval?{urlencode({'code': code})}")
        return _redirect(pending.redirect_uri, state=pending.state, code=code)

    def _implicit(self, key: str, pending: Authorization, username: str) -> Response:
        """``response_type=token``: back to the app with the token in the URL fragment (the
        out-of-band page, for ``urn:ietf:wg:oauth:2.0:oob``)."""
        self.grants.finish(key)
        lifetime = min(pending.refresh_seconds, self.state.settings.token_lifetime)
        value, _ = self.state.issue(self.config.origin, username, lifetime, None, "oauth")
        fragment = {
            "access_token": value,
            "expires_in": str(int(lifetime)),
            "username": username,
            "ssl": "true" if self.config.https else "false",
        }
        if pending.state is not None:
            fragment["state"] = pending.state
        target = pending.redirect_uri
        if target == OOB:
            target = f"{self.config.rest_url}/oauth2/approval"
        return _found(f"{target}#{urlencode(fragment)}")

    def _approval(self, req: RequestRecord) -> Response:
        code = req.query.get("code", "")
        return pages.code_page(code) if code else pages.approved_page()

    def _revoke(self, req: RequestRecord) -> Response:
        """``oauth2/revokeToken``: ``auth_token`` (an access or refresh token) stops working;
        answers ``{"success": true}`` as ArcGIS does, known token or not."""
        params = merged(req)
        if self.grants.registered(params.get("client_id", "")) is None:
            return oauth_error("invalid_client_id", "Invalid client_id")
        value = params.get("auth_token", "")
        if value:
            self.state.revoke(value)
            self.grants.retire(value)
        return json_reply({"success": True})

    # -- token -------------------------------------------------------------------------------
    def _token(self, req: RequestRecord) -> Response:
        params = merged(req)
        grant = self._grant_types.get(params.get("grant_type", ""))
        if grant is None:
            return oauth_error("unsupported_grant_type", "Invalid grant_type")
        if self.grants.registered(params.get("client_id", "")) is None:
            return oauth_error("invalid_client_id", "Invalid client_id")
        return grant(params)

    def _authorization_code(self, params: Dict[str, str]) -> Response:
        found = self.grants.redeem(params.get("code", ""))
        if found is None or found.authorization.client_id != params["client_id"]:
            return oauth_error("invalid_request", "Invalid authorization code")
        asked = found.authorization
        if asked.origin != self.config.origin:
            return oauth_error("invalid_request", "Invalid authorization code")
        if params.get("redirect_uri") != asked.redirect_uri:
            return oauth_error("invalid_request", "Invalid redirect_uri")
        if asked.code_challenge is not None and not pkce_matches(
            asked.code_challenge, asked.challenge_method, params.get("code_verifier", "")
        ):
            return oauth_error("invalid_request", "Invalid code_verifier")
        grant = RefreshGrant(
            self.config.origin,
            asked.client_id,
            found.username,
            asked.redirect_uri,
            self.state.server_now() + asked.refresh_seconds,
        )
        return self._user_tokens(grant, with_refresh=True)

    def _live_refresh(self, params: Dict[str, str]) -> Optional[RefreshGrant]:
        found = self.grants.refresh(params.get("refresh_token", ""))
        if found is None or found.client_id != params["client_id"]:
            return None
        return found if found.origin == self.config.origin else None

    def _refresh_token(self, params: Dict[str, str]) -> Response:
        found = self._live_refresh(params)
        if found is None:
            return oauth_error("invalid_request", "Invalid refresh_token", 498)
        if found.expires_at <= self.state.server_now():
            return oauth_error("invalid_request", "refresh_token expired", 498)
        return self._user_tokens(found, with_refresh=False)

    def _exchange_refresh_token(self, params: Dict[str, str]) -> Response:
        found = self._live_refresh(params)
        if found is None:
            return oauth_error("invalid_request", "Invalid refresh_token", 498)
        if found.expires_at <= self.state.server_now():
            return oauth_error("invalid_request", "refresh_token expired", 498)
        registered = self.grants.registered(found.client_id) or []
        if not redirect_allowed(registered, params.get("redirect_uri", "")):
            return oauth_error("invalid_request", "Invalid redirect_uri")
        self.grants.retire(params["refresh_token"])
        longest = self.state.settings.refresh_token_lifetime
        renewed = RefreshGrant(
            found.origin,
            found.client_id,
            found.username,
            found.redirect_uri,
            self.state.server_now() + longest,
        )
        return self._user_tokens(renewed, with_refresh=True)

    def _user_tokens(self, grant: RefreshGrant, with_refresh: bool) -> Response:
        settings = self.state.settings
        lifetime = min(settings.oauth_token_lifetime, settings.token_lifetime)
        lifetime = min(lifetime, max(0.0, grant.expires_at - self.state.server_now()))
        value, _ = self.state.issue(self.config.origin, grant.username, lifetime, None, "oauth")
        payload: Dict[str, object] = {
            "access_token": value,
            "expires_in": int(lifetime),
            "username": grant.username,
            "ssl": self.config.https,
        }
        if with_refresh:
            payload["refresh_token"] = self.grants.new_refresh(grant)
            payload["refresh_token_expires_in"] = int(grant.expires_at - self.state.server_now())
        return json_reply(payload)

    def _client_credentials(self, params: Dict[str, str]) -> Response:
        client_id = params["client_id"]
        problem = self.state.check_app(client_id, params.get("client_secret", ""))
        if problem is not None:
            wording = (
                "Invalid client_id" if problem == "invalid_client_id" else "Invalid client_secret"
            )
            return oauth_error(problem, wording)
        longest = self.state.settings.token_lifetime
        lifetime = min(minutes(params.get("expiration"), PORTAL_DEFAULT_MINUTES) * 60.0, longest)
        value, _ = self.state.issue(self.config.origin, client_id, lifetime, None, "app")
        payload = {"access_token": value, "expires_in": int(lifetime), "ssl": self.config.https}
        return json_reply(payload)


def _refuse(params: Dict[str, str], message: str) -> Response:
    if params.get("f", "").lower() in ("json", "pjson"):
        return oauth_error("invalid_request", message)
    return pages.error_page(message)


def _found(location: str) -> Response:
    return Response(status=302, body=b"", content_type="text/plain", headers={"Location": location})


def _redirect(
    uri: str,
    error: Optional[str] = None,
    state: Optional[str] = None,
    description: Optional[str] = None,
    code: Optional[str] = None,
) -> Response:
    """302 back to the app with ``code`` or ``error`` (and ``state`` when one was given)."""
    query: Dict[str, str] = {}
    if code is not None:
        query["code"] = code
    if error is not None:
        query["error"] = error
    if description is not None:
        query["error_description"] = description
    if state is not None:
        query["state"] = state
    joiner = "&" if "?" in uri else "?"
    return _found(f"{uri}{joiner}{urlencode(query)}")
