"""The one exception family of arctoken_core.

Every message is safe to show a user: it never contains a password, a client secret or a
whole token, and it says what happened and what to check. Callers catch :class:`ArcTokenError`
to handle all of them; the CLI and the toolbox turn them into one-line messages.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, TypeVar

__all__ = [
    "AccountLockedError",
    "ArcGISServiceError",
    "ArcTokenError",
    "AuthenticationError",
    "ClockError",
    "ConfigError",
    "InsecureTransportError",
    "InvalidTokenError",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "NotFederatedError",
    "PermissionDeniedError",
    "ProxyError",
    "ResponseFormatError",
    "SignInRequiredError",
    "TLSError",
    "TokenRequiredError",
    "TransportError",
    "detached",
]


_E = TypeVar("_E", bound=BaseException)


class ArcTokenError(Exception):
    """Base of every error this package raises on purpose."""

    exit_code = 1
    """The CLI's exit status for this kind of failure (documented in the README)."""


class ConfigError(ArcTokenError, ValueError):
    """A value the user supplied is unusable; ``field`` names it and the message says the fix."""

    exit_code = 2

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class InsecureTransportError(ConfigError):
    """A secret would travel over plain http to a host that is not this machine."""


class TransportError(ArcTokenError):
    """The request did not get an answer: connection refused, DNS, timeout, reset."""

    exit_code = 5


class ProxyError(TransportError):
    """The proxy refused the connection or the proxy credentials."""


class TLSError(TransportError):
    """The server's certificate could not be verified (wrong CA, expired, self-signed...)."""


class ResponseFormatError(ArcTokenError):
    """The server answered, but not with ArcGIS JSON (an HTML login page, an empty body...)."""

    exit_code = 5


class ClockError(ResponseFormatError):
    """A token expired before it arrived: this computer's clock or the server's is wrong."""


class ArcGISServiceError(ArcTokenError):
    """An ArcGIS error envelope (``{"error": {"code": ...}}``, ``{"status": "error"}``), or an
    HTTP error status without one (``envelope`` False: a proxy, firewall or web server spoke).
    """

    exit_code = 4

    def __init__(
        self,
        code: Optional[int],
        message: str,
        details: Sequence[str] = (),
        *,
        envelope: bool = True,
    ) -> None:
        self.code = code
        self.envelope = envelope
        self.server_message = message
        self.details: List[str] = list(details)
        text = f"ArcGIS error {code}: {message}" if code is not None else f"ArcGIS error: {message}"
        if self.details:
            text += " (" + "; ".join(self.details) + ")"
        super().__init__(text)


class InvalidTokenError(ArcGISServiceError):
    """498: the token is invalid, expired or revoked, or was sent with the wrong Referer."""


class TokenRequiredError(ArcGISServiceError):
    """499: the resource needs a token and none was sent."""


class PermissionDeniedError(ArcGISServiceError):
    """403: the token is fine but its user may not do this; refreshing will not help."""


class AuthenticationError(ArcTokenError):
    """The token service refused the credentials. Never retried automatically: accounts lock."""

    exit_code = 3


class AccountLockedError(AuthenticationError):
    """The token service says the account is locked after too many failed sign-ins."""


class NotFederatedError(ArcTokenError):
    """The server is not federated with the portal the credentials belong to."""

    exit_code = 2


class SignInRequiredError(AuthenticationError):
    """ArcGIS Pro is not signed in to a portal (kind ``pro``)."""


class JobError(ArcTokenError):
    """A geoprocessing job did not succeed."""

    exit_code = 6

    def __init__(self, message: str, job_id: str = "", messages: Sequence[str] = ()) -> None:
        self.job_id = job_id
        self.job_messages: List[str] = list(messages)
        super().__init__(message)


class JobFailedError(JobError):
    """The job ended as failed, timed out on the server, or was cancelled by someone else."""


class JobTimeoutError(JobError):
    """The job ran past the caller's time limit and was cancelled."""


def detached(error: _E) -> _E:
    """``error`` without the history that could hold a secret: no context, cause or frames.

    A request that carried a password, client secret or token fails deep inside requests,
    whose frames hold the request body and headers, and ``raise ... from None`` only hides
    ``__context__`` from the printed traceback: it still holds that exception and its
    frames. Tools that show locals (pytest, debuggers, error trackers) would print them.
    Raise ``detached(exc)`` at the boundary where such a request is made; the message is
    already complete and safe.
    """
    error.__context__ = None
    error.__cause__ = None
    error.__suppress_context__ = True
    return error.with_traceback(None)
