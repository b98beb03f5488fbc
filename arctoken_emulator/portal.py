"""The portal side: ArcGIS Online and an Enterprise portal under ``<base>/sharing/rest``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from . import envelopes as env
from .access import Gate
from .grants import Grants
from .identity import portal_self, user_json
from .oauth import OAuthConfig, OAuthEndpoints
from .params import (
    PORTAL_DEFAULT_MINUTES,
    credentials_in_query,
    lookup,
    merged,
    minutes,
    normalize_url,
    request_token,
    segments_after,
)
from .records import JSON_TYPE, RequestRecord, Response, json_reply
from .state import API_KEY, State, TokenRecord

ONLINE_GENERATE_TYPE = "text/plain;charset=utf-8"
"""Real ArcGIS Online answers generateToken with this content type even for f=json."""
PORTAL_VERSION = "2024.1"
"""What ``<portal>/sharing/rest?f=json`` reports as currentVersion."""


@dataclass
class PortalConfig:
    """Where one emulated portal lives and what it trusts."""

    origin: str
    """``online`` or ``portal``."""
    base_url: str
    """e.g. ``http://127.0.0.1:8443/portal``; the origin root for the Online-style portal."""
    prefix: List[str]
    """Path segments before ``sharing/rest`` (``[]`` or ``["portal"]``)."""
    https: bool = False
    token_services_url: str = ""
    federated: Dict[str, str] = field(default_factory=dict)
    """normalised server URL -> audience name of the server federated with this portal."""
    helper_server: Optional[str] = None
    """The ArcGIS Server URL that ``helperServices`` in ``portals/self`` point to."""
    web_tier: bool = False
    """The web adaptor signs users in from their client certificate (PKI): no passwords,
    ``isTokenBasedSecurity`` false, generateToken issues tokens to the certificate's user."""


