"""The interactive half of OAuth user sign-in: the user signs in on the portal's own page.

Two ways back to this program, both with PKCE (S256):

- ``browser``: a browser opens the portal's sign-in page; the portal redirects to a one-shot
  server on ``http://127.0.0.1:<ephemeral port>/`` that checks ``state`` (RFC 8252).
- ``oob``: for machines without a browser, the authorize URL is shown, the user opens it
  anywhere, signs in, and pastes the code the portal shows (``urn:ietf:wg:oauth:2.0:oob``).

The password (and any SAML or MFA step) stays between the user and the portal: this program
only ever sees the single-use code.
"""

from __future__ import annotations

import sys
import webbrowser
from dataclasses import dataclass
from typing import Any, Callable, Optional
from urllib.parse import urlencode

from ..errors import AuthenticationError, ConfigError
from ..kinds import OAUTH_FLOWS
from ..secrets import get_logger
from .loopback import LoopbackReceiver
from .pkce import challenge, new_state, new_verifier

__all__ = [
    "FLOWS",
    "OOB_REDIRECT",
    "Authorization",
    "OpenBrowser",
    "Prompt",
    "authorize_url",
    "browser_authorization",
    "oob_authorization",
    "stdin_prompt",
]

log = get_logger(__name__)

OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
FLOWS = OAUTH_FLOWS
"""``oauth_flow`` values: the loopback redirect, or the pasted out-of-band code."""
SIGN_IN_WAIT = 300.0
"""Seconds the browser flow waits for the user to finish signing in."""

OpenBrowser = Callable[[str], Any]
"""``open_browser(url)``: show the page to the user (``webbrowser.open`` by default)."""
Prompt = Callable[[str], str]
"""``prompt(message)``: show ``message``, return what the user typed (the pasted code)."""


@dataclass(frozen=True)
class Authorization:
    """A finished sign-in page: the code and what redeeming it needs."""

    code: str
    """Single-use and short-lived, like the browser history that also holds it."""
    redirect_uri: str
    verifier: str


def authorize_url(portal: str, client_id: str, redirect_uri: str, verifier: str, state: str) -> str:
    """The portal's ``oauth2/authorize`` URL for an authorization code with PKCE S256."""
    query = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "code_challenge": challenge(verifier),
        "code_challenge_method": "S256",
        "state": state,
    }
    return f"{portal}/sharing/rest/oauth2/authorize?{urlencode(query)}"


def browser_authorization(
    portal: str,
    client_id: str,
    open_browser: Optional[OpenBrowser] = None,
    wait: float = SIGN_IN_WAIT,
) -> Authorization:
    """Open the sign-in page and wait for the portal's redirect to the loopback server.

    Raises:
        AuthenticationError: the user refused the app, or did not finish within ``wait`` s.
    """
    verifier, state = new_verifier(), new_state()
    with LoopbackReceiver(state) as receiver:
        url = authorize_url(portal, client_id, receiver.redirect_uri, verifier, state)
        _show(f"Sign in to ArcGIS in your browser. If no browser opened, open this URL:\n{url}")
        (open_browser or webbrowser.open)(url)
        query = receiver.wait(wait)
    if query is None:
        raise AuthenticationError(
            f"no sign-in arrived from the browser within {wait:.0f} s; sign in again, or use "
            "the out-of-band flow (oauth_flow='oob', or --oob) on a machine without a browser"
        )
    code = _code(query.get("code"), query.get("error"))
    return Authorization(code, receiver.redirect_uri, verifier)


def oob_authorization(
    portal: str, client_id: str, prompt: Optional[Prompt] = None
) -> Authorization:
    """Show the authorize URL and read the code the portal shows after sign-in.

    Raises:
        AuthenticationError: nothing was pasted.
    """
    verifier = new_verifier()
    url = authorize_url(portal, client_id, OOB_REDIRECT, verifier, new_state())
    message = f"Open this URL in any browser, sign in, and paste the code it shows:\n{url}\nCode: "
    pasted = (prompt or stdin_prompt)(message).strip()
    return Authorization(_code(pasted, None), OOB_REDIRECT, verifier)


def stdin_prompt(message: str) -> str:
    """Write ``message`` to stderr (stdout stays for output) and read one line of stdin."""
    sys.stderr.write(message)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        raise ConfigError("oauth_flow", "no code could be read: stdin is closed")
    return line.rstrip("\r\n")


def _code(code: Optional[str], error: Optional[str]) -> str:
    if error:
        raise AuthenticationError(
            f"the portal did not authorize the app ({error}): the sign-in was cancelled or "
            "refused; sign in again and choose to allow the app"
        )
    if not code:
        raise AuthenticationError("no authorization code was given; sign in again")
    return code


def _show(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
