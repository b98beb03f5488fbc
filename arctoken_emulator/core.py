"""The :class:`Emulator`: five loopback origins that behave like ArcGIS token services."""

from __future__ import annotations

import ssl
import threading
import time
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from .access import Gate
from .arcgis_server import ArcGISServer, ServerConfig, ServerMode
from .clock import Clock, system_clock
from .envelopes import not_found
from .faults import FaultBook
from .grants import Grants
from .identity import ORG_ID
from .params import is_token_path, normalize_url
from .portal import Portal, PortalConfig
from .records import RequestRecord, Response
from .server import OriginServer
from .services import HOSTED_SERVICES, Services
from .state import API_KEY, Settings, State
from .urls import EmulatorUrls

ORIGINS = ("online", "portal", "server", "federated", "foreign", "hosted")
"""The emulated origins, each its own HTTP server on 127.0.0.1 (plus ``pki`` on request)."""
STABLE_ORIGINS = 5
"""With ``base_port``, the first five origins must get their ports; later ones fall back to
a port the OS chooses when theirs is taken."""
DEFAULT_USERS = {"alice": "wonderland"}
"""Demo account used when ``users`` is not given."""
DEFAULT_APPS = {"appid": "appsecret"}
"""Demo OAuth app (client_id -> client_secret) used when ``apps`` is not given."""
DEFAULT_API_KEYS: Dict[str, Optional[float]] = {"AAPKemulatordemokey0000000000000000": None}
"""Demo API key (never expires) used when ``api_keys`` is not given."""
INTERNAL_GENERATE_URL = "https://portal-internal.invalid/portal/sharing/rest/generateToken"
"""What the portal advertises with ``advertise_internal_host``: a host nobody can reach."""
LOOKALIKE_HOST = "https://evil.example/"
"""The foreign server's owningSystemUrl is this plus the portal URL without its scheme."""
_SHUTDOWN_WAIT = 0.8

Route = Callable[[RequestRecord], Optional[Response]]
"""Answers a request, or None when the path is not its own."""


