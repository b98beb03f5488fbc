"""URL normalisation and comparison for portals and servers (parsed, never by regex).

Users paste every form of a URL: a bare host, a trailing slash, ``/sharing/rest``,
``/arcgis/rest/services/...``, ``/home/index.html``. These functions turn them into one root
per portal or server, and compare roots by their parsed host, port and path, so that
``https://evil.example/foo.arcgis.com`` never passes for ``foo.arcgis.com``.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

from .errors import ConfigError

ONLINE_URL = "https://www.arcgis.com"
DEFAULT_PORTS = {"http": 80, "https": 443}

_PORTAL_TAILS = ("/sharing/rest", "/sharing", "/home", "/apps")
_SERVER_TAILS = ("/rest/services", "/rest", "/admin", "/tokens", "/manager", "/services")

OriginKey = Tuple[str, int]
RootKey = Tuple[str, int, str]


def _split(raw: str, field: str) -> Tuple[str, str, str]:
    text = (raw or "").strip()
    if not text:
        raise ConfigError(field, "is empty; give a URL such as https://gis.example.com/portal")
    if any(c.isspace() for c in text):
        raise ConfigError(field, f"contains spaces: {text!r}; paste the URL without spaces")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ConfigError(field, f"is not a valid URL: {text!r}; check the host and port") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(field, f"must start with https:// (got {parts.scheme}://)")
    if not parts.hostname:
        raise ConfigError(field, f"has no host name: {text!r}")
    if parts.username or parts.password:
        raise ConfigError(field, "must not contain credentials; use the username field")
    origin_key(text, field)  # the host requests will connect to, and only that one
    netloc = parts.hostname.lower()
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if port is not None:
        netloc += f":{port}"
    return parts.scheme, netloc, parts.path


def _cut(path: str, tails: Tuple[str, ...]) -> str:
    lowered = path.lower()
    for tail in tails:
        index = lowered.find(tail)
        if index >= 0 and (len(lowered) == index + len(tail) or lowered[index + len(tail)] == "/"):
            return path[:index]
    return path


def normalise_portal_url(raw: Optional[str], field: str = "url") -> str:
    """The portal root (``https://host/portal`` or ``https://org.maps.arcgis.com``)."""
    scheme, netloc, path = _split(raw or ONLINE_URL, field)
    path = _cut(path, _PORTAL_TAILS).rstrip("/")
    return urlunsplit((scheme, netloc, path, "", ""))


def normalise_server_url(raw: Optional[str], field: str = "url") -> str:
    """The server root (``https://host/arcgis``); a bare host gets the default ``/arcgis``."""
    scheme, netloc, path = _split(raw or "", field)
    path = _cut(path, _SERVER_TAILS).rstrip("/")
    if not path:
        path = "/arcgis"
    return urlunsplit((scheme, netloc, path, "", ""))


def origin_key(url: str, field: str = "url") -> OriginKey:
    """(host, port) requests will connect to for a URL, with the scheme's default port.

    The host is compared as requests sends it: lower-case and IDNA-encoded (``xn--...``).
    urllib3 (what requests uses) ends the host part at a backslash, where Python's
    ``urlsplit`` does not, so ``http://OTHER\\@OWN/`` is OWN to one and OTHER to the other:
    a URL whose host part the two read differently, one with a user name or password, or
    one whose host has an empty label is a ConfigError naming ``field``, as is an unparsable
    one. A same-host check must never see one host while requests connects to another.

    Only the URL up to the end of its host part decides (see ``_through_authority``), so the
    answer for that part is remembered: every request asks, often three times over, and for
    a URL with ``scheme://`` neither its path nor its query (which may hold a token) is kept
    or shown in an error.
    """
    return _origin_of(_through_authority(url), field)


_AUTHORITY_END = re.compile(r"[/\\?#]")
"""Where a host part ends, for urllib3 (``_wire_authority``) or for ``urlsplit``."""


def _through_authority(url: str) -> str:
    """``url`` up to and including the first ``/ \\ ? #`` after ``scheme://`` (all of it
    without one): both parsers' host parts, and whatever tells them apart, lie within."""
    start = url.find("://")
    if start < 0:
        return url
    end = _AUTHORITY_END.search(url, start + 3)
    return url[: end.end()] if end else url


@functools.lru_cache(maxsize=256)
def _origin_of(url: str, field: str) -> OriginKey:
    """``origin_key`` of a URL cut by ``_through_authority`` (errors are not remembered)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(field, f"is not a valid URL: {url[:200]!r}") from None
    if parts.netloc != _wire_authority(url):
        raise ConfigError(
            field, f"is read as two different hosts by different parsers: {url[:200]!r}"
        )
    if "@" in parts.netloc:
        raise ConfigError(field, "must not contain a user name or password before the host")
    host = wire_host(parts.hostname or "", field)
    return host, port or DEFAULT_PORTS.get(parts.scheme, 0)


def _wire_authority(url: str) -> str:
    """The host part as urllib3's ``parse_url`` cuts it: up to the first ``/ \\ ? #``."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        return urlsplit(url).netloc
    end = min((i for i in map(rest.find, "/\\?#") if i >= 0), default=len(rest))
    return rest[:end]


def wire_host(host: str, field: str = "url") -> str:
    """``host`` as it goes on the wire: lower-case, IDNA-encoded, every label non-empty."""
    name = host.strip("[]").lower()
    if ":" in name or not name:
        return name  # an IPv6 address, or no host at all
    if any(not label for label in name.rstrip(".").split(".")):
        raise ConfigError(field, f"has an empty label in its host name {host!r}; check the dots")
    if name.isascii():
        return name
    import idna  # lazily, as requests does: the toolbox loads without site-packages

    try:
        return idna.encode(name, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise ConfigError(field, f"has a host name that is not a valid IDN: {host!r}") from None


def display_origin(url: Optional[str]) -> str:
    """``scheme://host[:port]`` of a URL for a message: no userinfo, path or query (no token)."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError:
        return "an unreadable address"
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")


def root_key(url: str) -> RootKey:
    """(host, port, path) of a root, scheme-less, for comparing owningSystemUrl and friends.

    Without an explicit port both http and https count as the same default port, because
    ArcGIS often reports ``http://`` for an https-only portal.
    """
    try:
        parts = urlsplit(url if "://" in url else "https://" + url)
        port = parts.port if parts.port not in (None, 80, 443) else 0
    except ValueError:
        raise ConfigError("url", f"is not a valid URL: {url[:200]!r}") from None
    host = (parts.hostname or "").lower()
    path = _cut(parts.path, _PORTAL_TAILS).rstrip("/").lower()
    return host, port or 0, path


def same_root(a: str, b: str) -> bool:
    """True when two URLs name the same portal or server root."""
    return root_key(a) == root_key(b)


def is_under(url: str, root: str) -> bool:
    """True when ``url`` is ``root`` or below it (same origin, path prefix on a / boundary)."""
    if origin_key(url) != origin_key(root):
        return False
    path = urlsplit(url).path.lower().rstrip("/") + "/"
    base = urlsplit(root).path.lower().rstrip("/") + "/"
    return path.startswith(base)


@functools.lru_cache(maxsize=256)
def is_loopback(host: Optional[str]) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the only hosts plain http may reach
    (remembered per host: every plain-http request asks)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
