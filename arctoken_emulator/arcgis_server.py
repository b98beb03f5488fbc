"""An ArcGIS Server origin under ``/arcgis``: discovery, token services, services and GP."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, Optional, Sequence, Tuple, Union

from . import envelopes as env
from .access import Gate
from .gp import GpService
from .identity import ADMINS
from .params import credentials_in_query, lookup, merged, minutes, segments_after
from .records import RequestRecord, Response, json_reply
from .services import HOSTED_SERVICES, SERVER_SERVICES, SERVER_VERSION, Services
from .state import State

PREFIX = ["arcgis"]
"""Every server origin lives under the ``/arcgis`` web adaptor path."""
SERVER_DEFAULT_MINUTES = 60.0
"""Expiration when a request names none; also the longest allowed without ``client``."""
FEDERATED_REFUSAL = "This server is federated: get a token from the portal that owns it."
"""Why a federated (or look-alike) server's own token service says no."""

ADMIN_UNAUTHORIZED = (
    "Unauthorized access. Token not found. You can generate a token using the"
    " 'generateToken' operation."
)
"""The administrator API's 499 message."""
ADMIN_FORBIDDEN = "User is not authorized to access the administrator API."
"""The administrator API's 403 message for a user who is not an administrator."""
ADMIN_RESOURCES = ("machines", "clusters", "system", "services", "security", "data", "logs")
"""What ``/arcgis/admin?f=json`` lists for an administrator."""
FULL_VERSION = "10.9.1"
"""The ``fullVersion`` every server reports."""
Problem = Tuple[int, str, str]
"""(code, message, detail) of a token-service error, before it is wrapped in an envelope."""


@dataclass(frozen=True)
class ServerMode:
    """Optional ways real deployments differ."""

    before_10_6: bool = False
    """Ignores ``X-Esri-Authorization``: a token only in that header gets 499."""
    web_tier: bool = False
    """The web server authenticates users (IWA/PKI): ``isTokenBasedSecurity`` is false and
    everything but ``rest/info`` answers HTTP 401 ``WWW-Authenticate: Negotiate``."""
    https_only: bool = False
    """Answers 403 SSL Required to everything but ``rest/info`` when reached over http."""


@dataclass
class ServerConfig:
    """Where one emulated ArcGIS Server lives and whom it belongs to."""

    origin: str
    """``server``, ``federated`` or ``foreign``."""
    server_url: str
    """e.g. ``http://127.0.0.1:6443/arcgis``."""
    token_services_url: str
    owning_system_url: Optional[str] = None
    """The owning portal for a federated server; None for a standalone one."""
    gp_job_duration: float = 30.0
    owner_audiences: FrozenSet[str] = field(default_factory=frozenset)
    """Audiences of the owning portal's tokens, which a federated server accepts as they are."""
    prefix: Sequence[str] = tuple(PREFIX)
    """Path segments before ``rest``/``admin``/``tokens`` (``arcgis``; ``<orgId>/arcgis``)."""
    hosted: bool = False
    """An ArcGIS Online hosting server: hosted feature services only, portal wording."""
    mode: ServerMode = field(default_factory=ServerMode)


