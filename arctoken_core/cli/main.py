"""The ``arctoken`` command: the root parser, the dispatch to a command, one-line errors.

Messages go to stderr; stdout carries only what was asked for (the token, or its JSON), so
``TOKEN=$(arctoken token ...)`` works. Errors are one line (control characters escaped) and a
documented exit status (:data:`~arctoken_core.cli.common.EXIT_STATUS`).

Each command lives in its own module with a ``register(commands)`` function; adding one is
one module and one line in :data:`COMMANDS`. Only the module of the command being run is
imported (all of them for the root ``--help``, an unknown command, or completion), so
``arctoken token`` starts as fast as a plain script.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Dict, Optional, Sequence, TextIO, Tuple

from .._version import __version__
from ..errors import ArcTokenError
from .common import EXIT_STATUS, Parser, UsageError, one_line

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: Dict[str, Tuple[str, ...]] = {
    "token": ("token",),
    "emulator": ("emulator",),
    "demo": ("demo",),
    "completion": ("completion",),
    "login": ("login", "logout", "profiles"),
    "run_command": ("run",),
}
"""Each command module of this package and the sub-commands its ``register(commands)`` adds,
in the order ``--help`` lists them."""
EVERY_COMMAND = frozenset({"completion"})
"""Sub-commands that need every other one loaded (completion lists their options)."""

EXAMPLES = """\
examples:
  arctoken token --kind portal --url https://gis.example.com/portal --username analyst
  arctoken emulator
  arctoken demo
  arctoken COMMAND --help"""


def build_parser(argv: Optional[Sequence[str]] = None) -> argparse.ArgumentParser:
    """The argument parser of ``arctoken`` and its sub-commands.

    Given the command line ``argv``, only the module of the sub-command it names is loaded;
    without it (or when it names none), every sub-command is.
    """
    parser = Parser(
        prog="arctoken",
        description="ArcGIS tokens that stay valid: sign in once, get a token, run long jobs.",
        epilog=f"{EXAMPLES}\n\n{EXIT_STATUS}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"arctoken {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _modules_for(argv):
        importlib.import_module(f"{__package__}.{module}").register(commands)
    return parser


def _modules_for(argv: Optional[Sequence[str]]) -> Tuple[str, ...]:
    """The one module whose sub-command ``argv`` names first, or every module."""
    first = next((arg for arg in argv or () if not arg.startswith("-")), None)
    for module, names in COMMANDS.items():
        if first in names and first not in EVERY_COMMAND:
            return (module,)
    return tuple(COMMANDS)


def main(argv: Optional[Sequence[str]] = None, stdin: TextIO = sys.stdin) -> int:
    """Run the command line; return the exit status (never raise for expected errors)."""
    parser = build_parser(sys.argv[1:] if argv is None else argv)
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
    from .token import flag_error  # an error's field, named by its command-line flag

    exc = flag_error(exc)
    print(f"arctoken: error: {one_line(str(exc))}", file=sys.stderr)
    return exc.exit_code
