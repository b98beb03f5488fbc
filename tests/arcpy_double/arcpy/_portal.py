"""What ArcGIS Pro does for ``arcpy.SignInToPortal``: a real sign-in, on its own connection.

Host side of the double, not arcpy API. Pro signs in with its own machinery, not with the
toolbox's: here ``http.client`` and ``ssl`` with the client certificate (a .pfx is opened with
``cryptography``, as Pro opens it itself), or a real NTLM handshake by pyspnego as the current
Windows logon (``NTLM_USER_FILE``), or a username and password in the form. The portal's
``generateToken`` reply is what ``GetSigninToken`` gives afterwards. Failures are raised as
``RuntimeError`` with a one-line message, as arcpy functions raise theirs.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import tempfile
from typing import Any, Dict, Optional, Tuple
from urllib.parse import SplitResult, urlencode, urlsplit

Reply = Tuple[int, Dict[str, str], bytes]
_LEGS = 4


def sign_in(
    portal_url: str,
    username: Optional[str],
    password: Optional[str],
    cert_file: Optional[str],
    key_file: Optional[str],
    *,
    referer: str,
    trust: Optional[str],
) -> Dict[str, Any]:
    """Sign in to ``portal_url`` as Pro does; the token, its referer, expiry in epoch SECONDS."""
    parts = urlsplit(portal_url.rstrip("/"))
    form = {"client": "referer", "referer": referer, "f": "json"}
    if username:
        form.update(username=username, password=password or "")
    try:
        connection = _connection(parts, trust, cert_file, key_file, password)
        try:
            status, _, body = _post(connection, parts, urlencode(form), windows=not username)
        finally:
            connection.close()
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise RuntimeError(f"Unable to sign in to portal {portal_url}: {exc}") from None
    return _token(portal_url, status, body, referer)


def _connection(
    parts: SplitResult,
    trust: Optional[str],
    cert_file: Optional[str],
    key_file: Optional[str],
    password: Optional[str],
) -> http.client.HTTPConnection:
    host, port = parts.hostname or "127.0.0.1", parts.port
    if parts.scheme != "https":
        return http.client.HTTPConnection(host, port, timeout=30)
    context = ssl.create_default_context(cafile=trust)
    if cert_file:
        _load_certificate(context, cert_file, key_file, password)
    return http.client.HTTPSConnection(host, port, timeout=30, context=context)


def _load_certificate(
    context: ssl.SSLContext, cert_file: str, key_file: Optional[str], password: Optional[str]
) -> None:
    if not cert_file.lower().endswith((".pfx", ".p12")):
        context.load_cert_chain(cert_file, key_file or None, password=lambda: password or "")
        return
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    with open(cert_file, "rb") as handle:
        key, cert, _ = pkcs12.load_key_and_certificates(
            handle.read(), password.encode() if password else None
        )
    if key is None or cert is None:
        raise ValueError("the certificate file holds no key")
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + cert.public_bytes(serialization.Encoding.PEM)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "client.pem")
        with open(path, "wb") as out:
            out.write(pem)
        context.load_cert_chain(path)


def _post(
    connection: http.client.HTTPConnection, parts: SplitResult, form: str, windows: bool
) -> Reply:
    """POST the form; answer a 401 Negotiate/NTLM challenge with the current Windows logon."""
    path = f"{parts.path}/sharing/rest/generateToken"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    reply = _send(connection, path, form, headers)
    context: Any = None
    for _ in range(_LEGS):
        if reply[0] != 401 or not windows:
            break
        if context is None:
            import spnego

            context = spnego.client(None, None, hostname=parts.hostname or "", protocol="ntlm")
        token = context.step(_challenge(reply[1]))
        if not token:
            break
        auth = {"Authorization": f"NTLM {base64.b64encode(token).decode()}"}
        reply = _send(connection, path, form, {**headers, **auth})
    return reply


def _send(
    connection: http.client.HTTPConnection, path: str, form: str, headers: Dict[str, str]
) -> Reply:
    connection.request("POST", path, body=form.encode(), headers=headers)
    response = connection.getresponse()
    body = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def _challenge(headers: Dict[str, str]) -> Optional[bytes]:
    """The server's NTLM challenge (``WWW-Authenticate: NTLM <base64>``), None at first."""
    for value in headers.get("www-authenticate", "").split(","):
        name, _, data = value.strip().partition(" ")
        if name.lower() == "ntlm" and data.strip():
            return base64.b64decode(data.strip())
    return None


def _token(portal_url: str, status: int, body: bytes, referer: str) -> Dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError:
        payload = {}
    if status != 200 or "token" not in payload:
        error = payload.get("error", {}) if isinstance(payload, dict) else {}
        reason = error.get("message") or f"HTTP {status}"
        raise RuntimeError(f"Unable to sign in to portal {portal_url}: {reason}")
    expires = float(payload["expires"]) / 1000.0
    return {"token": payload["token"], "referer": referer, "expires": int(expires)}
