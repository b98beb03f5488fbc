"""The secrets of saved profiles, in the OS keyring through the optional ``keyring`` package.

Windows Credential Manager, the macOS Keychain or a Secret Service on Linux; ArcGIS Pro ships
``keyring``. Nothing secret is ever written anywhere else: without ``keyring`` (or without a
working keyring backend) saving a secret fails with a message saying what to install. Nor is
a secret handed to a backend that keeps it in a plain file or drops it (keyrings.alt's
``PlaintextKeyring``, which keyring picks on a Linux machine without a Secret Service once
keyrings.alt is installed, and the null backend).
"""

from __future__ import annotations

from types import ModuleType
from typing import Optional

from ..errors import ConfigError
from ..secrets import redact, register_secret

__all__ = [
    "SERVICE_PREFIX",
    "UNPROTECTED",
    "delete_secret",
    "get_secret",
    "keyring_module",
    "protected_keyring",
    "set_secret",
]

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


UNPROTECTED = {
    ("keyrings.alt.file", "PlaintextKeyring"): "keeps secrets in a plain file",
    ("keyring.backends.null", "Keyring"): "keeps nothing",
}
"""Backends (module, class) that do not protect a secret, and what they do with it instead."""


def protected_keyring() -> ModuleType:
    """``keyring``, once its backend is one that protects secrets; ConfigError otherwise.

    Only the exact classes in ``UNPROTECTED`` are refused: a backend built on one of them
    (a subclass, such as the test suite's keyring in a test folder) is its author's choice.
    """
    keyring = keyring_module()
    backend = keyring.get_keyring()
    chained = getattr(backend, "backends", None)  # keyring's ChainerBackend saves in its first
    if isinstance(chained, (list, tuple)) and chained:
        backend = chained[0]
    what = UNPROTECTED.get((type(backend).__module__, type(backend).__name__))
    if what:
        raise ConfigError(
            "keyring",
            f"the keyring backend here ({type(backend).__module__}.{type(backend).__name__}) "
            f"{what}, so no secret is saved to it: on Linux run a Secret Service (GNOME Keyring "
            "or KWallet), or choose a protecting backend (keyring --list-backends, then set "
            "PYTHON_KEYRING_BACKEND)",
        )
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
    """Store the secret ``field`` of ``profile``, replacing any earlier one (only in a
    backend that protects it: see ``protected_keyring``)."""
    keyring = protected_keyring()
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
