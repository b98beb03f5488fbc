"""Windows sign-in at the web tier: answering a web server's 401 Negotiate or NTLM challenge.

ArcGIS Enterprise behind IIS with Integrated Windows Authentication answers a request that
carries no Windows login with ``401`` and ``WWW-Authenticate: Negotiate`` (or ``NTLM``). The
answer goes on the same connection, since NTLM signs in a connection rather than a request,
through ``pyspnego``: the current Windows logon (SSPI) when no username is given, Kerberos
where python-gssapi has a ticket, or NTLM with an explicit ``DOMAIN\\user`` and password.

Only hosts the connection names (its URL, its server URL, its trusted hosts) get an answer: a
Windows login is never offered to any other host that asks for one.
"""

from __future__ import annotations

import base64
from typing import Any, Callable, FrozenSet, List, Optional
from urllib.parse import urlsplit

import requests

from ..errors import AuthenticationError, ConfigError
from ..secrets import Secret, get_logger

__all__ = ["NegotiateAuth", "login_words", "negotiate_auth"]

log = get_logger(__name__)

Resend = Callable[[requests.PreparedRequest], requests.Response]
_SCHEMES = ("Negotiate", "NTLM")
"""In the order we prefer them when a server offers both."""
_MAX_LEGS = 4
"""NTLM takes two round trips, Kerberos one; more means the server is looping."""
MISSING = (
    "Windows sign-in needs the 'pyspnego' package: pip install pyspnego (inside ArcGIS Pro, "
    "the toolbox uses Pro's own sign-in and needs nothing more)"
)


def negotiate_auth(
    hosts: FrozenSet[str], username: Optional[str], password: Optional[Secret]
) -> NegotiateAuth:
    """The web-tier answer for ``hosts``; ConfigError naming the package when it is missing."""
    try:
        import spnego  # noqa: F401, PLC0415 - optional: only Windows sign-in needs it
    except ImportError:
        raise ConfigError("kind", MISSING) from None
    return NegotiateAuth(hosts, username, password)


class NegotiateAuth:
    """Answers ``401 WWW-Authenticate: Negotiate|NTLM`` from ``hosts`` with a Windows login.

    ``username`` None means the current Windows logon (no password is held at all).
    """

    def __init__(
        self, hosts: FrozenSet[str], username: Optional[str], password: Optional[Secret]
    ) -> None:
        self.hosts = hosts
        self.username = username
        self.password = password

    def __repr__(self) -> str:
        return f"NegotiateAuth(user={self.username or 'current Windows logon'!r})"

    @property
    def who(self) -> str:
        """Whose login is offered, in words for a message."""
        return login_words(self.username)

    def answer(self, response: requests.Response, resend: Resend) -> requests.Response:
        """The final response after answering ``response``'s challenge (itself if none).

        Raises:
            AuthenticationError: no Windows login could be produced (no logon, no ticket).
        """
        host = (urlsplit(response.request.url or "").hostname or "").lower()
        scheme = _offered(response) if response.status_code == 401 else None
        if scheme is None or host not in self.hosts:
            return response
        context = self._context(scheme, host)
        token = _step(context, None, self.who)
        history: List[requests.Response] = []
        for _ in range(_MAX_LEGS):
            request = response.request.copy()
            request.headers["Authorization"] = f"{scheme} {base64.b64encode(token).decode()}"
            _drain(response)
            history.append(response)
            response = resend(request)
            challenge = _challenge(response, scheme)
            if response.status_code != 401 or not challenge or context.complete:
                break
            token = _step(context, challenge, self.who)
        response.history = history + list(response.history)
        log.debug("answered %s's %s challenge (HTTP %s)", host, scheme, response.status_code)
        return response

    def _context(self, scheme: str, host: str) -> Any:
        import spnego  # noqa: PLC0415 - present: checked by negotiate_auth

        password = self.password.reveal() if self.password else None
        return spnego.client(
            self.username, password, hostname=host, service="HTTP", protocol=scheme.lower()
        )


def login_words(username: Optional[str]) -> str:
    """Whose Windows login is offered, in words for a message."""
    return f"Windows account {username!r}" if username else "your Windows logon"


def _offered(response: requests.Response) -> Optional[str]:
    """The scheme we prefer among those the 401 offers, or None."""
    offered = {part.strip().split(" ")[0].lower() for part in _header_values(response)}
    return next((s for s in _SCHEMES if s.lower() in offered), None)


def _challenge(response: requests.Response, scheme: str) -> Optional[bytes]:
    """The server's token for ``scheme`` (``WWW-Authenticate: NTLM <base64>``), if any."""
    for value in _header_values(response):
        name, _, data = value.strip().partition(" ")
        if name.lower() == scheme.lower() and data.strip():
            try:
                return base64.b64decode(data.strip(), validate=True)
            except ValueError:
                return None
    return None


def _header_values(response: requests.Response) -> List[str]:
    """Every ``WWW-Authenticate`` value, whether sent as several headers or one joined line."""
    raw = response.headers.get("WWW-Authenticate", "")
    return [value for value in raw.split(",") if value.strip()]


def _step(context: Any, token: Optional[bytes], who: str) -> bytes:
    from spnego.exceptions import SpnegoError  # noqa: PLC0415

    try:
        out: Optional[bytes] = context.step(token)
    except SpnegoError as exc:
        raise AuthenticationError(
            f"could not sign in with {who} ({exc.message or 'no Windows credentials'}); "
            "sign in to Windows first, or give the username as DOMAIN\\user and its password"
        ) from None
    return out or b""


def _drain(response: requests.Response) -> None:
    """Read the 401's body so its connection goes back to the pool for the next leg."""
    _ = response.content
    response.close()
