"""Windows logins (NTLM/Negotiate through ``pyspnego``), for a web server's 401 and a proxy's 407.

One logon choice for both: an explicit ``DOMAIN\\user`` and password, or, with no username,
the current Windows logon (SSPI on Windows; elsewhere pyspnego's Kerberos ticket or the
``NTLM_USER_FILE`` credentials). A challenge (``WWW-Authenticate`` or ``Proxy-Authenticate``)
names the schemes offered; :func:`exchange` runs the legs of the handshake (NTLM takes two
round trips, Kerberos one) through a caller's ``leg`` that sends one header on the connection
being signed in, and reads the next challenge.
"""

from __future__ import annotations

import base64
import struct
from typing import Any, Callable, List, Optional, Sequence

import requests

from ..errors import ArcTokenError
from ..secrets import Secret

__all__ = [
    "SCHEMES",
    "Handshake",
    "Leg",
    "Legs",
    "Resend",
    "WindowsLogin",
    "challenge",
    "drain",
    "exchange",
    "have_pyspnego",
    "header_values",
    "login_words",
    "offered",
    "pyspnego_missing",
    "scheme_names",
]

SCHEMES = ("Negotiate", "NTLM")
"""In the order we prefer them when a server or proxy offers both."""
MAX_LEGS = 4
"""NTLM takes two round trips, Kerberos one; more means the other side is looping."""

Fail = Callable[[str], ArcTokenError]
"""Makes the error for a login that cannot be produced (AuthenticationError, ProxyError)."""
Resend = Callable[[requests.PreparedRequest], requests.Response]
"""Sends a request on the adapter whose connection is being signed in."""
Leg = Callable[[str], Optional[List[str]]]
"""Sends one leg (an ``Authorization``-style header value) on the connection being signed in;
returns the next challenge's header values, or None once the other side stops challenging."""


def pyspnego_missing(what: str, inside_pro: str) -> str:
    """The one message for a missing pyspnego: ``what`` needs it, and how ArcGIS Pro fares."""
    return f"{what} needs the 'pyspnego' package: pip install pyspnego ({inside_pro})"


def have_pyspnego() -> bool:
    """True when pyspnego can be imported (it is optional: only Windows sign-in needs it)."""
    try:
        import spnego  # noqa: F401, PLC0415 - optional
    except ImportError:
        return False
    return True


def login_words(username: Optional[str]) -> str:
    """Whose Windows login is offered, in words for a message."""
    return f"Windows account '{username}'" if username else "your Windows logon"


def header_values(raw: str) -> List[str]:
    """Every challenge in a header, whether sent as several headers or one joined line."""
    return [value.strip() for value in raw.split(",") if value.strip()]


def scheme_names(values: Sequence[str]) -> List[str]:
    """The schemes the challenge ``values`` name, lower case (``realm=...`` parts skipped)."""
    words = [value.split(" ")[0] for value in values]
    return [word.lower() for word in words if word and "=" not in word]


def offered(values: Sequence[str], schemes: Sequence[str] = SCHEMES) -> Optional[str]:
    """The first of ``schemes`` (our preference) that the challenge ``values`` offer, or None."""
    names = set(scheme_names(values))
    return next((s for s in schemes if s.lower() in names), None)


def challenge(values: Sequence[str], scheme: str) -> Optional[bytes]:
    """The other side's token for ``scheme`` (``NTLM <base64>``), if the values carry one."""
    for value in values:
        name, _, data = value.partition(" ")
        if name.lower() == scheme.lower() and data.strip():
            try:
                return base64.b64decode(data.strip(), validate=True)
            except ValueError:
                return None
    return None


