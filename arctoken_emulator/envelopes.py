"""The error bodies ArcGIS answers with, word for word where the real services are known."""

from __future__ import annotations

from typing import Dict, Sequence, Union

from .records import JSON_TYPE, Response, json_reply

UNABLE = "Unable to generate token."
"""The message of every generateToken failure."""
INVALID_CREDENTIALS = "Invalid username or password."
"""The detail for a wrong username or password."""
CREDENTIALS_IN_QUERY = (
    "Generate Token request should not contain username and password in the query string."
)
"""The detail when a username or password came in the URL."""
MISSING_FOR_EXCHANGE = "Unable to get 'token' from the request or cookie, for server token."
"""The detail when a federated exchange names a server but carries no portal token."""
REFERER_REQUIRED = "Referer is required for client=referer."
"""The detail for client=referer without a referer."""
CLIENT_ID_REQUIRED = "Unable to generate token. Client ID is required for long expiration tokens."
"""ArcGIS Server 10.3+ message for a long expiration without ``client``."""
FORBIDDEN = "You do not have permissions to access this resource or perform this operation."
"""The 403 message for a valid token whose user lacks rights."""

Details = Union[str, Sequence[str]]
"""An envelope's ``details``: a list of lines, or one string (ArcGIS Server's 405)."""


def error(
    code: int, message: str, details: Details = (), content_type: str = JSON_TYPE, **extra: str
) -> Response:
    """``{"error": {...}}`` with HTTP 200, as ArcGIS answers f=json requests."""
    body: Dict[str, object] = {"code": code}
    body.update(extra)
    body["message"] = message
    body["details"] = details if isinstance(details, str) else list(details)
    return json_reply({"error": body}, content_type=content_type)


def admin_error(code: int, *messages: str) -> Response:
    """The ArcGIS Server admin envelope: ``{"status": "error", "messages": [...], "code": n}``."""
    return json_reply({"status": "error", "messages": list(messages), "code": code})


def unable(detail: str, content_type: str = JSON_TYPE) -> Response:
    """400 "Unable to generate token." with one detail line."""
    return error(400, UNABLE, [detail], content_type=content_type)


def invalid_token(portal_wording: bool) -> Response:
    """498: "Invalid token." on portals and Online, "Invalid Token" on ArcGIS Server."""
    return error(498, "Invalid token." if portal_wording else "Invalid Token")


def token_required(portal_wording: bool) -> Response:
    """499, in the portal/Online-hosted or the ArcGIS Server form."""
    if portal_wording:
        return error(499, "Token Required", ["Token Required"], messageCode="GWM_0003")
    return error(499, "Token Required")


def forbidden() -> Response:
    """403: a valid token whose user may not use the resource."""
    return error(403, FORBIDDEN, messageCode="GWM_0003")


def not_found() -> Response:
    """An unknown path: a real HTTP 404 with the usual error envelope."""
    reply = error(404, "Not found")
    reply.status = 404
    return reply


def web_tier_challenge() -> Response:
    """HTTP 401 from a web server that authenticates users itself (IIS with Windows logins)."""
    body = b"<html><body><h1>401 - Unauthorized</h1></body></html>"
    headers = {"WWW-Authenticate": "Negotiate, NTLM"}
    return Response(status=401, body=body, content_type="text/html", headers=headers)
