"""``arctoken run --profile NAME -- COMMAND...``: a command with a fresh token, kept fresh.

Like ``aws-vault exec``: the command gets ``ARCGIS_TOKEN``, ``ARCGIS_TOKEN_URL`` and
``ARCGIS_REFERER`` (when the token has one) in its environment, and ``ARCGIS_TOKEN_FILE``, an
owner-only JSON token file (``token``, ``expires``, ``expires_iso``, ``referer``, ``url``)
that is rewritten with a fresh token ahead of each expiry for as long as the command runs,
for commands that outlive a token. The exit status is the command's; the file is removed
when it ends.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, TextIO

from ..errors import ArcTokenError, ConfigError
from ..files import write_private
from ..secrets import get_logger
from .common import add_command, log_to_stderr

if TYPE_CHECKING:
    from ..connection import Connection
    from ..tokens.token import Token

__all__ = ["TokenFileKeeper", "register", "token_environment"]

log = get_logger(__name__)

EXAMPLES = """\
  arctoken run --profile work -- python my_script.py --year 2026
  arctoken run --profile gis -- sh -c 'curl -H "X-Esri-Authorization: Bearer $ARCGIS_TOKEN" ...'"""
_MAX_CHECK = 60.0
"""Seconds between checks of the token at most (a token is renewed minutes before expiry)."""


def register(commands: Any) -> None:
    """Add ``arctoken run`` to the sub-commands."""
    run = add_command(
        commands,
        "run",
        EXAMPLES,
        help="run a command with a fresh token from a saved profile",
        description="Run COMMAND with ARCGIS_TOKEN, ARCGIS_TOKEN_URL, ARCGIS_REFERER and "
        "ARCGIS_TOKEN_FILE (a JSON token file kept fresh while it runs) in its environment; "
        "exit with its exit status.",
    )
    run.add_argument("--profile", required=True, metavar="NAME", help="the saved profile")
    run.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    run.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace, stdin: TextIO) -> int:
    """``arctoken run``: sign in from the profile, run the command, return its status."""
    from ..connection import Connection

    command: List[str] = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise ConfigError("command", "give the command after --, e.g. -- python script.py")
    with log_to_stderr(logging.WARNING):
        conn = Connection(profile=args.profile)
        folder = Path(tempfile.mkdtemp(prefix="arctoken-run-"))
        keeper = TokenFileKeeper(conn, folder / "token.json")
        try:
            env = {**os.environ, **token_environment(conn, keeper.write())}
            env["ARCGIS_TOKEN_FILE"] = str(keeper.path)
            keeper.start()
            return _run(command, env)
        finally:
            keeper.stop()
            shutil.rmtree(folder, ignore_errors=True)


def token_environment(conn: Connection, token: Token) -> Dict[str, str]:
    """``ARCGIS_TOKEN``, ``ARCGIS_TOKEN_URL`` and (when the token has one) ``ARCGIS_REFERER``."""
    env = {"ARCGIS_TOKEN": token.value, "ARCGIS_TOKEN_URL": conn.target_url}
    if token.referer:
        env["ARCGIS_REFERER"] = token.referer
    return env


def _run(command: List[str], env: Dict[str, str]) -> int:
    try:
        child = subprocess.Popen(command, env=env)  # noqa: S603 - the user's own command
    except OSError as exc:
        raise ConfigError("command", f"cannot run {command[0]!r}: {exc.strerror}") from None
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:  # the child got the Ctrl+C too: let it finish its way
            continue


class TokenFileKeeper:
    """Keeps ``path`` holding a valid token of ``conn``, rewritten whenever it is renewed.

    A background thread asks the connection for its token every so often (a tenth of the
    token's lifetime, at most a minute, of real time); the connection signs in again only when
    the token nears its expiry, and the file is replaced atomically, owner-only.
    """

    def __init__(self, conn: Connection, path: Path, interval: Optional[float] = None) -> None:
        self.conn = conn
        self.path = path
        self.interval = interval
        self.writes = 0
        self._written: Optional[str] = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="token-file", daemon=True)

    def write(self) -> Token:
        """Write the current token (if it changed) and return it."""
        from ..run.generate import issued_document

        token = self.conn.token_info()
        if token.value != self._written:
            write_private(self.path, json.dumps(issued_document(self.conn, token), indent=2))
            self._written = token.value
            self.writes += 1
        return token

    def start(self) -> None:
        """Start keeping the file fresh in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread and remove the file."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def _loop(self) -> None:
        pause = self.interval or _MAX_CHECK
        while not self._stop.wait(pause):
            try:
                token = self.write()
            except ArcTokenError as exc:
                log.warning("could not renew the token file: %s", exc)
                continue
            if self.interval is None:
                pause = min(_MAX_CHECK, max(1.0, token.lifetime / 10.0))
