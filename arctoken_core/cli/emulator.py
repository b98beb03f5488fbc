"""``arctoken emulator``: serve the loopback ArcGIS emulator until Ctrl+C."""

from __future__ import annotations

import argparse
import ssl
import sys
from typing import Any, TextIO

from ..errors import ConfigError
from .common import add_command, between

__all__ = ["register"]

EXAMPLES = """\
  arctoken emulator
  arctoken emulator --port 8400 --token-lifetime 120 --job-duration 600
  arctoken emulator --certfile localhost.pem --keyfile localhost-key.pem"""


def _port(text: str) -> int:
    """An argparse type: 0 (any free ports) or the first of five ports, 1024-65531."""
    value = int(text)
    if value != 0 and not 1024 <= value <= 65531:
        raise argparse.ArgumentTypeError("must be 0 (any free ports) or 1024 to 65531")
    return value


def register(commands: Any) -> None:
    """Add ``arctoken emulator`` to the sub-commands."""
    emulator = add_command(
        commands,
        "emulator",
        EXAMPLES,
        help="run the loopback ArcGIS emulator until Ctrl+C",
        description="Serve an emulated ArcGIS Online, Enterprise portal and servers on "
        "127.0.0.1, to rehearse scripts offline. Prints the URLs and demo credentials.",
    )
    emulator.set_defaults(handler=cmd_emulator)
    emulator.add_argument(
        "--token-lifetime",
        type=between(1, 14 * 86400),
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
        type=between(0.1, 86400),
        default=30.0,
        metavar="SECONDS",
        help="how long a geoprocessing job runs (default 30)",
    )


def cmd_emulator(args: argparse.Namespace, stdin: TextIO) -> int:
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
