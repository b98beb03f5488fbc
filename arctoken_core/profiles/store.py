"""The non-secret settings of saved profiles: one owner-only JSON file in the config folder.

``%APPDATA%\\arctoken\\profiles.json`` on Windows, ``$XDG_CONFIG_HOME/arctoken/profiles.json``
(default ``~/.config``) elsewhere; ``ARCTOKEN_CONFIG_DIR`` names another folder. The file
holds kinds, URLs, usernames, client IDs, network settings and the paths of client
certificates, and never a secret (a certificate's password included): those are
refused here, so no caller can put one in by mistake.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Dict, Mapping

from ..errors import ConfigError
from ..files import write_json_private

__all__ = [
    "SECRET_FIELDS",
    "SETTINGS",
    "STORED",
    "check_name",
    "config_dir",
    "profiles_file",
    "read_all",
    "write_all",
]

SETTINGS = (
    "kind",
    "url",
    "username",
    "client_id",
    "referer",
    "expiration",
    "server_url",
    "proxy",
    "proxy_username",
    "use_system_proxy",
    "verify",
    "ca_bundle",
    "cert_file",
    "key_file",
    "oauth_flow",
)
"""The Connection keyword arguments a profile saves in its file."""
STORED = "secrets"
"""The file's list of which secret fields the keyring holds for a profile (names only)."""
SECRET_FIELDS = ("password", "client_secret", "api_key", "proxy_password", "cert_password")
"""The Connection keyword arguments a profile keeps in the OS keyring instead."""
CONFIG_ENV = "ARCTOKEN_CONFIG_DIR"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_name(name: str) -> str:
    """``name`` when it can name a profile: letters, digits, ``_ . -``, at most 64."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            "profile",
            f"{name!r} cannot name a profile: use letters, digits, '_', '.' or '-' "
            "(starting with a letter or digit, at most 64)",
        )
    return name


def config_dir() -> Path:
    """The folder of this user's arctoken settings."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override)
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "arctoken"
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "arctoken"


def profiles_file() -> Path:
    """The profiles JSON file."""
    return config_dir() / "profiles.json"


def read_all() -> Dict[str, Dict[str, Any]]:
    """Every saved profile's settings by name (empty when there is no file yet)."""
    path = profiles_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError("profile", f"cannot read {path}: {exc.strerror}") from None
    try:
        found = json.loads(text).get("profiles", {})
    except (ValueError, AttributeError):
        found = None
    if not isinstance(found, dict):
        raise ConfigError("profile", f"{path} is not a profiles file; move it away, log in again")
    return {str(k): dict(v) for k, v in found.items() if isinstance(v, dict)}


def write_all(profiles: Mapping[str, Mapping[str, Any]]) -> None:
    """Replace the profiles file (atomically, owner-only) with ``profiles``."""
    for name, settings in profiles.items():
        unknown = set(settings) - {*SETTINGS, STORED}
        if unknown:  # a secret (or anything unexpected) never reaches the plain file
            names = ", ".join(sorted(unknown))
            raise ConfigError("profile", f"{name}: never saved in a plain file: {names}")
    folder = config_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_json_private(profiles_file(), {"profiles": dict(profiles)})
    except OSError as exc:
        raise ConfigError("profile", f"cannot write {profiles_file()}: {exc.strerror}") from None
