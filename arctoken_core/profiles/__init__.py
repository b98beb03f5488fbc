"""Saved profiles: sign in once with ``arctoken login``, then ``Connection(profile="NAME")``.

A profile is a name for a connection's settings (kind, URL, username, client ID, referer,
proxy...) in an owner-only JSON file (:mod:`.store`) and what signing in again needs, a
password or an OAuth refresh token, in the OS keyring (:mod:`.vault`). A rotated refresh
token is written back to the keyring as soon as the portal hands it out.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional

from ..errors import ConfigError
from ..secrets import Secret
from ..tokens.oauth_grant import RefreshGrant
from .store import SECRET_FIELDS, SETTINGS, STORED, check_name, read_all, write_all
from .vault import delete_secret, get_secret, keyring_module, set_secret

__all__ = [
    "OAUTH_ENTRY",
    "ProfileRefreshStore",
    "Snapshot",
    "check_name",
    "delete_profile",
    "get_profile",
    "keyring_module",
    "list_profiles",
    "profile_options",
    "restore",
    "save_profile",
    "snapshot",
]

OAUTH_ENTRY = "oauth"
"""Keyring field of a profile's refresh token and its expiry (one JSON value, one write)."""


def list_profiles() -> Dict[str, Dict[str, Any]]:
    """Every profile's settings by name, sorted by name; no secret is read."""
    return dict(sorted(read_all().items()))


def get_profile(name: str) -> Dict[str, Any]:
    """The settings of profile ``name``; ConfigError saying how to create a missing one."""
    found = read_all().get(check_name(name))
    if found is None:
        raise ConfigError(
            "profile",
            f"there is no saved profile {name!r}; create it with: arctoken login --profile {name}",
        )
    return found


def save_profile(name: str, settings: Mapping[str, Any], secrets: Mapping[str, Secret]) -> None:
    """Save ``settings`` in the file and ``secrets`` in the keyring under ``name``.

    Secrets go first: when the keyring is missing or refuses, the file is left as it was.
    """
    check_name(name)
    for key, value in secrets.items():
        set_secret(name, key, value.reveal())
    kept = {k: v for k, v in settings.items() if k in SETTINGS and v not in (None, "")}
    kept[STORED] = sorted(secrets)
    profiles = read_all()
    profiles[name] = kept
    write_all(profiles)


def delete_profile(name: str) -> bool:
    """Remove profile ``name`` and its keyring entries; False when there was no such profile."""
    profiles = read_all()
    settings = profiles.get(check_name(name))
    if settings is None:
        return False
    for key in _secret_fields(settings):
        delete_secret(name, key)
    del profiles[name]
    write_all(profiles)
    return True


def profile_options(
    name: str, given: Mapping[str, Any], init: Callable[..., None]
) -> Dict[str, Any]:
    """Keyword arguments for ``init`` (Connection's): ``given`` (the call's arguments), with
    every argument left at its default taken from the profile, its secrets from the keyring."""
    parameters = inspect.signature(init).parameters.values()
    defaults = {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}
    options = {k: v for k, v in given.items() if k in defaults and k != "profile"}
    if options.get("kind") == "profile":  # kind "Saved profile": the profile says which kind
        del options["kind"]
    settings = get_profile(name)
    for key, value in settings.items():
        if key in SETTINGS and options.get(key, defaults.get(key)) == defaults.get(key):
            options[key] = value
    for key in settings.get(STORED, []):
        if key in SECRET_FIELDS and options.get(key) is None:
            options[key] = _stored_secret(name, key)
    return options


def _stored_secret(name: str, key: str) -> Secret:
    value = get_secret(name, key)
    if not value:
        raise ConfigError(
            key,
            f"the keyring holds no {key} for profile {name!r}; sign in again: "
            f"arctoken login --profile {name}",
        )
    return Secret(value)


def _secret_fields(settings: Mapping[str, Any]) -> List[str]:
    found = [k for k in settings.get(STORED, []) if k in SECRET_FIELDS]
    return found + [OAUTH_ENTRY] if settings.get("kind") == "user_oauth" else found


class ProfileRefreshStore:
    """A profile's OAuth refresh token in the keyring: read when needed, written when new."""

    def __init__(self, name: str) -> None:
        self.name = check_name(name)

    def load(self) -> Optional[RefreshGrant]:
        """The saved grant, or None when the profile has none (or an unreadable one)."""
        raw = get_secret(self.name, OAUTH_ENTRY)
        if not raw:
            return None
        try:
            data = json.loads(raw)
            expires = data.get("expires_at")
            return RefreshGrant(
                Secret(str(data["refresh_token"])),
                float(data["issued_at"]),
                None if expires is None else float(expires),
                str(data["redirect_uri"]),
                str(data.get("username") or ""),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def save(self, grant: RefreshGrant) -> None:
        """Write ``grant`` to the keyring (one entry), and a new username to the file."""
        data = {
            "refresh_token": grant.token.reveal(),
            "issued_at": grant.issued_at,
            "expires_at": grant.expires_at,
            "redirect_uri": grant.redirect_uri,
            "username": grant.username,
        }
        set_secret(self.name, OAUTH_ENTRY, json.dumps(data))
        profiles = read_all()
        settings = profiles.get(self.name)
        if settings is not None and grant.username and settings.get("username") != grant.username:
            settings["username"] = grant.username
            write_all(profiles)


@dataclass
class Snapshot:
    """What a profile was before a login replaced it, to put back if the login fails."""

    name: str
    settings: Optional[Dict[str, Any]]
    secrets: Dict[str, Optional[str]] = field(default_factory=dict)


def snapshot(name: str) -> Snapshot:
    """Profile ``name`` as it is now (settings and keyring entries)."""
    settings = read_all().get(check_name(name))
    if settings is None:
        return Snapshot(name, None)
    return Snapshot(name, settings, {k: get_secret(name, k) for k in _secret_fields(settings)})


def restore(before: Snapshot) -> None:
    """Put a profile back as :func:`snapshot` found it (or remove it if it did not exist)."""
    delete_profile(before.name)
    for key, value in before.secrets.items():
        if value is not None:
            set_secret(before.name, key, value)
    if before.settings is not None:
        profiles = read_all()
        profiles[before.name] = before.settings
        write_all(profiles)
