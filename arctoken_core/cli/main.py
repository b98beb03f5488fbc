"""The ``arctoken`` command: ``token``, ``emulator`` and ``demo``.

Messages go to stderr; stdout carries only what was asked for (the token, or its JSON), so
``TOKEN=$(arctoken token ...)`` works. Errors are one line and a documented exit status:

0 success · 1 other error · 2 bad input or configuration · 3 sign-in refused (not retried) ·
4 ArcGIS answered with an error · 5 network, TLS, proxy or unreadable reply · 6 job failed ·
130 interrupted.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import ssl
import sys
from typing import Any, Callable, ContextManager, Dict, NoReturn, Optional, Sequence, TextIO

from .._version import __version__
from ..errors import ArcTokenError, ConfigError
from ..secrets import log_to, redact

SECRET_ENV = "ARCTOKEN_PASSWORD"  # noqa: S105 - a variable name
PROXY_SECRET_ENV = "ARCTOKEN_PROXY_PASSWORD"  # noqa: S105
CLI_KINDS = ("online", "portal", "server", "apikey", "app")
SECRET_NAMES = {"app": "client secret", "apikey": "API key"}


class UsageError(ConfigError):
    """A command line argparse refused; reported as one line like every other error."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a refused option is a UsageError instead of usage text and an exit."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        """Raise UsageError naming this (sub)command, for main() to print as one line."""
        raise UsageError(self.prog, f"{message} (see '{self.prog} --help')")


