"""Connection: what the user typed, validated once, and the tokens and sessions it yields.

>>> conn = Connection(kind="portal", url="https://gis.example.com/portal",
...                   username="alice", password="...")          # doctest: +SKIP
>>> conn.token()        # a valid token string, refreshed whenever needed   # doctest: +SKIP
>>> conn.session().get(service_url, params={"f": "json"})                 # doctest: +SKIP
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

import requests

from . import fields, kinds
from .clock import Clock, system_clock
from .errors import ConfigError, NotFederatedError
from .secrets import Secret, get_logger
from .signin.discovery import own_token_url, portal_token_url, server_info
from .signin.providers import (
    ApiKeyProvider,
    AppCredentialsProvider,
    DeferredProvider,
    FederatedExchangeProvider,
    GenerateTokenProvider,
    ProSigninProvider,
    SigninSource,
    TokenProvider,
    arcpy_signin,
)
from .tokens.cache import CachedProvider, TokenCache, cache_key, default_directory
from .tokens.handler import Listener, TokenHandler
from .tokens.token import Token
from .transport.auth import ArcGISAuth
from .transport.http import HttpSettings, call, make_session, read_json
from .urls import (
    ONLINE_URL,
    is_under,
    normalise_portal_url,
    normalise_server_url,
    origin_key,
    same_root,
)

log = get_logger(__name__)

SecretLike = Union[str, Secret, None]
TimeoutLike = Union[float, Tuple[float, float], None]


def _secret(value: SecretLike) -> Optional[Secret]:
    if value is None or value == "":
        return None
    return value if isinstance(value, Secret) else Secret(value)


def _timeout(value: TimeoutLike) -> Tuple[float, float]:
    if value is None:
        return HttpSettings.timeout
    pair = (value, value) if isinstance(value, (int, float)) else tuple(value)
    if len(pair) != 2 or any(not isinstance(v, (int, float)) or v <= 0 for v in pair):
        raise ConfigError("timeout", "must be seconds > 0, or a (connect, read) pair of them")
    return float(pair[0]), float(pair[1])


class Connection:
    """One ArcGIS sign-in (portal, Online, server, Pro, API key or app) and its tokens.

    Credentials are passed once; :meth:`token` and :meth:`session` keep working however long
    the caller runs. Every bad value raises ConfigError naming the field and the fix; nothing
    touches the network until a token is first needed.
    """

    def __init__(
        self,
        *,
        kind: str = "online",
        url: Optional[str] = None,
        username: Optional[str] = None,
        password: SecretLike = None,
        referer: Optional[str] = None,
        expiration: Union[int, str, None] = kinds.DEFAULT_EXPIRATION,
        server_url: Optional[str] = None,
        api_key: SecretLike = None,
        api_key_expires: Optional[float] = None,
        client_id: Optional[str] = None,
        client_secret: SecretLike = None,
        proxy: Optional[str] = None,
        proxy_username: Optional[str] = None,
        proxy_password: SecretLike = None,
        use_system_proxy: bool = True,
        verify: bool = True,
        ca_bundle: Optional[str] = None,
        timeout: TimeoutLike = None,
        retries: int = 3,
        trusted_hosts: Iterable[str] = (),
        token_placement: str = "header",  # noqa: S107 - where the token goes, not a token
        allow_http_loopback: bool = True,
        signin: Optional[SigninSource] = None,
        clock: Optional[Clock] = None,
        cache: bool = False,
        cache_dir: Optional[str] = None,
    ) -> None:
        self.kind = kind
        self.username = username
        self.client_id = client_id
        self.password = _secret(password)
        self.api_key = _secret(api_key)
        self.client_secret = _secret(client_secret)
        proxy_secret = _secret(proxy_password)
        values: Dict[str, Any] = dict(
            kind=kind,
            url=url,
            username=username,
            password=self.password,
            referer=referer,
            expiration=expiration,
            server_url=server_url,
            api_key=self.api_key,
            client_id=client_id,
            client_secret=self.client_secret,
            proxy=proxy,
            proxy_username=proxy_username,
            proxy_password=proxy_secret,
            verify=verify,
            ca_bundle=ca_bundle,
            allow_http_loopback=allow_http_loopback,
        )
        for problem in fields.check(values):
            if problem.severity == "error":
                raise problem.as_error()
        if token_placement not in ("header", "body", "query"):
            raise ConfigError("token_placement", "must be header, body or query")
        self.referer = referer or kinds.DEFAULT_REFERER
        self._referer_given = referer or None
        self.expiration = kinds.DEFAULT_EXPIRATION if expiration in (None, "") else int(expiration)
        self.api_key_expires = api_key_expires
        self.token_placement = token_placement
        self.allow_http_loopback = allow_http_loopback
        self.clock: Clock = clock or system_clock
        self._signin = signin or arcpy_signin
        self.http = HttpSettings(
            proxy=proxy or None,
            proxy_username=proxy_username or None,
            proxy_password=proxy_secret,
            use_system_proxy=use_system_proxy,
            verify=verify,
            ca_bundle=ca_bundle or None,
            timeout=_timeout(timeout),
            retries=int(retries),
            allow_http_loopback=allow_http_loopback,
        )
        self.url = self._root(url)
        self.server_url = normalise_server_url(server_url, "server_url") if server_url else None
        self.trusted_hosts = [origin_key(_as_url(h), "trusted_hosts") for h in trusted_hosts]
        self._lock = threading.RLock()
        self._session: Optional[requests.Session] = None
        self._api_session: Optional[requests.Session] = None
        self._primary: Optional[TokenHandler] = None
        self._servers: Dict[str, TokenHandler] = {}
        self._listeners: List[Listener] = []
        self._auths: List[ArcGISAuth] = []
        self._cache = TokenCache(Path(cache_dir or default_directory())) if cache else None

    def __repr__(self) -> str:
        who = self.username or self.client_id or ""
        return f"Connection(kind={self.kind!r}, url={self.url!r}, user={who!r})"

    # -- what callers use ---------------------------------------------------------------
    def token(self) -> str:
        """The current valid token string (for ``server_url`` when one was given)."""
        return self.token_info().value

    def token_info(self) -> Token:
        """The current valid Token, with its expiry, referer and audience."""
        return self.handler().token()

    @property
    def target_url(self) -> str:
        """The portal or server the token from :meth:`token` is for."""
        return self.server_url or self.url

    def handler(self, server_url: Optional[str] = None) -> TokenHandler:
        """The TokenHandler for ``server_url`` (default: the connection's own target)."""
        server = server_url or self.server_url
        if server:
            return self.add_server(server)
        return self._primary_handler()

    def session(self) -> requests.Session:
        """A new requests.Session whose requests to trusted hosts carry a fresh token."""
        session = make_session(self.http)
        auth = ArcGISAuth(self._resolve, self.token_placement, self.allow_http_loopback)
        with self._lock:
            self._auths.append(auth)
        session.auth = auth
        return session

    def request_json(
        self, method: str, url: str, params: Optional[Dict[str, Any]] = None
    ) -> Dict[str, Any]:
        """Call an ArcGIS REST endpoint with the token; return its JSON or raise a typed error."""
        with self._lock:
            if self._api_session is None:
                self._api_session = self.session()
            session = self._api_session
        query = dict(params or {})
        query.setdefault("f", "json")
        upper = method.upper()
        response = call(
            session,
            upper,
            url,
            params=query if upper == "GET" else None,
            data=query if upper != "GET" else None,
            what=f"{upper} {url.split('?')[0]}",
        )
        return read_json(response, "request")

    def add_server(self, server_url: str) -> TokenHandler:
        """Prove ``server_url`` is federated with this portal and return its token handler.

        Federation is proven by the server's own ``/rest/info`` ``owningSystemUrl``, compared
        with this portal as parsed host, port and path. Raises NotFederatedError otherwise.
        """
        root = normalise_server_url(server_url, "server_url")
        with self._lock:
            if root in self._servers:
                return self._servers[root]
            handler = self._federated_handler(root)
            self._servers[root] = handler
            return handler

    def on_token(self, listener: Listener) -> None:
        """Call ``listener(token, issued_count)`` whenever any handler obtains a token."""
        with self._lock:
            self._listeners.append(listener)
            for handler in self._handlers():
                handler.add_listener(listener)

    @property
    def tokens_issued(self) -> int:
        """Tokens obtained so far by all of this connection's handlers."""
        return sum(h.stats.issued for h in self._handlers())

    @property
    def refreshes(self) -> int:
        """Tokens obtained after each handler's first one."""
        return sum(h.stats.refreshes for h in self._handlers())

    @property
    def rejections(self) -> int:
        """Requests a server rejected with 498/499 that were retried with a fresh token."""
        return sum(auth.rejections for auth in self._auths)

    def close(self) -> None:
        """Close the sessions this connection opened."""
        for session in (self._session, self._api_session):
            if session is not None:
                session.close()

    # -- construction of handlers ---------------------------------------------------------
    def _root(self, url: Optional[str]) -> str:
        if self.kind == "server":
            return normalise_server_url(url, "url")
        if self.kind == "pro" and not url:
            return normalise_portal_url(_active_portal_url(), "url")
        return normalise_portal_url(url or ONLINE_URL, "url")

    def _http_session(self) -> requests.Session:
        with self._lock:
            if self._session is None:
                self._session = make_session(self.http)
            return self._session

    def _handlers(self) -> List[TokenHandler]:
        found = [self._primary] if self._primary is not None else []
        return found + list(self._servers.values())

    def _new_handler(self, provider: TokenProvider) -> TokenHandler:
        if self._cache is not None and self.kind not in ("apikey", "pro"):
            identity = [self.kind, self.url, self.username or self.client_id or "", self.referer]
            key = cache_key([*identity, provider.audience])
            provider = CachedProvider(provider, self._cache, key, self.clock)
        handler = TokenHandler(provider, self.clock)
        for listener in self._listeners:
            handler.add_listener(listener)
        return handler

    def _primary_handler(self) -> TokenHandler:
        with self._lock:
            if self._primary is None:
                deferred = DeferredProvider(self._primary_provider, self.url)
                self._primary = self._new_handler(deferred)
            return self._primary

    def _primary_provider(self) -> TokenProvider:
        if self.kind == "apikey":
            assert self.api_key is not None
            return ApiKeyProvider(
                self.api_key,
                audience=self.url,
                clock=self.clock,
                expires_at=self.api_key_expires,
                referer=self._referer_given,
            )
        if self.kind == "pro":
            return ProSigninProvider(self._signin, audience=self.url, clock=self.clock)
        if self.kind == "app":
            assert self.client_id and self.client_secret
            return AppCredentialsProvider(
                self._http_session(),
                self.url,
                self.client_id,
                self.client_secret,
                expiration=self.expiration,
                clock=self.clock,
                allow_http_loopback=self.allow_http_loopback,
            )
        if self.kind == "server":
            return self._server_provider()
        return self._password_provider(portal_token_url(self._http_session(), self.url), self.url)

    def _password_provider(self, token_url: str, audience: str) -> GenerateTokenProvider:
        assert self.username and self.password
        return GenerateTokenProvider(
            self._http_session(),
            token_url,
            self.username,
            self.password,
            referer=self.referer,
            expiration=self.expiration,
            clock=self.clock,
            audience=audience,
            allow_http_loopback=self.allow_http_loopback,
        )

    def _server_provider(self) -> TokenProvider:
        info = server_info(self._http_session(), self.url)
        if info.owning_system_url:
            return self._via_owning_portal(info.owning_system_url)
        default = f"{self.url}/tokens/generateToken"
        return self._password_provider(own_token_url(info.token_url, self.url, default), self.url)

    def _via_owning_portal(self, owning: str) -> TokenProvider:
        """A federated server given as kind=server: sign in at its portal, then exchange.

        The password goes to the portal only when it is on the server's own origin or a
        host the user trusts: an anonymous /rest/info reply alone must not pick where a
        password is sent.
        """
        scheme = self.url.split("://", 1)[0]
        portal = normalise_portal_url(f"{scheme}://{owning.split('://', 1)[-1]}", "url")
        target = origin_key(portal)
        if target != origin_key(self.url) and target not in self.trusted_hosts:
            raise ConfigError(
                "url",
                f"{self.url} is federated with the portal {portal}: sign in there with "
                f"kind 'portal', url {portal} and server_url {self.url} (or list the portal's "
                "host in trusted_hosts)",
            )
        log.info("%s is federated with %s; signing in there", self.url, portal)
        portal_handler = self._new_handler(
            self._password_provider(portal_token_url(self._http_session(), portal), portal)
        )
        return self._exchange_provider(portal_handler, portal, self.url)

    def _federated_handler(self, root: str) -> TokenHandler:
        if self.kind not in kinds.FEDERATING_KINDS:
            raise ConfigError("server_url", "federated servers need a portal connection")
        info = server_info(self._http_session(), root)
        if not info.owning_system_url or not same_root(info.owning_system_url, self.url):
            owner = info.owning_system_url or "no portal"
            raise NotFederatedError(
                f"{root} is not federated with {self.url} (its owning system is {owner}); "
                "use a connection to the server's own portal, or a standalone server connection"
            )
        return self._new_handler(self._exchange_provider(self._primary_handler(), self.url, root))

    def _exchange_provider(
        self, portal_handler: TokenHandler, portal: str, root: str
    ) -> FederatedExchangeProvider:
        token_url = f"{portal}/sharing/rest/generateToken"
        return FederatedExchangeProvider(
            self._http_session(),
            portal_handler.token,
            portal_handler.invalidate,
            token_url,
            root,
            referer=self.referer,
            expiration=self.expiration,
            clock=self.clock,
            allow_http_loopback=self.allow_http_loopback,
        )

    # -- which token may go where -----------------------------------------------------------
    def _resolve(self, url: str) -> Optional[TokenHandler]:
        """The handler whose token ``url`` may receive, or None (the host is not trusted)."""
        with self._lock:
            servers = list(self._servers.items())
        for root, handler in servers:
            if is_under(url, root):
                return handler
        if self.server_url and is_under(url, self.server_url):
            return self.add_server(self.server_url)
        origin = origin_key(url)
        if origin == origin_key(self.url) or origin in self.trusted_hosts:
            return self._primary_handler()
        if self._online_hosted(url):
            return self._primary_handler()
        return None

    def _online_hosted(self, url: str) -> bool:
        """ArcGIS Online tokens also open Online-hosted services (``services*.arcgis.com``)."""
        host, _ = origin_key(self.url)
        target, _ = origin_key(url)
        online = host == "arcgis.com" or host.endswith(".arcgis.com")
        return (
            self.kind in ("online", "app", "apikey")
            and online
            and url.startswith("https://")
            and target.endswith(".arcgis.com")
        )


def _as_url(host: str) -> str:
    return host if "://" in host else "https://" + host


def _active_portal_url() -> str:
    """ArcGIS Pro's active portal (``arcpy.GetActivePortalURL``), for kind ``pro``."""
    try:
        import arcpy  # noqa: PLC0415 - only inside ArcGIS Pro
    except ImportError:
        raise ConfigError(
            "url", "ArcGIS Pro is not available here: give the portal URL explicitly"
        ) from None
    return str(arcpy.GetActivePortalURL())
