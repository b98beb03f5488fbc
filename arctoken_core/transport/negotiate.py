"""Windows sign-in at the web tier: answering a web server's 401 Negotiate or NTLM challenge.

ArcGIS Enterprise behind IIS with Integrated Windows Authentication answers a request that
carries no Windows login with ``401`` and ``WWW-Authenticate: Negotiate`` (or ``NTLM``). The
answer goes on the same connection, since NTLM signs in a connection rather than a request,
through ``pyspnego`` (:mod:`.logon`, shared with the proxy's 407 answer): the current Windows
logon (SSPI) when no username is given, Kerberos where python-gssapi has a ticket, or NTLM
with an explicit ``DOMAIN\\user`` and password.

Only hosts the connection names (its URL, its server URL, its trusted hosts) get an answer: a
Windows login is never offered to any other host that asks for one.
"""

from __future__ import annotations

from typing import FrozenSet, Optional
from urllib.parse import urlsplit

import requests

from ..errors import AuthenticationError, ConfigError
from ..secrets import Secret, get_logger
from .logon import (
    Legs,
    Resend,
    WindowsLogin,
    exchange,
    have_pyspnego,
    header_values,
    offered,
    pyspnego_missing,
)

__all__ = ["MISSING", "NegotiateAuth", "negotiate_auth"]

log = get_logger(__name__)

MISSING = pyspnego_missing(
    "Windows sign-in",
    "inside ArcGIS Pro, leave the username empty: Pro then signs in with your Windows logon, "
    "nothing to install",
)


def negotiate_auth(
    hosts: FrozenSet[str], username: Optional[str], password: Optional[Secret]
) -> NegotiateAuth:
    """The web-tier answer for ``hosts``; ConfigError naming the package when it is missing."""
    if not have_pyspnego():
        raise ConfigError("kind", MISSING)
    return NegotiateAuth(hosts, username, password)


class NegotiateAuth:
    """Answers ``401 WWW-Authenticate: Negotiate|NTLM`` from ``hosts`` with a Windows login.

    ``username`` None means the current Windows logon (no password is held at all).
    """

    def __init__(
        self, hosts: FrozenSet[str], username: Optional[str], password: Optional[Secret]
    ) -> None:
        self.hosts = hosts
        self.login = WindowsLogin(username, password)

    def __repr__(self) -> str:
        return f"NegotiateAuth(user={self.login.username or 'current Windows logon'!r})"

    @property
    def who(self) -> str:
        """Whose login is offered, in words for a message."""
        return self.login.who

    def answer(self, response: requests.Response, resend: Resend) -> requests.Response:
        """The final response after answering ``response``'s challenge (itself if none).

        Raises:
            AuthenticationError: no Windows login could be produced (no logon, no ticket).
        """
        host = (urlsplit(response.request.url or "").hostname or "").lower()
        challenges = header_values(response.headers.get("WWW-Authenticate", ""))
        scheme = offered(challenges) if response.status_code == 401 else None
        if scheme is None or host not in self.hosts:
            return response
        handshake = self.login.handshake(scheme, host, self._refused, MISSING)
        replies = Legs(response, resend, "Authorization", 401)
        exchange(handshake, replies.leg)
        log.debug("answered %s's %s challenge (HTTP %s)", host, scheme, replies.last.status_code)
        return replies.final()

    def _refused(self, reason: str) -> AuthenticationError:
        return AuthenticationError(
            f"could not sign in with {self.who} ({reason}); sign in to Windows first, or give "
            "the username as DOMAIN\\user and its password"
        )