def _between(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a number from ``low`` to ``high``."""

    def number(text: str) -> float:
        value = float(text)
        if not low <= value <= high:  # NaN fails too
            raise argparse.ArgumentTypeError(
                f"must be from {low:.10g} to {high:.10g}, not {text!r}"
            )
        return value

    return number


def _port(text: str) -> int:
    """An argparse type: 0 (any free ports) or the first of five ports, 1024-65531."""
    value = int(text)
    if value != 0 and not 1024 <= value <= 65531:
        raise argparse.ArgumentTypeError("must be 0 (any free ports) or 1024 to 65531")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``arctoken`` and its sub-commands."""
    parser = _Parser(
        prog="arctoken",
        description="ArcGIS tokens that stay valid: sign in once, get a token, run long jobs.",
        epilog="Exit status: 0 ok, 1 error, 2 bad input, 3 sign-in refused, 4 ArcGIS error, "
        "5 network/TLS/proxy, 6 job failed, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"arctoken {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _token_parser(commands)
    emulator = commands.add_parser(
        "emulator",
        help="run the loopback ArcGIS emulator until Ctrl+C",
        description="Serve an emulated ArcGIS Online, Enterprise portal and servers on "
        "127.0.0.1, to rehearse scripts offline. Prints the URLs and demo credentials.",
    )
    emulator.add_argument(
        "--token-lifetime",
        type=_between(1, 14 * 86400),
        default=3600.0,
        metavar="SECONDS",
        help="longest lifetime of issued tokens (default 3600)",
    )
    emulator.add_argument(
        "--port",
        type=_port,
        default=0,
        metavar="N",
        help="serve on ports N to N+4 (default: any free ports)",
    )
    emulator.add_argument("--certfile", help="serve https with this PEM certificate (chain)")
    emulator.add_argument("--keyfile", help="the certificate's private key, if not in --certfile")
    emulator.add_argument(
        "--job-duration",
        type=_between(0.1, 86400),
        default=30.0,
        metavar="SECONDS",
        help="how long a geoprocessing job runs (default 30)",
    )
    demo = commands.add_parser(
        "demo",
        help="the main job on the built-in emulator",
        description="Start the emulator, get a token for every kind of connection, and run a "
        "geoprocessing job that outlives several short tokens. Needs no ArcGIS.",
    )
    demo.add_argument(
        "--token-lifetime",
        type=_between(0.5, 3600),
        default=2.0,
        metavar="SECONDS",
        help="lifetime of the demo's tokens (default 2)",
    )
    demo.add_argument(
        "--lifetimes",
        type=_between(1, 100),
        default=3.5,
        metavar="N",
        help="how many token lifetimes the job lasts (default 3.5)",
    )
    return parser


def _token_parser(commands: Any) -> None:
    token = commands.add_parser(
        "token",
        help="print a token",
        description="Sign in and print a token. The password (or the app's client secret, or "
        f"the API key) comes from --password-stdin, the {SECRET_ENV} environment variable, "
        "or a prompt; never from a flag.",
    )
    token.add_argument(
        "--kind", choices=CLI_KINDS, default="online", help="what to sign in to (default online)"
    )
    token.add_argument("--url", help="portal or server URL (default https://www.arcgis.com)")
    token.add_argument("--username", help="the account (case-sensitive)")
    token.add_argument("--client-id", help="the app's client ID (--kind app)")
    token.add_argument("--server-url", help="a federated server to get a token for")
    token.add_argument("--referer", help="referer the token is bound to")
    token.add_argument(
        "--expiration",
        type=int,
        default=60,
        metavar="MINUTES",
        help="requested lifetime in minutes, 1-20160 (default 60)",
    )
    token.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password (or secret, or key) from the first line of stdin",
    )
    token.add_argument("--proxy", metavar="HOST:PORT", help="proxy for every request")
    token.add_argument("--proxy-username", help=f"proxy user; password from {PROXY_SECRET_ENV}")
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
    token.add_argument(
        "--json",
        action="store_true",
        help="print token, expires (epoch ms), expires_iso, referer and url",
    )
    token.add_argument(
        "--verbose", action="store_true", help="log each HTTP exchange to stderr, secrets masked"
    )


def main(argv: Optional[Sequence[str]] = None, stdin: TextIO = sys.stdin) -> int:
    """Run the command line; return the exit status (never raise for expected errors)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(f"arctoken: error: {redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        if args.command == "token":
            return cmd_token(args, stdin)
        if args.command == "emulator":
            return cmd_emulator(args)
        from .demo import run_demo

        return run_demo(token_lifetime=args.token_lifetime, lifetimes=args.lifetimes)
    except ArcTokenError as exc:
        print(f"arctoken: error: {redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("arctoken: interrupted", file=sys.stderr)
        return 130


def cmd_token(args: argparse.Namespace, stdin: TextIO) -> int:
    """``arctoken token``: sign in once and print the token (or its JSON)."""
    with _log_to_stderr(logging.DEBUG if args.verbose else logging.WARNING):
        return _print_token(args, read_secret(args.kind, args.password_stdin, stdin))


def _print_token(args: argparse.Namespace, secret: Optional[str]) -> int:
    from ..connection import Connection
    from ..tokens.token import iso_utc, token_document

    conn = Connection(**connection_options(args, secret))
    token = conn.token_info()
    if args.json:
        print(json.dumps(token_document(token, conn.target_url), indent=2))
    else:
        print(token.value)
    print(
        f"arctoken: token for {conn.target_url}, valid until {iso_utc(token.expires_at)}",
        file=sys.stderr,
    )
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
    else:
        options.update(username=args.username, password=secret)
    return options


def read_secret(kind: str, from_stdin: bool, stdin: TextIO) -> Optional[str]:
    """The password (client secret, API key) from stdin, the environment or a prompt."""
    what = SECRET_NAMES.get(kind, "password")
    if from_stdin:
        line = stdin.readline().rstrip("\r\n")
        if not line:
            raise ConfigError("--password-stdin", f"stdin was empty; pipe the {what} in")
        return line
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    if stdin.isatty():
        return getpass.getpass(f"{what.capitalize()}: ")
    raise ConfigError(
        "password",
        f"no {what} given: use --password-stdin, set {SECRET_ENV}, or run in a "
        "terminal to be prompted",
    )


def cmd_emulator(args: argparse.Namespace) -> int:
    """``arctoken emulator``: serve until interrupted."""
    import threading

    from arctoken_emulator import Emulator

    from .demo import demo_accounts

    emu = Emulator(
        token_lifetime=args.token_lifetime,
        gp_job_duration=args.job_duration,
        base_port=args.port,
        certfile=args.certfile,
        keyfile=args.keyfile,
        **demo_accounts(),
    )
    try:
        emu.start()
    except (OSError, ssl.SSLError) as exc:
        emu.stop()
        raise ConfigError("--port/--certfile", f"cannot serve: {exc}") from None
    try:
        print(emu.describe())
        print("Press Ctrl+C to stop.", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        emu.stop()
    return 0


def _log_to_stderr(level: int) -> ContextManager[None]:
    """Show the package's warnings (with --verbose, each exchange) as prefixed stderr lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("arctoken: %(levelname)s %(message)s"))
    return log_to(handler, level)
