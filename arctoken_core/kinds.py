"""The kinds of connection: one row each, the only table that knows them.

Connection, validation, the CLI and the toolbox all read these rows; nothing else branches on
a kind's name. Adding a kind means one row here and one module in :mod:`arctoken_core.signin`
whose ``build(conn)`` returns its token provider (see :func:`arctoken_core.signin.factory.
provider_for`). The module is data only: ArcGIS Pro imports it when it loads the toolbox.
"""

from __future__ import annotations

from typing import Dict, NamedTuple, Tuple

from .urls import ONLINE_URL

__all__ = [
    "DEFAULT_EXPIRATION",
    "DEFAULT_REFERER",
    "FEDERATING_KINDS",
    "KINDS",
    "KIND_LABELS",
    "MAX_EXPIRATION",
    "MIN_EXPIRATION",
    "ONLINE_URL",
    "PASSWORD_KINDS",
    "Kind",
    "kind_named",
    "kinds_using",
]

MIN_EXPIRATION, MAX_EXPIRATION = 1, 20160
"""Minutes; 20,160 (14 days) is the largest lifetime any ArcGIS token service grants."""
DEFAULT_EXPIRATION = 60
DEFAULT_REFERER = "arctokentools"
OAUTH_FLOWS = ("browser", "oob")
"""``oauth_flow`` values: the loopback redirect, or the pasted out-of-band code."""


class Kind(NamedTuple):
    """One way of connecting: what it is called, what it needs, and who signs in for it."""

    name: str
    """``Connection(kind=...)``."""
    label: str
    """The toolbox's Connection Type choice."""
    fields: Tuple[str, ...]
    """Connection fields this kind uses; the toolbox shows only these."""
    required: Tuple[Tuple[str, str], ...]
    """(field, what to give) pairs that must be filled in."""
    root: str
    """``portal`` or ``server``: how ``url`` is normalised."""
    default_url: str
    """Used when no URL is given; ``""`` means the URL is required (``pro``: Pro's portal)."""
    provider: str
    """``module:function`` in :mod:`arctoken_core.signin` building this kind's provider."""
    federates: bool = False
    """Whether ``server_url`` and federated servers may be used."""
    cacheable: bool = True
    """Whether its tokens may be shared through the cross-process cache."""
    online_hosted: bool = False
    """Whether its token also opens ArcGIS Online's hosted services (``*.arcgis.com``)."""
    refreshable: bool = True
    """False for a static token (an API key): it cannot be renewed when it expires."""
    url_example: str = "https://gis.example.com/portal"
    """Shown when a required URL is missing."""
    web_tier: str = ""
    """Who signs the user in before ArcGIS does: ``certificate`` (PKI) or ``windows`` (IWA)
    for a portal whose web server authenticates users; ``""`` when ArcGIS itself does."""


_USER = ("username", "the account's username")
_PASSWORD = ("password", "the password")
_TOKEN = ("expiration", "referer")
_PROXY_TLS = (
    "proxy",
    "proxy_username",
    "proxy_password",
    "use_system_proxy",
    "verify",
    "ca_bundle",
)
_ROWS = (
    Kind(
        "online",
        "ArcGIS Online",
        ("url", "username", "password", *_TOKEN, "server_url", *_PROXY_TLS),
        (_USER, _PASSWORD),
        "portal",
        ONLINE_URL,
        "password:build_portal",
        federates=True,
        online_hosted=True,
    ),
    Kind(
        "portal",
        "ArcGIS Enterprise portal",
        ("url", "username", "password", *_TOKEN, "server_url", *_PROXY_TLS),
        (("url", "the portal URL"), _USER, _PASSWORD),
        "portal",
        "",
        "password:build_portal",
        federates=True,
    ),
    Kind(
        "server",
        "ArcGIS Server (standalone)",
        ("url", "username", "password", *_TOKEN, *_PROXY_TLS),
        (("url", "the server URL"), _USER, _PASSWORD),
        "server",
        "",
        "password:build_server",
        url_example="https://gis.example.com/arcgis",
    ),
    Kind(
        "pro",
        "ArcGIS Pro active portal",
        ("url", "referer", "server_url", *_PROXY_TLS),
        (),
        "portal",
        "",
        "pro:build",
        federates=True,
        cacheable=False,
    ),
    Kind(
        "apikey",
        "API key",
        ("url", "api_key", "referer", *_PROXY_TLS),
        (("api_key", "the API key"),),
        "portal",
        ONLINE_URL,
        "apikey:build",
        cacheable=False,
        online_hosted=True,
        refreshable=False,
    ),
    Kind(
        "app",
        "App credentials",
        ("url", "client_id", "client_secret", "expiration", *_PROXY_TLS),
        (("client_id", "the app's client ID"), ("client_secret", "the app's client secret")),
        "portal",
        ONLINE_URL,
        "app:build",
        online_hosted=True,
    ),
    Kind(
        "user_oauth",
        "ArcGIS sign-in (browser, OAuth)",
        ("url", "client_id", "server_url", *_PROXY_TLS),
        (("client_id", "the client ID of an app registered in the portal"),),
        "portal",
        ONLINE_URL,
        "oauth_user:build",
        federates=True,
        cacheable=False,
        online_hosted=True,
    ),
    Kind(
        "pki",
        "ArcGIS Enterprise portal (PKI certificate)",
        ("url", "cert_file", "key_file", "cert_password", *_TOKEN, "server_url", *_PROXY_TLS),
        (("url", "the portal URL"), ("cert_file", "the client certificate (.pfx, .p12 or .pem)")),
        "portal",
        "",
        "pki:build",
        federates=True,
        cacheable=False,
        web_tier="certificate",
    ),
    Kind(
        "iwa",
        "ArcGIS Enterprise portal (Windows sign-in)",
        ("url", "username", "password", *_TOKEN, "server_url", *_PROXY_TLS),
        (("url", "the portal URL"),),
        "portal",
        "",
        "iwa:build",
        federates=True,
        cacheable=False,
        web_tier="windows",
    ),
    Kind(
        "profile",
        "Saved profile",
        ("profile",),
        (("profile", "the name of a profile saved with: arctoken login --profile NAME"),),
        "portal",
        "",
        "profile:build",
        cacheable=False,
    ),
)

KINDS: Dict[str, Kind] = {row.name: row for row in _ROWS}
"""Every kind by name, in the order the toolbox lists them."""
KIND_LABELS: Dict[str, str] = {row.name: row.label for row in _ROWS}


def kind_named(name: str) -> Kind:
    """The row for ``name``; KeyError for an unknown kind (validation reports it first)."""
    return KINDS[name]


def kinds_using(field: str) -> Tuple[str, ...]:
    """The kinds whose connections use ``field`` (the toolbox enables it only for them)."""
    return tuple(row.name for row in _ROWS if field in row.fields)


PASSWORD_KINDS = kinds_using("password")
FEDERATING_KINDS = tuple(row.name for row in _ROWS if row.federates)
