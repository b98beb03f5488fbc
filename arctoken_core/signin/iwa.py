"""Integrated Windows Authentication: the portal's web server signs the user in with Windows.

The Windows login (the current logon, or an explicit ``DOMAIN\\user`` and password) answers
the web server's Negotiate/NTLM challenge on every connection
(:mod:`arctoken_core.transport.negotiate`, with :mod:`arctoken_core.transport.logon`); the
portal's ``generateToken`` then issues a token for that user, with no password in any form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..transport.logon import login_words
from .base import TokenProvider
from .webtier import provider

if TYPE_CHECKING:
    from ..connection import Connection

__all__ = ["build"]


def build(conn: Connection) -> TokenProvider:
    """Kind ``iwa``: a token for the Windows user the web tier signed in."""
    return provider(conn, login_words(conn.username))