class Portal:
    """Answers ``<base>/sharing/rest/...`` requests for one portal origin."""

    def __init__(self, state: State, config: PortalConfig, grants: Grants) -> None:
        self.state = state
        self.config = config
        audiences = {config.origin, API_KEY}
        self.gate = Gate(state, audiences, portal_wording=True, web_tier=config.web_tier)
        self.online = config.origin == "online"
        self.token_type = ONLINE_GENERATE_TYPE if config.origin == "online" else JSON_TYPE
        self._routes: Dict[str, Callable[[RequestRecord], Response]] = {
            "": self._version,
            "info": self._info,
            "generatetoken": self._generate_token,
            "portals/self": self._portal_self,
            "community/self": self._community_self,
        }
        title = "ArcGIS Online" if config.origin == "online" else "ArcGIS Enterprise"
        oauth = OAuthConfig(config.origin, f"{config.base_url}/sharing/rest", config.https, title)
        self._routes.update(OAuthEndpoints(state, grants, oauth).routes)

    def handle(self, req: RequestRecord) -> Optional[Response]:
        """The reply for a portal path, or None when the path is not the portal's."""
        rest = segments_after(req.path, [*self.config.prefix, "sharing", "rest"])
        if rest is None:
            rest = segments_after(req.path, [*self.config.prefix, "sharing"])
            if rest is None or [s.lower() for s in rest[:1]] != ["oauth2"]:
                return None  # the sign-in pages also live at <portal>/sharing/oauth2/...
        route = self._routes.get("/".join(rest).lower())
        if route is not None:
            return route(req)
        if len(rest) == 3 and [s.lower() for s in rest[:2]] == ["community", "users"]:
            return self._user(req, rest[2])
        return None

    # -- discovery ---------------------------------------------------------------------------
    def _version(self, req: RequestRecord) -> Response:
        return json_reply({"currentVersion": PORTAL_VERSION})

    def _info(self, req: RequestRecord) -> Response:
        auth = {
            "tokenServicesUrl": self.config.token_services_url,
            "isTokenBasedSecurity": not self.config.web_tier,
        }
        return json_reply({"owningSystemUrl": self.config.base_url, "authInfo": auth})

    # -- generateToken -----------------------------------------------------------------------
    def _generate_token(self, req: RequestRecord) -> Response:
        if credentials_in_query(req):
            return self._refuse_method(env.CREDENTIALS_IN_QUERY)
        if req.method != "POST":
            return self._refuse_method("Generate Token request must be a POST request.")
        params = merged(req)
        if lookup(params, "serverUrl") is not None:
            return self._exchange(req, params)
        if self.config.web_tier and req.client_user is not None:
            return self._issue_for(req.client_user, params)
        return self._sign_in(params)

    def _refuse_method(self, detail: str) -> Response:
        return env.error(405, "Method not supported", [detail], content_type=self.token_type)

    def _sign_in(self, params: Dict[str, str]) -> Response:
        username, password = params.get("username", ""), params.get("password", "")
        if not username or not password:
            return env.unable("'username' and 'password' must be specified.", self.token_type)
        if _referer_missing(params):
            return env.unable(env.REFERER_REQUIRED, self.token_type)
        failure = self.state.authenticate(username, password)
        if failure is not None:
            return env.unable(failure, self.token_type)
        return self._issue_for(username, params)

    def _issue_for(self, username: str, params: Dict[str, str]) -> Response:
        if _referer_missing(params):
            return env.unable(env.REFERER_REQUIRED, self.token_type)
        client = params.get("client", "").lower()
        referer = params.get("referer") or None
        bound = referer if client in ("referer", "") else None
        lifetime = self._lifetime(params)
        value, record = self.state.issue(self.config.origin, username, lifetime, bound)
        return self._token_reply(value, record)

    def _exchange(self, req: RequestRecord, params: Dict[str, str]) -> Response:
        portal_token = request_token(req)
        if portal_token is None:
            return env.unable(env.MISSING_FOR_EXCHANGE, self.token_type)
        owner = self._portal_token_owner(req, portal_token, params.get("referer"))
        if owner is None:
            return env.error(498, "Invalid token.", content_type=self.token_type)
        audience = self._federated_audience(lookup(params, "serverUrl") or "")
        if audience is None:
            detail = "The serverUrl is not a server federated with this portal."
            return env.unable(detail, self.token_type)
        referer = params.get("referer") or owner.referer
        lifetime = self._lifetime(params)
        value, record = self.state.issue(audience, owner.username, lifetime, referer, "server")
        return self._token_reply(value, record)

    def _federated_audience(self, server_url: str) -> Optional[str]:
        """The federated server a ``serverUrl`` names: its ``.../arcgis`` URL, a path under
        it, or just its origin (``https://host:port``, as Esri's Python client sends)."""
        asked = normalize_url(server_url)
        for known, audience in self.config.federated.items():
            origin = known.split("/", 3)[:3]
            if asked in (known, "/".join(origin)) or asked.startswith(known + "/"):
                return audience
        return None

    def _portal_token_owner(
        self, req: RequestRecord, value: str, referer_param: Optional[str]
    ) -> Optional[TokenRecord]:
        audiences = {self.config.origin}
        record = self.state.validate(value, audiences, req.headers.get("Referer"))
        if record is None and referer_param:
            record = self.state.validate(value, audiences, referer_param)
        return record

    def _lifetime(self, params: Dict[str, str]) -> float:
        asked = minutes(params.get("expiration"), PORTAL_DEFAULT_MINUTES) * 60.0
        return min(asked, self.state.settings.token_lifetime)

    def _token_reply(self, value: str, record: TokenRecord) -> Response:
        expires = int(record.expires_at * 1000)
        payload = {"token": value, "expires": expires, "ssl": self.config.https}
        return json_reply(payload, content_type=self.token_type)

    # -- self and users ----------------------------------------------------------------------
    def _portal_self(self, req: RequestRecord) -> Response:
        verdict = self.gate.identify(req)
        if isinstance(verdict, Response):
            return verdict
        config = self.config
        username = None if verdict is None or verdict.kind == "app" else verdict.username
        body = portal_self(
            config.base_url,
            self.online,
            config.https,
            PORTAL_VERSION,
            config.helper_server,
            username,
        )
        return json_reply(body)

    def _community_self(self, req: RequestRecord) -> Response:
        verdict = self.gate.require(req)
        if isinstance(verdict, Response):
            return verdict
        return json_reply(user_json(verdict.username, self.online, with_groups=True))

    def _user(self, req: RequestRecord, username: str) -> Response:
        verdict = self.gate.identify(req)
        if isinstance(verdict, Response):
            return verdict
        if username not in self.state.users:
            return env.error(400, "User not found.", messageCode="COM_0019")
        return json_reply(user_json(username, self.online))


def _referer_missing(params: Dict[str, str]) -> bool:
    return params.get("client", "").lower() == "referer" and not params.get("referer")
