"""Connection's keyword arguments turned into checked values: ConfigError names the field."""

from __future__ import annotations

import math
from typing import Any, Iterable, List, Optional, Tuple, TypeVar, Union

from . import fields, kinds
from .errors import ConfigError
from .secrets import Secret
from .transport.settings import DEFAULT_TIMEOUT, checked_timeout
from .urls import OriginKey, origin_key

__all__ = [
    "SecretLike",
    "TimeoutLike",
    "callable_or_none",
    "optional_epoch",
    "retries_count",
    "root_url",
    "secret",
    "timeout_pair",
    "trusted_origins",
]

SecretLike = Union[str, Secret, None]
TimeoutLike = Union[float, Tuple[float, float], None]
_T = TypeVar("_T")
_MAX_RETRIES = 10
_LAST_SECOND = 253402300800


def secret(value: SecretLike) -> Optional[Secret]:
    """A Secret (masked everywhere) for a password-like value; None when empty."""
    if value is None or value == "":
        return None
    return value if isinstance(value, Secret) else Secret(value)


def timeout_pair(value: TimeoutLike) -> Tuple[float, float]:
    """(connect, read) seconds from one number or a pair; the defaults for None."""
    if value is None:
        return DEFAULT_TIMEOUT
    pair = (value, value) if isinstance(value, (int, float)) else tuple(value)
    if len(pair) != 2 or any(not isinstance(v, (int, float)) or v <= 0 for v in pair):
        raise ConfigError("timeout", "must be seconds > 0, or a (connect, read) pair of them")
    return checked_timeout((pair[0], pair[1]))


def retries_count(value: Any) -> int:
    """Retries of idempotent calls: a whole number from 0 to 10."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_RETRIES:
        raise ConfigError("retries", f"must be a whole number from 0 to {_MAX_RETRIES}")
    return value


def optional_epoch(value: Any, field: str) -> Optional[float]:
    """Epoch seconds a date can show, or None for none given."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(field, "must be epoch seconds (a number), or empty for no expiry")
    if not math.isfinite(value) or not 0 < value < _LAST_SECOND:
        raise ConfigError(field, "must be epoch seconds between 1970 and 9999")
    return float(value)


def callable_or_none(value: Optional[_T], field: str) -> Optional[_T]:
    """``value`` when it can be called (a clock, a sign-in source), or None."""
    if value is not None and not callable(value):
        raise ConfigError(field, "must be a function (called with no arguments)")
    return value


def trusted_origins(hosts: Iterable[str]) -> List[OriginKey]:
    """The origins of hosts the user trusts with the token (a list, never one string)."""
    if isinstance(hosts, (str, bytes)) or not all(isinstance(h, str) for h in hosts):
        raise ConfigError("trusted_hosts", "must be a list of host names or URLs, not one string")
    return [origin_key(h if "://" in h else "https://" + h, "trusted_hosts") for h in hosts]


def root_url(row: kinds.Kind, url: Optional[str]) -> str:
    """The portal or server root the kind signs in to (its default, or Pro's portal)."""
    if not url and row.name == "pro":
        from .signin.pro import active_portal_url

        url = active_portal_url()
    return fields.normalise_root(row, url or row.default_url, "url")