class Emulator(EmulatorUrls):
    """A loopback ArcGIS: an Online-style portal, an Enterprise portal, a standalone server,
    a server federated with the portal and a server that only pretends to be; secured
    services, async GP jobs, lockouts, injected faults and optional TLS.

    Use it as a context manager; every URL property is valid between start and stop.
    Ports are chosen by the OS, or ``base_port`` and the four after it (stable URLs for
    rehearsing a script with ``arctoken emulator --port``); the Online hosting server
    takes the next one, and the PKI portal the one after, when those are free.

    Optional modes: ``server_before_10_6``, ``server_web_tier`` and ``server_https_only``
    change the standalone server; ``client_ca`` (a CA file, with ``certfile``) adds a PKI
    portal whose TLS demands a client certificate signed by that CA.

    Both portals offer OAuth 2.0 user sign-in (``oauth2/authorize`` sign-in page,
    ``oauth2/token``) to every app in ``apps``; ``redirect_uris`` (client_id -> allowed URIs,
    default: out-of-band and loopback ``http://127.0.0.1/`` on any port) narrows that.
    Access tokens live ``oauth_token_lifetime`` seconds (capped by ``token_lifetime``),
    refresh tokens ``refresh_token_lifetime`` seconds, both on the emulator clock.
    """

    def __init__(
        self,
        users: Optional[Mapping[str, str]] = None,
        token_lifetime: float = 3600.0,
        clock: Optional[Clock] = None,
        server_clock_offset: float = 0.0,
        apps: Optional[Mapping[str, str]] = None,
        api_keys: Optional[Mapping[str, Optional[float]]] = None,
        lockout_threshold: int = 5,
        lockout_seconds: float = 900.0,
        lockout_message: str = "Too many invalid logon attempts. Try again later.",
        gp_job_duration: float = 30.0,
        certfile: Optional[str] = None,
        keyfile: Optional[str] = None,
        advertise_internal_host: bool = False,
        restricted_users: Iterable[str] = (),
        base_port: int = 0,
        redirect_uris: Optional[Mapping[str, Sequence[str]]] = None,
        refresh_token_lifetime: float = 1_209_600.0,
        oauth_token_lifetime: float = 1800.0,
        server_before_10_6: bool = False,
        server_web_tier: bool = False,
        server_https_only: bool = False,
        client_ca: Optional[str] = None,
    ) -> None:
        self.users: Dict[str, str] = dict(DEFAULT_USERS if users is None else users)
        self.apps: Dict[str, str] = dict(DEFAULT_APPS if apps is None else apps)
        self.api_keys: Dict[str, Optional[float]] = dict(
            DEFAULT_API_KEYS if api_keys is None else api_keys
        )
        settings = Settings(
            token_lifetime=float(token_lifetime),
            server_clock_offset=float(server_clock_offset),
            lockout_threshold=int(lockout_threshold),
            lockout_seconds=float(lockout_seconds),
            lockout_message=lockout_message,
            restricted_users=frozenset(restricted_users),
            oauth_token_lifetime=float(oauth_token_lifetime),
            refresh_token_lifetime=float(refresh_token_lifetime),
        )
        self.clock: Clock = clock if clock is not None else system_clock
        self._state = State(self.clock, settings, self.users, self.apps, self.api_keys)
        self._grants = Grants(self._state, redirect_uris or {})
        self._faults = FaultBook()
        self._gp_job_duration = float(gp_job_duration)
        self._certfile, self._keyfile = certfile, keyfile
        self._internal_host = advertise_internal_host
        self._base_port = int(base_port)
        self._mode = ServerMode(server_before_10_6, server_web_tier, server_https_only)
        if client_ca is not None and certfile is None:
            raise ValueError("client_ca needs certfile: the PKI portal is https only")
        self._client_ca = client_ca
        self._servers: Dict[str, OriginServer] = {}
        self._threads: List[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Open the servers and start answering; a second call does nothing."""
        if self._servers:
            return
        context = self._tls_context()
        origins = [*ORIGINS, "pki"] if self._client_ca else list(ORIGINS)
        for index, origin in enumerate(origins):
            tls = self._pki_context() if origin == "pki" else context
            self._servers[origin] = self._open(origin, index, tls)
        for origin, route in self._build_routes().items():
            self._servers[origin].dispatch = _with_not_found(route)
        for server in self._servers.values():
            thread = threading.Thread(
                target=server.serve_forever, args=(0.05,), name="emulator", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop every server, close open connections and join the threads (well under 1 s)."""
        servers = list(self._servers.values())
        stoppers = [threading.Thread(target=s.shutdown, daemon=True) for s in servers]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join(_SHUTDOWN_WAIT)
        workers: List[threading.Thread] = []
        for server in servers:
            workers += server.close_connections()
            server.server_close()
        deadline = time.monotonic() + _SHUTDOWN_WAIT
        for thread in self._threads + workers:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        self._servers.clear()

    def _open(self, origin: str, index: int, tls: Optional[ssl.SSLContext]) -> OriginServer:
        port = self._base_port + index if self._base_port else 0
        try:
            return OriginServer(origin, self._state, self._faults, tls, port)
        except OSError:
            if index < STABLE_ORIGINS or not port:
                raise
            return OriginServer(origin, self._state, self._faults, tls, 0)

    def _pki_context(self) -> ssl.SSLContext:
        context = self._tls_context()
        assert context is not None and self._client_ca is not None
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(self._client_ca)
        return context

    def _tls_context(self) -> Optional[ssl.SSLContext]:
        if self._certfile is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self._certfile, self._keyfile)
        return context

    # -- wiring ------------------------------------------------------------------------------
    def _build_routes(self) -> Dict[str, Route]:
        https = self._certfile is not None
        online = Portal(self._state, self._portal_config("online", "", https), self._grants)
        portal = Portal(self._state, self._portal_config("portal", "/portal", https), self._grants)
        gate = Gate(self._state, {"online", API_KEY}, portal_wording=True)
        hosted = Services(gate, [], HOSTED_SERVICES, with_gp=False)
        routes: Dict[str, Route] = {
            "online": _first_of(online.handle, hosted.handle),
            "portal": portal.handle,
            "server": ArcGISServer(self._state, self._server_config("server", None)).handle,
            "federated": ArcGISServer(
                self._state, self._server_config("federated", self.portal_url, {"portal"})
            ).handle,
            "foreign": ArcGISServer(
                self._state, self._server_config("foreign", self._lookalike_portal())
            ).handle,
            "hosted": ArcGISServer(self._state, self._hosted_config()).handle,
        }
        if self._client_ca:
            pki = self._portal_config("pki", "/portal", https)
            routes["pki"] = Portal(self._state, pki, self._grants).handle
        return routes

    def _hosted_config(self) -> ServerConfig:
        owner = "http://" + self.online_url.split("://", 1)[1]
        tokens = f"{self.online_url}/sharing/rest/generateToken"
        audiences = frozenset({"online", API_KEY})
        prefix = (ORG_ID, "arcgis")
        url = self.hosted_server_url
        return ServerConfig("hosted", url, tokens, owner, 0.0, audiences, prefix, hosted=True)

    def _portal_config(self, origin: str, path: str, https: bool) -> PortalConfig:
        base = self._root(origin) + path
        token_url = f"{base}/sharing/rest/generateToken"
        if origin == "portal" and self._internal_host:
            token_url = INTERNAL_GENERATE_URL
        federated: Dict[str, str] = {}
        if origin == "portal":
            federated[normalize_url(self.federated_server_url)] = "federated"
        if origin == "online":
            federated[normalize_url(self.hosted_server_url)] = "hosted"
        prefix = [part for part in path.split("/") if part]
        helper = self.federated_server_url if origin == "portal" else None
        web_tier = origin == "pki"
        return PortalConfig(origin, base, prefix, https, token_url, federated, helper, web_tier)

    def _server_config(
        self, origin: str, owner: Optional[str], owner_audiences: Iterable[str] = ()
    ) -> ServerConfig:
        url = self._root(origin) + "/arcgis"
        tokens = f"{url}/tokens/" if owner is None else f"{owner}/sharing/rest/generateToken"
        audiences = frozenset(owner_audiences)
        mode = self._mode if origin == "server" else ServerMode()
        duration = self._gp_job_duration
        return ServerConfig(origin, url, tokens, owner, duration, audiences, mode=mode)

    def _lookalike_portal(self) -> str:
        return LOOKALIKE_HOST + self.portal_url.split("://", 1)[1]

    def _root(self, origin: str) -> str:
        server = self._servers.get(origin)
        if server is None:
            raise RuntimeError("the emulator is not running: call start() or use `with`")
        return server.root

    # -- inspection and control --------------------------------------------------------------
    @property
    def requests(self) -> List[RequestRecord]:
        """A snapshot of every request received so far, oldest first."""
        return self._state.requests()

    def token_requests(self, origin: Optional[str] = None) -> List[RequestRecord]:
        """Requests that hit a generateToken, /tokens or oauth2/token endpoint."""
        return [
            r
            for r in self._state.requests()
            if is_token_path(r.path) and (origin is None or r.origin == origin)
        ]

    def clear_requests(self) -> None:
        """Forget the request log."""
        self._state.clear_requests()

    def failed_logins(self, username: str) -> int:
        """Current count of bad passwords for ``username``."""
        return self._state.failed_logins(username)

    def revoke(self, token: str) -> None:
        """Invalidate a token, API key or refresh token before its expiry: 498 from now on."""
        self._state.revoke(token)
        self._grants.retire(token)

    def inject_fault(
        self, path_contains: str, kind: str, count: int = 1, **options: Union[int, float, str]
    ) -> None:
        """Answer the next ``count`` requests whose path contains ``path_contains`` with a
        fault: ``status`` (status=, body=), ``429`` (retry_after=), ``delay`` (seconds=),
        ``reset``, ``malformed_json``, ``html_login`` or ``empty``."""
        self._faults.add(path_contains, kind, count, **options)

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        self._faults.clear()

    def describe(self) -> str:
        """A few lines for people: where everything is and the demo credentials."""
        lines = [
            "ArcGIS emulator (loopback only)",
            f"  ArcGIS Online-style portal : {self.online_url}",
            f"  Enterprise portal          : {self.portal_url}",
            f"  ArcGIS Server (standalone) : {self.server_url}",
            f"  ArcGIS Server (federated)  : {self.federated_server_url}",
            f"  Secured service            : {self.service_url}",
            f"  Hosted service (Online)    : {self.online_service_url}",
            f"  Long-running GP task       : {self.gp_task_url}",
        ]
        lines += [f"  User     : {name} / {password}" for name, password in self.users.items()]
        lines += [f"  App      : {app} / {secret}" for app, secret in self.apps.items()]
        lines += [f"  API key  : {key}" for key in self.api_keys]
        minutes = self._state.settings.token_lifetime / 60
        lines.append(f"  Tokens live at most {minutes:g} minutes")
        return "\n".join(lines)


def _first_of(*routes: Route) -> Route:
    def route(req: RequestRecord) -> Optional[Response]:
        """The first reply any of ``routes`` gives."""
        for candidate in routes:
            reply = candidate(req)
            if reply is not None:
                return reply
        return None

    return route


def _with_not_found(route: Route) -> Callable[[RequestRecord], Response]:
    def dispatch(req: RequestRecord) -> Response:
        """The route's reply, or 404."""
        reply = route(req)
        return reply if reply is not None else not_found()

    return dispatch
