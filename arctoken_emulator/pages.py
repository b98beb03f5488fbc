"""The HTML pages of OAuth user sign-in: the sign-in form, the out-of-band code, errors.

Like the real pages, the sign-in page carries the pending request as ``oauth_state`` (in a
``var oAuthInfo = {...};`` script and a hidden form field), and the out-of-band page names the
code in its title (``SUCCESS code=...``). Pages are ASCII and use no single quotes, so clients
that scrape them from a byte string's repr still read them.
"""

from __future__ import annotations

import html
import json
from typing import Dict

from .records import Response

HTML_TYPE = "text/html; charset=utf-8"
"""Content type of every page."""


def _page(title: str, body: str, status: int = 200) -> Response:
    text = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n{body}\n</body></html>\n"
    )
    data = text.encode("ascii", "xmlcharrefreplace")
    return Response(status=status, body=data, content_type=HTML_TYPE)


def signin_page(action: str, info: Dict[str, str], problem: str = "") -> Response:
    """The sign-in form: POSTs ``username``, ``password`` and ``oauth_state`` to ``action``;
    a ``cancel`` button refuses the app instead. ``problem`` is shown above the form."""
    script = json.dumps(info, separators=(",", ":")).replace("<", "\\u003c").replace("'", "\\u0027")
    state = html.escape(info["oauth_state"], quote=True)
    notice = f'<p id="error" role="alert">{html.escape(problem)}</p>' if problem else ""
    body = (
        f"<script>var oAuthInfo = {script};</script>\n"
        f"<h1>Sign in to {html.escape(info.get('appTitle', 'the application'))}</h1>"
        f"{notice}"
        f'<form id="oauth" method="post" action="{html.escape(action, quote=True)}">'
        f'<input type="hidden" name="oauth_state" value="{state}">'
        '<label>Username <input type="text" name="username" autocomplete="username"></label>'
        '<label>Password <input type="password" name="password" '
        'autocomplete="current-password"></label>'
        '<button type="submit" name="authorize" value="true">Sign In</button>'
        '<button type="submit" name="cancel" value="true">Cancel</button>'
        "</form>"
    )
    return _page("Sign In", body)


def code_page(code: str) -> Response:
    """The out-of-band result: the code to copy into the app, also in the title."""
    shown = html.escape(code)
    body = (
        "<p>Copy this code and paste it into the application:</p>"
        f'<input id="code" type="text" readonly value="{shown}">'
    )
    return _page(f"SUCCESS code={code}", body)


def approved_page() -> Response:
    """The out-of-band page of an implicit grant: the token is in the URL fragment."""
    return _page("SUCCESS", "<p>Signed in. The application reads the token from the URL.</p>")


def error_page(message: str, status: int = 400) -> Response:
    """A sign-in that cannot go on (unknown app, redirect URI not allowed, stale page)."""
    text = html.escape(message)
    return _page("Error", f'<h1>Error</h1><p id="error">Error: {text}</p>', status)
