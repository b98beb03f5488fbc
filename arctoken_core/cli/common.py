"""What every ``arctoken`` command shares: its parser class, argument types, one-line errors.

A command module offers ``register(commands)``: it adds its sub-parser (with examples in its
help) and sets ``handler``, a ``(args, stdin) -> exit status`` function, as its default.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, Callable, ContextManager, NoReturn, TextIO

from ..errors import ConfigError
from ..secrets import log_to, redact

__all__ = [
    "EXIT_STATUS",
    "Handler",
    "Parser",
    "UsageError",
    "add_command",
    "between",
    "log_to_stderr",
    "one_line",
]

Handler = Callable[[argparse.Namespace, TextIO], int]
"""What a command runs: the parsed arguments and stdin in, the exit status out."""

EXIT_STATUS = """\
exit status:
  0    success
  1    other error
  2    bad input or configuration
  3    sign-in refused (never retried)
  4    ArcGIS answered with an error
  5    network, TLS, proxy or unreadable reply
  6    geoprocessing job failed
  130  interrupted (Ctrl+C)"""
"""The exit statuses, as ``--help`` lists them."""


class UsageError(ConfigError):
    """A command line argparse refused; reported as one line like every other error."""


class Parser(argparse.ArgumentParser):
    """argparse, but a refused option is a UsageError instead of usage text and an exit."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        """Raise UsageError naming this (sub)command, for main() to print as one line."""
        raise UsageError(self.prog, f"{message} (see '{self.prog} --help')")


def add_command(commands: Any, name: str, examples: str, **options: Any) -> Parser:
    """Add the sub-command ``name``; its help ends with ``examples`` and the exit statuses."""
    parser: Parser = commands.add_parser(
        name,
        epilog=f"examples:\n{examples.rstrip()}\n\n{EXIT_STATUS}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
        **options,
    )
    return parser


def between(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a number from ``low`` to ``high``."""

    def number(text: str) -> float:
        value = float(text)
        if not low <= value <= high:  # NaN fails too
            raise argparse.ArgumentTypeError(
                f"must be from {low:.10g} to {high:.10g}, not {text!r}"
            )
        return value

    return number


def one_line(text: str) -> str:
    """``text`` as one terminal-safe line: secrets masked, line breaks, tabs, escape
    sequences and other control or invisible formatting characters shown escaped."""
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
        for ch in redact(str(text))
    )


class _OneLineFormatter(logging.Formatter):
    """Log records as ``arctoken: LEVEL message`` lines, the message made one_line."""

    def format(self, record: logging.LogRecord) -> str:
        """One prefixed, escaped line."""
        return f"arctoken: {record.levelname} {one_line(record.getMessage())}"


def log_to_stderr(level: int) -> ContextManager[None]:
    """Show the package's warnings (with --verbose, each exchange) as prefixed stderr lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLineFormatter())
    return log_to(handler, level)
