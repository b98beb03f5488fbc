"""``arctoken token``: sign in once and print a token (or its JSON) on stdout.

The password (client secret, API key, certificate password) comes from ``--password-stdin``,
the ``ARCTOKEN_PASSWORD`` environment variable or a prompt: never from a flag, where other
users of the machine and the shell history would see it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any, Dict, Optional, Sequence, TextIO, Union

from ..errors import ArcTokenError, ConfigError
from ..kinds import KINDS
from .common import UsageError, add_command, log_to_stderr

__all__ = ["connection_options", "flag_error", "read_secret", "register"]

SECRET_ENV = "ARCTOKEN_PASSWORD"  # noqa: S105 - a variable name
PROXY_SECRET_ENV = "ARCTOKEN_PROXY_PASSWORD"  # noqa: S105
CLI_FIELDS = frozenset(
    ("url", "username", "password", "client_id", "client_secret", "api_key", "expiration")
    + ("referer", "server_url", "proxy", "proxy_username", "proxy_password", "use_system_proxy")
    + ("verify", "ca_bundle", "cert_file", "key_file", "cert_password")
)
"""The Connection fields the command line can give."""
NOT_ON_CLI = ("pro",)
"""Kinds the command line leaves out: ArcGIS Pro's own sign-in needs Pro."""
CLI_KINDS = tuple(
    name for name, row in KINDS.items() if name not in NOT_ON_CLI and set(row.fields) <= CLI_FIELDS
)
"""The kinds ``arctoken token`` and ``arctoken login`` offer, from the kind table."""
SECRET_NAMES = {"app": "client secret", "apikey": "API key", "pki": "certificate password"}
SECRET_FLAGS = (
    "--password",
    "--client-secret",
    "--api-key",
    "--proxy-password",
    "--cert-password",
    "--key-password",
)
"""Flags people try for a secret: each is refused with the right way to give it."""
FIELD_FLAGS = {
    "cert_file": "--cert-file",
    "key_file": "--key-file",
    "cert_password": f"certificate password (give it with --password-stdin or {SECRET_ENV})",
}
"""Connection fields whose errors the command line names by its own flag."""

EXAMPLES = f"""\
  arctoken token --kind portal --url https://gis.example.com/portal --username analyst
      (prompts for the password)
  echo "$PASSWORD" | arctoken token --kind server --url https://gis.example.com/arcgis \\
      --username analyst --password-stdin --json
  {SECRET_ENV}=... arctoken token --kind app --client-id MyAppId
  TOKEN=$(arctoken token --kind apikey --password-stdin < key.txt)
  arctoken token --kind pki --url https://gis.example.com/portal --cert-file me.pfx
      (prompts for the certificate's password; a PEM: --cert-file me.pem --key-file me.key)
  arctoken token --kind iwa --url https://gis.example.com/portal
      (your Windows logon; or --username DOMAIN\\user and its password; needs pyspnego)"""


