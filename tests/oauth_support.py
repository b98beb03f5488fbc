"""A "browser" for OAuth user sign-in tests: requests driving the emulator's sign-in page.

It reads the page the way a person's browser shows it (the form and its hidden
``oauth_state``), posts the username and password, and follows the portal's redirect, over
real sockets, to the loopback server, or to the out-of-band page showing the code.
"""

from __future__ import annotations

import html
import re
from typing import Callable, Iterator, List, Optional
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from arctoken_core.clock import ManualClock
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD

CLIENT = "native-app-id"
OAUTH_LIFETIME = 600.0
REFRESH_LIFETIME = 7200.0


@pytest.fixture
def oauth_emu(clock: ManualClock) -> Iterator[Emulator]:
    """An emulator with one native app: 10-minute access tokens, 2-hour refresh tokens."""
    with Emulator(
        users={ALICE: ALICE_PASSWORD},
        token_lifetime=OAUTH_LIFETIME,
        oauth_token_lifetime=OAUTH_LIFETIME,
        refresh_token_lifetime=REFRESH_LIFETIME,
        clock=clock,
        apps={CLIENT: "unused-native-secret"},
    ) as emulator:
        yield emulator


def _find(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    assert found is not None, text[:400]
    return html.unescape(found.group(1))


class Browser:
    """Opens the authorize URL, signs in (or cancels), follows redirects; counts its visits."""

    def __init__(self, password: str = ALICE_PASSWORD, cancel: bool = False) -> None:
        self.password = password
        self.cancel = cancel
        self.opened: List[str] = []
        self.landed: List[requests.Response] = []

    def __call__(self, url: str) -> bool:
        """``open_browser``: do what a person does on the sign-in page."""
        self.opened.append(url)
        with requests.Session() as session:
            session.trust_env = False
            page = session.get(url, timeout=10)
            action = _find(r'<form id="oauth" method="post" action="([^"]+)"', page.text)
            form = {
                "oauth_state": _find(r'name="oauth_state" value="([^"]+)"', page.text),
                "username": ALICE,
                "password": self.password,
            }
            form.update({"cancel": "true"} if self.cancel else {"authorize": "true"})
            self.landed.append(session.post(action, data=form, timeout=10))
        return True

    def paste(self, message: str) -> str:
        """``prompt`` of the out-of-band flow: open the URL shown, sign in, copy the code."""
        self(_find(r"(https?://\S+oauth2/authorize\S+)", message))
        return _find(r"<title>SUCCESS code=([^<]+)</title>", self.landed[-1].text)


def stray_visit(redirect_uri: str, state: str, code: str = "not-the-code") -> requests.Response:
    """A request to the loopback server that is not the portal's redirect for this sign-in."""
    return requests.get(redirect_uri, params={"code": code, "state": state}, timeout=10)


def query_of(url: str) -> dict[str, str]:
    """A URL's query parameters (the last value of each)."""
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def no_browser(url: str) -> bool:
    """``open_browser`` on a machine without one: nothing happens."""
    return False


OpenBrowser = Callable[[str], Optional[bool]]
