"""A proxy.py plugin that writes one line per request it forwards (for proxy tests).

proxy.py's own access log has one line per client connection; with keep-alive that hides
requests. This records ``METHOD host:port path`` for each request to the file named by the
ARCTOKEN_TEST_PROXY_LOG environment variable of the proxy process.
"""

from __future__ import annotations

import os
from typing import Optional

from proxy.http.parser import HttpParser
from proxy.http.proxy import HttpProxyBasePlugin


class RecordRequests(HttpProxyBasePlugin):  # type: ignore[misc]
    """Append each forwarded request line to the log file."""

    def handle_client_request(self, request: HttpParser) -> Optional[HttpParser]:
        """Record the request and pass it on unchanged."""
        method = (request.method or b"").decode()
        host = (request.host or b"").decode()
        port = request.port
        path = (request.path or b"").decode()
        with open(os.environ["ARCTOKEN_TEST_PROXY_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{method} {host}:{port} {path}\n")
        return request
