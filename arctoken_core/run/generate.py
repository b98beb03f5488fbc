"""Generate Token's core: sign in once, say who signed in where until when, write the file.

An API key given without an expiry has none: it is shown as ``no expiry`` and written with
``expires`` null, never with a made-up date.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Dict, NamedTuple, Optional

from ..secrets import mask_token
from ..signin.webtier import certificate_words
from ..transport.logon import login_words
from .outputs import write_output
from .reporting import Reporter, SafeReporter, expiry_of, forward_logs, local_time

if TYPE_CHECKING:
    from ..connection import Connection
    from ..tokens.token import Token

__all__ = ["IssuedToken", "expiry_of", "issue_token", "issued_document", "who"]


class IssuedToken(NamedTuple):
    """Generate Token's outputs; ``expires_at`` is None for an API key without an expiry."""

    value: str
    expires_at: Optional[float]
    referer: Optional[str]
    url: str
    token_file: Optional[str] = None

    def __repr__(self) -> str:
        return (  # never the token itself
            f"IssuedToken(expires_at={self.expires_at!r}, referer={self.referer!r}, "
            f"url={self.url!r}, token_file={self.token_file!r})"
        )

    @property
    def expires_local(self) -> Optional[dt.datetime]:
        """The expiry as a naive local datetime (how ArcGIS Pro shows dates), or None.

        None too for an instant local time cannot show (year 9999 east of UTC).
        """
        if self.expires_at is None:
            return None
        try:
            return dt.datetime.fromtimestamp(self.expires_at)
        except (OverflowError, OSError, ValueError):
            return None


def who(conn: Connection) -> str:
    """Who signs in, for messages: the user, the app, the key, Pro's user, the certificate or
    the Windows login."""
    if conn.row.web_tier == "certificate":
        return certificate_words(conn.cert_file)
    if conn.row.web_tier == "windows":
        return login_words(conn.username)
    if conn.kind == "pro":
        return "ArcGIS Pro's signed-in user"
    if conn.kind == "apikey":
        return "an API key"
    if conn.kind == "app":
        return f"app {conn.client_id}"
    return str(conn.username)


def issued_document(conn: Connection, token: Token) -> Dict[str, Any]:
    """The token file's (and ``arctoken token --json``'s) content, ``expires`` null when none.

    ``token``, ``expires`` (epoch milliseconds), ``expires_iso``, ``referer`` and ``url``.
    """
    from ..tokens.token import token_document

    document = token_document(token, conn.target_url)
    if expiry_of(conn, token) is None:
        document.update(expires=None, expires_iso=None)
    return document


def issue_token(
    conn: Connection, reporter: Reporter, token_file: Optional[str] = None
) -> IssuedToken:
    """Sign in, report who signed in where and until when, and write the token file if asked.

    A token file that cannot be written is a ConfigError naming ``token_file``.
    """
    safe = SafeReporter(reporter)
    with forward_logs(safe):
        token = conn.token_info()
    expires = expiry_of(conn, token)
    safe.info(
        f"Signed in to {conn.target_url} as {who(conn)}: token {mask_token(token.value)} "
        f"{_validity(expires, conn.clock())}."
    )
    written = None
    if token_file:
        written = write_output(token_file, issued_document(conn, token), "token_file")
        safe.info(f"Token written to {written} (readable only by you).")
    return IssuedToken(token.value, expires, token.referer, conn.target_url, written)


def _validity(expires: Optional[float], now: float) -> str:
    if expires is None:
        return "with no expiry"
    minutes = (expires - now) / 60
    return f"valid until {local_time(expires)} ({minutes:.0f} minutes from now)"