class WindowsLogin:
    """A Windows login: ``username`` (``DOMAIN\\user``) and password, or the current logon.

    ``username`` None means the current Windows logon (no password is held at all).
    """

    def __init__(self, username: Optional[str], password: Optional[Secret]) -> None:
        self.username = username or None
        self.password = password if self.username else None

    def __repr__(self) -> str:
        return f"WindowsLogin(user={self.username or 'current Windows logon'!r})"

    @property
    def who(self) -> str:
        """Whose login is offered, in words for a message."""
        return login_words(self.username)

    def handshake(self, scheme: str, host: str, fail: Fail, missing: str) -> Handshake:
        """A fresh handshake for ``scheme`` with ``host``; ``fail(missing)`` if pyspnego is not
        installed, ``fail(reason)`` if no login can be produced (no logon, no ticket)."""
        try:
            import spnego  # noqa: PLC0415 - optional: only Windows sign-in needs it
        except ImportError:
            raise fail(missing) from None
        password = self.password.reveal() if self.password else None
        context = _spnego(
            lambda: spnego.client(
                self.username, password, hostname=host, service="HTTP", protocol=scheme.lower()
            ),
            fail,
        )
        return Handshake(scheme, context, fail)


class Handshake:
    """One pyspnego client context: each leg's header value, from the other side's token."""

    def __init__(self, scheme: str, context: Any, fail: Fail) -> None:
        self.scheme = scheme
        self.context = context
        self.fail = fail

    @property
    def complete(self) -> bool:
        """True once the context needs no more tokens."""
        return bool(self.context.complete)

    def header(self, token: Optional[bytes]) -> str:
        """The next leg's ``<scheme> <base64>`` value; ``fail(reason)`` if none can be made."""
        out: Optional[bytes] = _spnego(lambda: self.context.step(token), self.fail)
        return f"{self.scheme} {base64.b64encode(out or b'').decode()}"


def _spnego(call: Callable[[], Any], fail: Fail) -> Any:
    """``call()`` into pyspnego; its error (no logon, no ticket, a malformed challenge) as
    ``fail``'s."""
    from spnego.exceptions import SpnegoError  # noqa: PLC0415 - present: handshake() checked

    try:
        return call()
    except SpnegoError as exc:
        raise fail(exc.message or "no Windows credentials") from None
    except (ValueError, struct.error):  # a token pyspnego cannot parse
        raise fail("the server's challenge could not be read") from None


def exchange(handshake: Handshake, leg: Leg) -> bool:
    """Run the legs of ``handshake`` through ``leg``; True once the other side stops challenging.

    False when it still challenges after the context is complete, without a token to go on,
    or after too many legs: the login was refused.
    """
    token: Optional[bytes] = None
    for _ in range(MAX_LEGS):
        values = leg(handshake.header(token))
        if values is None:
            return True
        token = challenge(values, handshake.scheme)
        if token is None or handshake.complete:
            return False
    return False


class Legs:
    """The legs of a handshake answered by re-sending ``first``'s request with ``header`` set.

    ``challenged`` is the status that asks for another leg (401 from a server, 407 from a
    proxy); each challenge's body is read first, so its connection carries the next leg.
    """

    def __init__(
        self, first: requests.Response, resend: Resend, header: str, challenged: int
    ) -> None:
        self.last = first
        self.history: List[requests.Response] = []
        self._resend = resend
        self._header = header
        self._challenged = challenged
        self._name = "WWW-Authenticate" if challenged == 401 else "Proxy-Authenticate"

    def leg(self, value: str) -> Optional[List[str]]:
        """Send one leg; the next challenge's values, or None when not challenged again."""
        request = self.last.request.copy()
        request.headers[self._header] = value
        drain(self.last)
        self.history.append(self.last)
        self.last = self._resend(request)
        if self.last.status_code != self._challenged:
            return None
        return header_values(self.last.headers.get(self._name, ""))

    def final(self) -> requests.Response:
        """The last reply, with the challenges before it as its history."""
        self.last.history = self.history + list(self.last.history)
        return self.last


def drain(response: requests.Response) -> None:
    """Read a challenge's body so its connection goes back to the pool for the next leg."""
    _ = response.content
    response.close()
