"""PKI sign-in: the portal's web server authenticates the user by a client certificate.

The certificate (PEM certificate and key, or a PKCS#12 .pfx/.p12 file) is shown on every TLS
connection the Connection makes (:mod:`arctoken_core.transport.tls_store`); the portal's
``generateToken`` then issues a token for the certificate's user, with no password sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import TokenProvider
from .webtier import certificate_words, provider

if TYPE_CHECKING:
    from ..connection import Connection

__all__ = ["build"]


def build(conn: Connection) -> TokenProvider:
    """Kind ``pki``: a token for the user whose certificate the web tier accepted."""
    return provider(conn, certificate_words(conn.cert_file))