class _RefuseSecretFlag(argparse.Action):
    """A secret given as a flag: refused, naming the ways that keep it private."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Union[str, Sequence[Any], None],
        option_string: Optional[str] = None,
    ) -> None:
        """Raise UsageError (exit 2) naming the flag."""
        raise UsageError(
            str(option_string),
            f"passwords never come from a flag: use --password-stdin, {SECRET_ENV} or the prompt",
        )


def register(commands: Any) -> None:
    """Add ``arctoken token`` to the sub-commands."""
    token = add_command(
        commands,
        "token",
        EXAMPLES,
        help="print a token",
        description="Sign in and print a token. The password (or the app's client secret, "
        "the API key, the certificate's password) comes from --password-stdin, the "
        f"{SECRET_ENV} environment variable, or a prompt; never from a flag.",
    )
    token.set_defaults(handler=cmd_token)
    signin_arguments(token)
    token.add_argument(
        "--json",
        action="store_true",
        help="print token, expires (epoch ms, null for a key with no expiry), expires_iso, "
        "referer and url",
    )
    token.add_argument(
        "--verbose", action="store_true", help="log each HTTP exchange to stderr, secrets masked"
    )


def signin_arguments(parser: argparse.ArgumentParser) -> None:
    """What ``token`` and ``login`` both ask for: the connection, the secret's channel, the
    network, and ``--oob``. One definition, so the two commands cannot drift apart."""
    _connection_arguments(parser)
    _secret_arguments(parser)
    _network_arguments(parser)
    parser.add_argument(
        "--oob",
        action="store_true",
        help="user_oauth without a browser here: print the sign-in URL, paste the code",
    )


def _connection_arguments(token: argparse.ArgumentParser) -> None:
    token.add_argument(
        "--kind", choices=CLI_KINDS, default="online", help="what to sign in to (default online)"
    )
    token.add_argument("--url", help="portal or server URL (default https://www.arcgis.com)")
    token.add_argument(
        "--username",
        help="the account (case-sensitive; prompted for when missing); --kind iwa: "
        "DOMAIN\\user, or none for your Windows logon",
    )
    token.add_argument("--client-id", help="the app's client ID (--kind app or user_oauth)")
    token.add_argument(
        "--cert-file",
        metavar="FILE",
        help="--kind pki: your client certificate, .pfx/.p12 (needs cryptography) or .pem",
    )
    token.add_argument(
        "--key-file", metavar="FILE", help="--kind pki: the .pem key, if not in --cert-file"
    )
    token.add_argument("--server-url", help="a federated server to get a token for")
    token.add_argument("--referer", help="referer the token is bound to")
    token.add_argument(
        "--expiration",
        type=int,
        default=60,
        metavar="MINUTES",
        help="requested lifetime in minutes, 1-20160 (default 60)",
    )


def _secret_arguments(token: argparse.ArgumentParser) -> None:
    token.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password (or secret, key, certificate password) from the first line "
        "of stdin",
    )
    for flag in SECRET_FLAGS:
        token.add_argument(flag, action=_RefuseSecretFlag, nargs="?", help=argparse.SUPPRESS)


def _network_arguments(token: argparse.ArgumentParser) -> None:
    token.add_argument("--proxy", metavar="HOST:PORT", help="proxy for every request")
    token.add_argument(
        "--proxy-username",
        help=f"proxy user (DOMAIN\\user for an NTLM/Negotiate proxy; without it, such a proxy "
        f"gets your Windows logon); password from {PROXY_SECRET_ENV}",
    )
    token.add_argument(
        "--no-system-proxy",
        action="store_true",
        help="ignore HTTP(S)_PROXY and the system's proxy settings",
    )
    token.add_argument("--ca-bundle", metavar="FILE", help="PEM file of CAs to trust")
    token.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify TLS certificates (dangerous; for test servers)",
    )
    token.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="connect and read timeout (default 30)",
    )


def cmd_token(args: argparse.Namespace, stdin: TextIO) -> int:
    """``arctoken token``: sign in once and print the token (or its JSON)."""
    with log_to_stderr(logging.DEBUG if args.verbose else logging.WARNING):
        return _print_token(args, stdin)


def _print_token(args: argparse.Namespace, stdin: TextIO) -> int:
    from ..connection import Connection
    from ..run.reporting import expiry_of, local_time

    conn = Connection(**options_from(args, stdin), **interaction(args, stdin))
    token = conn.token_info()
    if args.json:
        from ..run.generate import issued_document

        print(json.dumps(issued_document(conn, token), indent=2))
    else:
        print(token.value)
    expires = expiry_of(conn, token)
    until = "no expiry" if expires is None else f"valid until {local_time(expires)}"
    print(f"arctoken: token for {conn.target_url}, {until}", file=sys.stderr)
    return 0


def connection_options(args: argparse.Namespace, secret: Optional[str]) -> Dict[str, Any]:
    """Connection keyword arguments from the parsed command line and the secret."""
    options: Dict[str, Any] = dict(
        kind=args.kind,
        url=args.url,
        referer=args.referer,
        expiration=args.expiration,
        server_url=args.server_url,
        proxy=args.proxy,
        proxy_username=args.proxy_username,
        proxy_password=os.environ.get(PROXY_SECRET_ENV) if args.proxy_username else None,
        use_system_proxy=not args.no_system_proxy,
        verify=not args.insecure,
        ca_bundle=args.ca_bundle,
        timeout=args.timeout,
    )
    if args.kind == "app":
        options.update(client_id=args.client_id, client_secret=secret)
    elif args.kind == "apikey":
        options.update(api_key=secret)
    elif args.kind == "pki":
        options.update(cert_file=_path(args.cert_file), key_file=_path(args.key_file))
        options.update(cert_password=secret)
    else:
        options.update(username=args.username, password=secret)
    return options


def _path(path: Optional[str]) -> Optional[str]:
    """A file given on the command line, as an absolute path (a saved profile keeps it)."""
    return os.path.abspath(path) if path else None


def read_secret(
    kind: str, from_stdin: bool, stdin: TextIO, optional: bool = False
) -> Optional[str]:
    """The password (client secret, API key, certificate password) from stdin, the
    environment or a prompt; an ``optional`` one is only read when given (None otherwise)."""
    what = SECRET_NAMES.get(kind, "password")
    if from_stdin:
        line = stdin.readline().rstrip("\r\n")
        if not line:
            raise ConfigError("--password-stdin", f"stdin was empty; pipe the {what} in")
        return line
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    if optional:
        return None
    if stdin.isatty():
        import getpass  # only a terminal is prompted

        return getpass.getpass(f"{what.capitalize()}: ") or None
    raise ConfigError(
        "password",
        f"no {what} given: use --password-stdin, set {SECRET_ENV}, or run in a "
        "terminal to be prompted",
    )


def options_from(args: argparse.Namespace, stdin: TextIO) -> Dict[str, Any]:
    """Connection keyword arguments from ``arctoken login`` or ``token``'s command line."""
    required = dict(KINDS[args.kind].required)
    if "username" in required and not args.username and stdin.isatty():
        args.username = input("Username: ").strip() or None
    secret = None
    _check_readable(args)
    if _takes_secret(args):
        secret = read_secret(args.kind, args.password_stdin, stdin, _secret_optional(args))
    options = connection_options(args, secret)
    if args.kind == "user_oauth":
        options.pop("password", None)
        options.update(username=None, client_id=args.client_id)
        options.update(oauth_flow="oob" if args.oob else "browser")
    return options


