"""``arctoken login``, ``logout`` and ``profiles``: saved profiles for scripts without passwords.

``login`` prompts for what is missing, signs in once to prove it works, and saves the profile:
settings in an owner-only file, the password or the OAuth refresh token in the OS keyring.
A failed login leaves an earlier profile of that name as it was.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING, Any, Mapping, TextIO

from .. import profiles
from ..errors import ConfigError
from ..profiles.store import SECRET_FIELDS, SETTINGS
from ..secrets import Secret
from .common import add_command, log_to_stderr
from .token import CLI_KINDS, interaction, options_from, signin_arguments

if TYPE_CHECKING:
    from ..connection import Connection

__all__ = ["LOGIN_KINDS", "register", "sign_in_and_save"]

LOGIN_KINDS = CLI_KINDS
LOGIN_EXAMPLES = """\
  arctoken login --profile work --kind user_oauth --url https://myorg.maps.arcgis.com \\
      --client-id MyAppId        (signs in in the browser; --oob without one)
  arctoken login --profile gis --kind portal --url https://gis.example.com/portal \\
      --username analyst         (prompts for the password)
  arctoken login --profile card --kind pki --url https://gis.example.com/portal \\
      --cert-file me.pfx         (prompts for its password; the keyring keeps it)
  arctoken run --profile work -- python my_script.py"""


def register(commands: Any) -> None:
    """Add ``arctoken login``, ``logout`` and ``profiles`` to the sub-commands."""
    login = add_command(
        commands,
        "login",
        LOGIN_EXAMPLES,
        help="sign in once and save a profile",
        description="Sign in and save the connection as a named profile: settings (and a "
        "client certificate's path) in your config folder, the password, certificate password "
        "or OAuth refresh token in the OS keyring (needs the keyring package). Use it with "
        "Connection(profile=NAME) or arctoken run --profile.",
    )
    login.set_defaults(handler=cmd_login)
    login.add_argument("--profile", required=True, metavar="NAME", help="the profile's name")
    signin_arguments(login)
    logout = add_command(
        commands,
        "logout",
        "  arctoken logout --profile work",
        help="remove a saved profile and its keyring entries",
        description="Remove a saved profile: its settings and its keyring entries.",
    )
    logout.add_argument("--profile", required=True, metavar="NAME", help="the profile")
    logout.set_defaults(handler=cmd_logout)
    listing = add_command(
        commands,
        "profiles",
        "  arctoken profiles",
        help="list saved profiles",
        description="List the saved profiles: name, kind, URL and user (never a secret).",
    )
    listing.set_defaults(handler=cmd_profiles)


def cmd_login(args: argparse.Namespace, stdin: TextIO) -> int:
    """``arctoken login``: sign in, and save the profile only if that worked."""
    with log_to_stderr(logging.WARNING):
        profiles.keyring_module()  # before any prompt: say what to install first
        options = options_from(args, stdin)
        conn = sign_in_and_save(args.profile, options, interaction(args, stdin))
        saved = profiles.get_profile(args.profile)
        who = saved.get("username") or saved.get("client_id") or "you"
        print(
            f"arctoken: saved profile {args.profile!r}: {who} at {conn.url}; use it with "
            f"Connection(profile={args.profile!r}) or arctoken run --profile {args.profile}",
            file=sys.stderr,
        )
    return 0


def sign_in_and_save(
    name: str, options: Mapping[str, Any], interaction: Mapping[str, Any]
) -> Connection:
    """Save ``options`` (Connection keyword arguments) as profile ``name`` and sign in through
    it once; if anything fails, the profile is put back as it was and the error raised.

    ``interaction`` (``open_browser`` or ``prompt``) lets an OAuth profile sign in on the
    portal's page; the refresh token it yields goes straight to the keyring.
    """
    from ..connection import Connection

    profiles.check_name(name)
    Connection(**options)  # every field checked before anything is saved (no network)
    settings = {k: options.get(k) for k in SETTINGS}
    secrets = {k: Secret(options[k]) for k in SECRET_FIELDS if options.get(k)}
    before = profiles.snapshot(name)
    try:
        profiles.delete_profile(name)  # an earlier refresh token must not stand in for this sign-in
        profiles.save_profile(name, settings, secrets)
        conn = Connection(profile=name, **interaction)
        conn.token_info()
    except BaseException:
        profiles.restore(before)
        raise
    return conn


def cmd_logout(args: argparse.Namespace, stdin: TextIO) -> int:
    """``arctoken logout``: remove the profile and its secrets."""
    from ..profiles import delete_profile

    if not delete_profile(args.profile):
        raise ConfigError("--profile", f"there is no saved profile {args.profile!r}")
    print(f"arctoken: removed profile {args.profile!r} and its keyring entries", file=sys.stderr)
    return 0


def cmd_profiles(args: argparse.Namespace, stdin: TextIO) -> int:
    """``arctoken profiles``: one line per profile (name, kind, URL, user); no secret."""
    from ..profiles import list_profiles
    from ..profiles.store import profiles_file

    found = list_profiles()
    if not found:
        print(
            f"arctoken: no saved profiles in {profiles_file()}; create one with "
            "arctoken login --profile NAME ...",
            file=sys.stderr,
        )
        return 0
    for name, settings in found.items():
        user = settings.get("username") or settings.get("client_id") or ""
        print(f"{name}\t{settings.get('kind', '')}\t{settings.get('url', '')}\t{user}")
    return 0
