"""The ``arctoken`` command: the root parser, the dispatch to a command, one-line errors.

Messages go to stderr; stdout carries only what was asked for (the token, or its JSON), so
``TOKEN=$(arctoken token ...)`` works. Errors are one line (control characters escaped) and a
documented exit status (:data:`~arctoken_core.cli.common.EXIT_STATUS`).

Each command lives in its own module with a ``register(commands)`` function; adding one is
one module and one line in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, Optional, Sequence, TextIO, Tuple

from .._version import __version__
from ..errors import ArcTokenError
from . import completion, demo, emulator, login, run_command, token
from .common import EXIT_STATUS, Parser, UsageError, one_line

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: Tuple[Callable[[Any], None], ...] = (
    token.register,
    emulator.register,
    demo.register,
    completion.register,
    login.register,
    run_command.register,
)
"""Each command's ``register(commands)``, in the order ``--help`` lists them."""

EXAMPLES = """\
examples:
  arctoken token --kind portal --url https://gis.example.com/portal --username analyst
  arctoken emulator
  arctoken demo
  arctoken COMMAND --help"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``arctoken`` and its sub-commands."""
    parser = Parser(
        prog="arctoken",
        description="ArcGIS tokens that stay valid: sign in once, get a token, run long jobs.",
        epilog=f"{EXAMPLES}\n\n{EXIT_STATUS}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"arctoken {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in COMMANDS:
        register(commands)
    return parser


def main(argv: Optional[Sequence[str]] = None, stdin: TextIO = sys.stdin) -> int:
    """Run the command line; return the exit status (never raise for expected errors)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return _fail(exc)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        status: int = args.handler(args, stdin)
    except ArcTokenError as exc:
        return _fail(exc)
    except KeyboardInterrupt:
        print("arctoken: interrupted", file=sys.stderr)
        return 130
    return status


def _fail(exc: ArcTokenError) -> int:
    """Print ``exc`` as one escaped, masked ``arctoken: error:`` line; its exit status."""
    exc = token.flag_error(exc)
    print(f"arctoken: error: {one_line(str(exc))}", file=sys.stderr)
    return exc.exit_code