def _check_readable(args: argparse.Namespace) -> None:
    """A mistyped --cert-file or --key-file is said before any password is asked for it."""
    for field, path in (("cert_file", args.cert_file), ("key_file", args.key_file)):
        if path:
            from ..transport.tls_store import check_readable  # certificates only

            check_readable(path, field)  # its field is named by its flag (flag_error)


def _takes_secret(args: argparse.Namespace) -> bool:
    """OAuth signs in on the portal's page; Windows sign-in without a username is the logon."""
    return args.kind != "user_oauth" and not (args.kind == "iwa" and not args.username)


def _secret_optional(args: argparse.Namespace) -> bool:
    """A PEM certificate's key may be unencrypted: its password is read only when given."""
    if args.kind != "pki":
        return False
    from ..transport.tls_store import is_pkcs12  # certificates only

    return not (args.cert_file and is_pkcs12(args.cert_file))


def flag_error(exc: ArcTokenError) -> ArcTokenError:
    """``exc`` naming the command line's flag instead of the Connection field, where the two
    differ (``cert_file`` is ``--cert-file``)."""
    if isinstance(exc, ConfigError) and exc.field in FIELD_FLAGS:
        return type(exc)(FIELD_FLAGS[exc.field], exc.reason)
    return exc


def interaction(args: argparse.Namespace, stdin: TextIO) -> Dict[str, Any]:
    """How the OAuth sign-in reaches the user: the browser, or the pasted code."""

    def prompt(message: str) -> str:
        sys.stderr.write(message)
        sys.stderr.flush()
        line = stdin.readline()
        if not line.strip():
            raise ConfigError("--oob", "no code was pasted; run the login again")
        return line.strip()

    if args.kind != "user_oauth":
        return {}
    return {"prompt": prompt} if args.oob else {"open_browser": _open_browser}


def _open_browser(url: str) -> Optional[bool]:
    """``webbrowser.open``, looked up when called."""
    import webbrowser

    return webbrowser.open(url)