class ArcGISServer:
    """Answers ``/arcgis/...`` requests for one server origin."""

    def __init__(self, state: State, config: ServerConfig) -> None:
        self.state = state
        self.config = config
        self.issues_tokens = config.owning_system_url is None
        audiences = {config.origin, *config.owner_audiences}
        headers = not config.mode.before_10_6
        gate = Gate(state, audiences, portal_wording=config.hosted, header_tokens=headers)
        self.gate = gate
        prefix = list(config.prefix)
        self.gp = GpService(state, gate, config.origin, prefix, config.gp_job_duration)
        specs = HOSTED_SERVICES if config.hosted else SERVER_SERVICES
        self.services = Services(gate, prefix, specs, with_gp=not config.hosted)
        self._routes: Dict[str, Callable[[RequestRecord], Response]] = {
            "rest/info": self._info,
            "tokens": self._token_service,
            "tokens/generatetoken": self._token_service,
            "admin/generatetoken": self._admin_token_service,
            "admin": self._admin_root,
        }
        if config.hosted:  # hosting servers have no token service of their own
            for path in ("tokens", "tokens/generatetoken", "admin/generatetoken"):
                del self._routes[path]

    def handle(self, req: RequestRecord) -> Optional[Response]:
        """The reply for a server path, or None when nothing lives there."""
        rest = segments_after(req.path, self.config.prefix)
        if rest is None:
            return None
        key = "/".join(rest).lower()
        refusal = None if key == "rest/info" else self._mode_refusal(req)
        if refusal is not None:
            return refusal
        route = self._routes.get(key)
        if route is not None:
            return route(req)
        if self.config.hosted:
            return self.services.handle(req)
        return self.gp.handle(req) or self.services.handle(req)

    def _mode_refusal(self, req: RequestRecord) -> Optional[Response]:
        mode = self.config.mode
        if mode.https_only and req.scheme == "http":
            return env.error(403, "SSL Required")
        if mode.web_tier:
            return env.web_tier_challenge()
        return None

    def _info(self, req: RequestRecord) -> Response:
        validity = max(1, int(self.state.settings.token_lifetime // 60))
        old = self.config.mode.before_10_6
        body: Dict[str, object] = {
            "currentVersion": 10.51 if old else SERVER_VERSION,
            "fullVersion": "10.5.1" if old else FULL_VERSION,
        }
        if self.config.owning_system_url is not None:
            body["owningSystemUrl"] = self.config.owning_system_url
        if self.config.mode.web_tier:
            body["authInfo"] = {"isTokenBasedSecurity": False}
            return json_reply(body)
        body["authInfo"] = {
            "isTokenBasedSecurity": True,
            "tokenServicesUrl": self.config.token_services_url,
            "shortLivedTokenValidity": validity,
        }
        return json_reply(body)

    def _admin_root(self, req: RequestRecord) -> Response:
        """``/arcgis/admin``: the administrator API's root, for administrators only."""
        verdict = self.gate.identify(req)
        if verdict is None:
            return env.admin_error(499, ADMIN_UNAUTHORIZED)
        if isinstance(verdict, Response):
            return env.admin_error(498, "Invalid token.")
        if verdict.username not in ADMINS:
            return env.admin_error(403, ADMIN_FORBIDDEN)
        body = {"resources": list(ADMIN_RESOURCES), "currentVersion": SERVER_VERSION}
        body["fullVersion"] = FULL_VERSION
        return json_reply(body)

    def _token_service(self, req: RequestRecord) -> Response:
        problem = self._generate(req)
        if isinstance(problem, Response):
            return problem
        code, message, detail = problem
        if code == 405:
            return env.error(405, message, detail)
        return env.error(code, message, [detail] if detail else [])

    def _admin_token_service(self, req: RequestRecord) -> Response:
        problem = self._generate(req, admin=True)
        if isinstance(problem, Response):
            return problem
        code, message, detail = problem
        text = message if not detail else f"{message.rstrip('.')}. {detail}"
        return env.admin_error(code, text)

    def _generate(self, req: RequestRecord, admin: bool = False) -> Union[Response, Problem]:
        """The token reply, or the (code, message, detail) of the error to wrap."""
        if credentials_in_query(req):
            return (405, "Method not supported", env.CREDENTIALS_IN_QUERY)
        if req.method != "POST":
            return (405, "Method not supported", "Generate Token request must be a POST request.")
        if not self.issues_tokens:
            return (400, env.UNABLE, FEDERATED_REFUSAL)
        params = merged(req)
        problem = _check_params(params)
        if problem is not None:
            return problem
        username = params["username"]
        failure = self.state.authenticate(username, params["password"])
        if failure is not None:
            return (400, env.UNABLE, failure)
        return self._issue(username, params, admin)

    def _issue(self, username: str, params: Dict[str, str], admin: bool) -> Response:
        """The token; ``expires`` is a number, but a string from the administrator API."""
        client = _client(params)
        referer = _referer(params) if client in ("referer", "") else None
        asked = minutes(params.get("expiration"), SERVER_DEFAULT_MINUTES) * 60.0
        lifetime = min(asked, self.state.settings.token_lifetime)
        value, record = self.state.issue(self.config.origin, username, lifetime, referer)
        expires = int(record.expires_at * 1000)
        return json_reply({"token": value, "expires": str(expires) if admin else expires})


def _client(params: Dict[str, str]) -> str:
    client = (params.get("client") or "").lower()
    return "referer" if client == "referrer" else client


def _referer(params: Dict[str, str]) -> Optional[str]:
    return lookup(params, "referer") or lookup(params, "referrer") or None


def _check_params(params: Dict[str, str]) -> Optional[Problem]:
    if not params.get("username") or not params.get("password"):
        return (400, env.UNABLE, "'username' and 'password' must be specified.")
    client = _client(params)
    expiration = params.get("expiration")
    if not client and expiration and minutes(expiration, 0.0) > SERVER_DEFAULT_MINUTES:
        return (201, env.CLIENT_ID_REQUIRED, "")
    if client == "referer" and _referer(params) is None:
        return (400, env.UNABLE, env.REFERER_REQUIRED)
    return None
