"""Connection: what the user typed, validated once, and the tokens and sessions it yields.

>>> conn = Connection(kind="portal", url="https://gis.example.com/portal",
...                   username="alice", password="...")          # doctest: +SKIP
>>> conn.token()        # a valid token string, refreshed whenever needed   # doctest: +SKIP
>>> conn.session().get(service_url, params={"f": "json"})                 # doctest: +SKIP

How each kind signs in is its row in :mod:`arctoken_core.kinds` and its module in
:mod:`arctoken_core.signin`; which host may receive which token is
:class:`arctoken_core.transport.scope.Scope`'s decision.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Union

import requests

from . import fields, kinds
from .clock import Clock, system_clock
from .errors import ArcTokenError, ConfigError, detached
from .options import (
    SecretLike,
    TimeoutLike,
    callable_or_none,
    optional_epoch,
    retries_count,
    root_url,
    secret,
    timeout_pair,
    trusted_origins,
)
from .secrets import get_logger
from .signin.base import DeferredProvider, TokenProvider
from .signin.factory import provider_for
from .signin.webtier import web_tier_settings
from .tokens.handler import Listener, TokenHandler
from .tokens.token import Token
from .transport.failures import call
from .transport.replies import read_json
from .transport.scope import Scope
from .transport.session import make_session
from .transport.settings import HttpSettings
from .urls import normalise_server_url

if TYPE_CHECKING:
    from .signin.oauth_flow import OpenBrowser, Prompt
    from .signin.pro import SigninSource
    from .tokens.cache import TokenCache
    from .transport.auth import ArcGISAuth

__all__ = ["Connection"]

log = get_logger(__name__)


class Connection:
    """One ArcGIS sign-in (portal, Online, server, Pro, API key or app) and its tokens.

    Credentials are passed once; :meth:`token` and :meth:`session` keep working however long
    the caller runs. Every bad value raises ConfigError naming the field and the fix; nothing
    touches the network until a token is first needed.

    Raises:
        ConfigError: a value is missing or malformed (``.field`` names it).
        InsecureTransportError: a URL is plain http to another machine.
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
        cert_file: Optional[str] = None,
        key_file: Optional[str] = None,
        cert_password: SecretLike = None,
        timeout: TimeoutLike = None,
        retries: int = 3,
        trusted_hosts: Iterable[str] = (),
        token_placement: str = "header",  # noqa: S107 - where the token goes, not a token
        allow_http_loopback: bool = True,
        signin: Optional[SigninSource] = None,
        clock: Optional[Clock] = None,
        cache: bool = False,
        cache_dir: Optional[str] = None,
        profile: Optional[str] = None,
        refresh_token: SecretLike = None,
        oauth_flow: str = "browser",
        open_browser: Optional[OpenBrowser] = None,
        prompt: Optional[Prompt] = None,
    ) -> None:
        if profile is not None:  # the saved settings and secrets, under what was given here
            from .profiles import profile_options

            Connection.__init__(self, **profile_options(profile, locals(), Connection.__init__))
            self.profile: Optional[str] = profile
            return
        self.profile = None
        self.kind = kind
        self.username = username
        self.client_id = client_id
        self.password = secret(password)
        self.api_key = secret(api_key)
        self.client_secret = secret(client_secret)
        self.refresh_token = secret(refresh_token)
        if oauth_flow not in kinds.OAUTH_FLOWS:
            raise ConfigError("oauth_flow", f"must be one of: {', '.join(kinds.OAUTH_FLOWS)}")
        self.oauth_flow = oauth_flow
        self.open_browser = callable_or_none(open_browser, "open_browser")
        self.prompt = callable_or_none(prompt, "prompt")
        proxy_secret = secret(proxy_password)
        self.cert_file, self.key_file = cert_file or None, key_file or None
        self.cert_password = secret(cert_password)
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
            cert_file=cert_file,
            key_file=key_file,
            cert_password=self.cert_password,
            allow_http_loopback=allow_http_loopback,
        )
        for problem in fields.check(values):
            if problem.severity == "error":
                raise problem.as_error()
        if token_placement not in ("header", "body", "query"):
            raise ConfigError("token_placement", "must be header, body or query")
        self.referer = referer or kinds.DEFAULT_REFERER
        self.referer_given = referer or None
        """The referer the user gave, if any (an API key is sent with no referer otherwise)."""
        self.expiration = kinds.DEFAULT_EXPIRATION if expiration in (None, "") else int(expiration)
        self.api_key_expires = optional_epoch(api_key_expires, "api_key_expires")
        self.token_placement = token_placement
        self.allow_http_loopback = allow_http_loopback
        self.clock: Clock = callable_or_none(clock, "clock") or system_clock
        self.signin_source: Optional[SigninSource] = callable_or_none(signin, "signin")
        self.row = kinds.kind_named(kind)
        self.url = root_url(self.row, url)
        self.server_url = normalise_server_url(server_url, "server_url") if server_url else None
        self.trusted_hosts = trusted_origins(trusted_hosts)
        self.http = HttpSettings(
            proxy=proxy or None,
            proxy_username=proxy_username or None,
            proxy_password=proxy_secret,
            use_system_proxy=use_system_proxy,
            verify=verify,
            ca_bundle=ca_bundle or None,
            timeout=timeout_pair(timeout),
            retries=retries_count(retries),
            allow_http_loopback=allow_http_loopback,
            **web_tier_settings(self.row, values, [self.url, self.server_url], self.trusted_hosts),
        )
        self.scope = Scope(
            self.url,
            trusted=self.trusted_hosts,
            online_hosted=self.row.online_hosted,
            probe=self._owning_system if self.row.federates else None,
        )
        self._lock = threading.RLock()
        self._server_locks: Dict[str, threading.Lock] = {}
        self._session: Optional[requests.Session] = None
        self._api_session: Optional[requests.Session] = None
        self._primary: Optional[TokenHandler] = None
        self._servers: Dict[str, TokenHandler] = {}
        self._listeners: List[Listener] = []
        self._auths: List[ArcGISAuth] = []
        self._cache: Optional[TokenCache] = None
        if cache:  # this module, like federation and the OAuth flow, loads when first used
            from .tokens.cache import TokenCache, default_directory

            self._cache = TokenCache(Path(cache_dir or default_directory()))

    def __repr__(self) -> str:
        who = self.username or self.client_id or ""
        return f"Connection(kind={self.kind!r}, url={self.url!r}, user={who!r})"

    # -- what callers use ---------------------------------------------------------------
    def token(self) -> str:
        """The current valid token string (for ``server_url`` when one was given).

        Raises:
            AuthenticationError: the credentials were refused (not retried: no lockout).
            NotFederatedError: ``server_url`` is not federated with the portal.
            TransportError: the network, proxy or TLS failed (after retries if safe).
            ArcGISServiceError: the token service answered with an error.
        """
        return self.token_info().value

    def token_info(self) -> Token:
        """The current valid Token, with its expiry, referer and audience.

        Raises:
            The same errors as :meth:`token`.
        """
        return self.handler().token()

    @property
    def target_url(self) -> str:
        """The portal or server the token from :meth:`token` is for."""
        return self.server_url or self.url

    def handler(self, server_url: Optional[str] = None) -> TokenHandler:
        """The TokenHandler for ``server_url`` (default: the connection's own target).

        Raises:
            ConfigError, NotFederatedError, TransportError: as :meth:`add_server`.
        """
        server = server_url or self.server_url
        if server:
            return self.add_server(server)
        return self._primary_handler()

    def session(self) -> requests.Session:
        """A new requests.Session whose requests to trusted hosts carry a fresh token.

        Raises (from its requests): the errors of :meth:`token` when a token is needed;
        requests' own exceptions for the request itself.
        """
        from .transport.auth import ArcGISAuth

        session = make_session(self.http)
        auth = ArcGISAuth(self._resolve, self.token_placement, self.allow_http_loopback)
        with self._lock:
            self._auths.append(auth)
        session.auth = auth
        return session

    def request_json(
        self, method: str, url: str, params: Optional[Dict[str, Any]] = None
    ) -> Dict[str, Any]:
        """Call an ArcGIS REST endpoint with the token; return its JSON or raise a typed error.

        Raises:
            ArcGISServiceError: ArcGIS answered with an error (InvalidTokenError,
                PermissionDeniedError...), after one retry with a fresh token on 498/499.
            TransportError, ResponseFormatError: the call failed or the reply was not JSON.
            The errors of :meth:`token`.
        """
        with self._lock:
            if self._api_session is None:
                self._api_session = self.session()
            session = self._api_session
        query = dict(params or {})
        query.setdefault("f", "json")
        upper = method.upper()
        try:
            response = call(
                session,
                upper,
                url,
                params=query if upper == "GET" else None,
                data=query if upper != "GET" else None,
                what=f"{upper} {url.split('?')[0]}",
            )
            return read_json(response, "request")
        except ArcTokenError as exc:  # frames below hold the token in request headers
            raise detached(exc) from None

    def add_server(self, server_url: str) -> TokenHandler:
        """Prove ``server_url`` is federated with this portal and return its token handler.

        Federation is proven by the server's own ``/rest/info`` ``owningSystemUrl``, compared
        with this portal as parsed host, port and path. The proof is asked outside the
        connection's lock, so requests for other audiences never wait for it.

        Raises:
            ConfigError: this kind has no portal, or the URL is malformed.
            NotFederatedError: the server names another portal, or none.
            TransportError: the server could not be asked.
        """
        root = normalise_server_url(server_url, "server_url")
        with self._lock:
            found = self._servers.get(root)
            gate = self._server_locks.setdefault(root, threading.Lock())
        if found is not None:
            return found
        with gate:  # one proof per server; other servers and the portal do not wait
            with self._lock:
                found = self._servers.get(root)
            if found is None:
                found = self._federated_handler(root)
                with self._lock:
                    self._servers[root] = found
            return found

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

    # -- for the sign-in modules ----------------------------------------------------------
    def http_session(self) -> requests.Session:
        """The plain session (no token) that sign-ins and discovery use."""
        with self._lock:
            if self._session is None:
                self._session = make_session(self.http)
            return self._session

    def new_handler(self, provider: TokenProvider) -> TokenHandler:
        """A TokenHandler for ``provider``, through the shared cache when it is on."""
        if self._cache is not None and self.row.cacheable:
            from .tokens.cache import CachedProvider, cache_key

            identity = [self.kind, self.url, self.username or self.client_id or "", self.referer]
            key = cache_key([*identity, provider.audience])
            secret = self.password or self.client_secret or self.api_key
            provider = CachedProvider(provider, self._cache, key, self.clock, secret)
        handler = TokenHandler(provider, self.clock)
        for listener in self._listeners:
            handler.add_listener(listener)
        return handler

    # -- construction of handlers ---------------------------------------------------------
    def _handlers(self) -> List[TokenHandler]:
        with self._lock:
            found = [self._primary] if self._primary is not None else []
            return found + list(self._servers.values())

    def _primary_handler(self) -> TokenHandler:
        with self._lock:
            if self._primary is None:
                deferred = DeferredProvider(lambda: provider_for(self), self.url)
                self._primary = self.new_handler(deferred)
            return self._primary

    def _federated_handler(self, root: str) -> TokenHandler:
        from .signin.federated import federated_provider  # only servers beside the portal

        return self.new_handler(federated_provider(self, self._primary_handler, root))

    def _owning_system(self, root: str) -> Optional[str]:
        from .signin.federated import owning_system

        return owning_system(self, root)

    # -- which token may go where -----------------------------------------------------------
    def _resolve(self, url: str) -> Optional[TokenHandler]:
        """The handler whose token ``url`` may receive, or None (the host is not trusted)."""
        with self._lock:
            roots = list(self._servers)
        root = self.scope.known_root(url, roots)
        if root is not None:
            return self._servers[root]
        if self.server_url and self.scope.known_root(url, [self.server_url]):
            return self.add_server(self.server_url)
        if self.scope.own(url) or self.scope.federated_root(url):
            return self._primary_handler()
        return None
