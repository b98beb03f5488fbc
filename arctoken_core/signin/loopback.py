"""The loopback redirect of OAuth user sign-in: a one-shot web server on 127.0.0.1.

The browser comes back to ``http://127.0.0.1:<port>/?code=...&state=...`` (RFC 8252 section
7.3). The server listens on an ephemeral port of the loopback interface only, accepts the one
redirect that carries this sign-in's ``state``, tells the user they can close the window, and
stops. Anything else (a stray request, another sign-in's state) is answered and ignored.
"""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Dict, Optional, Tuple, Type
from urllib.parse import parse_qs, urlsplit

from .pkce import same_state

__all__ = ["LoopbackReceiver"]

_HOST = "127.0.0.1"
_DONE_PAGE = (
    "Signed in",
    "You are signed in to ArcGIS. You can close this window and return to the program.",
)
_REFUSED_PAGE = (
    "Sign-in not completed",
    "The sign-in was not completed ({reason}). You can close this window.",
)
_STRANGER_PAGE = (
    "Unknown sign-in",
    "This page does not belong to the sign-in in progress. You can close this window.",
)


def _page(title: str, text: str) -> bytes:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(text)}</p></body></html>"
    ).encode()


class LoopbackReceiver:
    """Waits for the one browser redirect of a sign-in; use it as a context manager.

    :attr:`redirect_uri` is what the authorize request names; :meth:`wait` returns the
    redirect's query (``code`` or ``error``, and ``state``) once it has arrived.
    """

    def __init__(self, state: str) -> None:
        self._state = state
        self._arrived = threading.Event()
        self._result: Dict[str, str] = {}
        self._server = HTTPServer((_HOST, 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="oauth-loopback", daemon=True
        )
        self._thread.start()

    @property
    def redirect_uri(self) -> str:
        """``http://127.0.0.1:<port>/``, the address the browser is sent back to."""
        return f"http://{_HOST}:{self._server.server_address[1]}/"

    def wait(self, timeout: float) -> Optional[Dict[str, str]]:
        """The redirect's query parameters, or None when none came within ``timeout`` s."""
        if not self._arrived.wait(timeout):
            return None
        return dict(self._result)

    def close(self) -> None:
        """Stop listening (the port is released)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(2.0)

    def __enter__(self) -> LoopbackReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _accept(self, query: Dict[str, str]) -> Tuple[int, bytes]:
        """Judge one request's query: the status and page to answer it with."""
        if "code" not in query and "error" not in query:
            return 404, _page("Not found", "Nothing here.")
        if self._arrived.is_set() or not same_state(self._state, query.get("state", "")):
            return 400, _page(*_STRANGER_PAGE)
        self._result = query
        self._arrived.set()
        if "error" in query:
            title, text = _REFUSED_PAGE
            return 200, _page(title, text.format(reason=query["error"]))
        return 200, _page(*_DONE_PAGE)

    def _handler_class(self) -> Type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            """Answers the browser's redirect (GET only); logs nothing."""

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                parsed = parse_qs(urlsplit(self.path).query)
                query = {key: values[-1] for key, values in parsed.items()}
                status, body = receiver._accept(query)
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """The request line holds the code: never written anywhere."""

        return Handler
