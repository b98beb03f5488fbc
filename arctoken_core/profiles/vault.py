"""The secrets of saved profiles, in the OS keyring through the optional ``keyring`` package.

Windows Credential Manager, the macOS Keychain or a Secret Service on Linux; ArcGIS Pro ships
``keyring``. Nothing secret is ever written anywhere else: without ``keyring`` (or without a
working keyring backend) saving a secret fails with a message saying what to install.
"""

from __future__ import annotations

from types import ModuleType
from typing import Optional

from ..errors import ConfigError
from ..secrets import redact, register_secret

__all__ = ["SERVICE_PREFIX", "delete_secret", "get_secret", "keyring_module", "set_secret"]

SERVICE_PREFIX = "arctoken:"
"""Keyring service of profile NAME: ``arctoken:NAME``; the entry's user is the field name."""

MISSING = (
    "saved profiles keep passwords and refresh tokens in the OS keyring through the 'keyring' "
    "package, which is not installed here: pip install keyring (ArcGIS Pro's Python ships it)"
)


def keyring_module() -> ModuleType:
    """The ``keyring`` package; ConfigError naming what to install when it is missing."""
    try:
        import keyring
    except ImportError:
        raise ConfigError("keyring", MISSING) from None
    return keyring


def get_secret(profile: str, field: str) -> Optional[str]:
    """The secret ``field`` of ``profile`` (None when none is stored)."""
    keyring = keyring_module()
    try:
        value = keyring.get_password(SERVICE_PREFIX + profile, field)
    except keyring.errors.KeyringError as exc:
        raise _refused("read", profile, exc) from None
    register_secret(value)
    return value if isinstance(value, str) else None


def set_secret(profile: str, field: str, value: str) -> None:
    """Store the secret ``field`` of ``profile``, replacing any earlier one."""
    keyring = keyring_module()
    register_secret(value)
    try:
        keyring.set_password(SERVICE_PREFIX + profile, field, value)
    except keyring.errors.KeyringError as exc:
        raise _refused("save", profile, exc) from None


def delete_secret(profile: str, field: str) -> bool:
    """Remove the secret ``field`` of ``profile``; False when there was none."""
    keyring = keyring_module()
    try:
        if keyring.get_password(SERVICE_PREFIX + profile, field) is None:
            return False
        keyring.delete_password(SERVICE_PREFIX + profile, field)
    except keyring.errors.KeyringError as exc:
        raise _refused("remove", profile, exc) from None
    return True


def _refused(action: str, profile: str, exc: Exception) -> ConfigError:
    return ConfigError(
        "keyring",
        f"the OS keyring could not {action} the secret of profile {profile!r} "
        f"({type(exc).__name__}: {redact(str(exc))}); unlock the keyring, or on Linux run a "
        "Secret Service (GNOME Keyring or KWallet)",
    )
