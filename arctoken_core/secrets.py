"""Secrets that cannot leak by accident: a masked :class:`Secret` and redaction of text and logs.

Passwords, client secrets, API keys and tokens are registered here as they enter the package;
:func:`redact` then replaces every registered value (and anything that looks like a token or
password parameter) in text bound for a user, a log or an exception.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections import OrderedDict
from typing import Any, Iterator, Optional, Set
from urllib.parse import quote, quote_plus

__all__ = [
    "MASK",
    "RECENT_TOKENS",
    "RedactingFilter",
    "Secret",
    "get_logger",
    "log_to",
    "mask_token",
    "redact",
    "register_secret",
    "register_token",
]


MASK = "********"
_MIN_SECRET_LENGTH = 4

_known: Set[str] = set()
_recent_tokens: OrderedDict[str, None] = OrderedDict()
RECENT_TOKENS = 256
_known_lock = threading.Lock()

_PATTERNS = (
    # token=..., password=... in URLs, form bodies and log lines
    re.compile(
        r"(?i)\b(token|password|passwd|client_secret|access_token|refresh_token|api_?key)"
        r"(=)([^&\s\"',;]+)"
    ),
    # "token": "..." in JSON text
    re.compile(
        r"(?i)(\"(?:token|password|client_secret|access_token|refresh_token|api_?key)\")"
        r"(\s*:\s*)\"([^\"]*)\""
    ),
    # Authorization / X-Esri-Authorization: Bearer ...
    re.compile(r"(?i)\b(bearer)(\s+)([A-Za-z0-9._~+/=-]+)"),
)


def register_secret(value: Optional[str]) -> None:
    """Remember ``value`` so that :func:`redact` masks it wherever it appears.

    Its URL-quoted forms too (``%C3%A4``, ``+``): a password in a proxy URL is quoted.
    """
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _known_lock:
            _known.update({value, quote(value, safe=""), quote_plus(value)})


def register_token(value: Optional[str]) -> None:
    """Like :func:`register_secret`, for tokens: only the most recent ones are kept, so a
    long run with short tokens does not make every redaction slower and slower. An expired
    token is still masked by the token-shaped patterns wherever it appears as a parameter."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _known_lock:
            _recent_tokens[value] = None
            _recent_tokens.move_to_end(value)
            while len(_recent_tokens) > RECENT_TOKENS:
                _recent_tokens.popitem(last=False)


def mask_token(token: Optional[str]) -> str:
    """Show at most the last 4 characters of a token: enough to tell two apart, no more."""
    if not token:
        return "<none>"
    if len(token) <= 12:
        return MASK
    return "…" + token[-4:]


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and token-like parameter masked."""
    with _known_lock:
        known = sorted(_known.union(_recent_tokens), key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(_mask_match, text)
    return text


def _mask_match(match: re.Match[str]) -> str:
    key, sep, value = match.group(1), match.group(2), match.group(3)
    if value == MASK or value.endswith(MASK):
        return match.group(0)
    quoted = match.group(0).endswith('"') and not value.endswith('"')
    return f'{key}{sep}"{MASK}"' if quoted else f"{key}{sep}{MASK}"


class Secret:
    """A password, client secret or API key: shows ``********`` in repr, str and format.

    The value comes out only through :meth:`reveal`, at the one place it is sent.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        self._value = str(value)
        register_secret(self._value)

    def reveal(self) -> str:
        """The secret itself, for the request body that needs it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is not pickled: pass credentials to each process explicitly")


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the rendered message and drops the raw args."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not break logging
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactingFilter()
logging.getLogger("arctoken_core").addHandler(logging.NullHandler())
"""A library stays quiet unless the application configures logging (the CLI and the
toolbox show warnings; a script sees them once it sets up logging)."""


def get_logger(name: str) -> logging.Logger:
    """The package's loggers: each carries the redacting filter (filters do not propagate)."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


@contextlib.contextmanager
def log_to(handler: logging.Handler, level: int) -> Iterator[None]:
    """Send the package's records at ``level`` and above to ``handler`` while the block runs.

    The CLI's stderr lines and the toolbox's tool messages both come through here.
    """
    logger = get_logger("arctoken_core")
    previous = logger.level
    handler.setLevel(level)
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > level:
        logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
