"""``arctoken demo``: the main job, end to end, on the built-in emulator.

It signs in to every kind of emulated ArcGIS, then runs a geoprocessing job that lasts
several lifetimes of deliberately short tokens, and prints what happened in a few lines.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, TextIO, Tuple

from ..secrets import mask_token
from .common import add_command, between

if TYPE_CHECKING:
    from ..connection import Connection
    from ..run.gpjob import JobStatus
    from ..tokens.token import Token

__all__ = ["demo_accounts", "register", "run_demo"]

EXAMPLES = """\
  arctoken demo
  arctoken demo --token-lifetime 5 --lifetimes 4"""


def register(commands: Any) -> None:
    """Add ``arctoken demo`` to the sub-commands."""
    demo = add_command(
        commands,
        "demo",
        EXAMPLES,
        help="the main job on the built-in emulator",
        description="Start the emulator, get a token for every kind of connection, and run a "
        "geoprocessing job that outlives several short tokens. Needs no ArcGIS.",
    )
    demo.set_defaults(handler=cmd_demo)
    demo.add_argument(
        "--token-lifetime",
        type=between(0.5, 3600),
        default=2.0,
        metavar="SECONDS",
        help="lifetime of the demo's tokens (default 2)",
    )
    demo.add_argument(
        "--lifetimes",
        type=between(1, 100),
        default=3.5,
        metavar="N",
        help="how many token lifetimes the job lasts (default 3.5)",
    )


def cmd_demo(args: argparse.Namespace, stdin: TextIO) -> int:
    """``arctoken demo``: run the demo with the command line's lifetimes."""
    return run_demo(token_lifetime=args.token_lifetime, lifetimes=args.lifetimes)


DemoStep = Tuple[str, Dict[str, Any]]


def _steps(emu: Any, accounts: Dict[str, Any]) -> List[DemoStep]:
    user, password = next(iter(accounts["users"].items()))
    app, secret = next(iter(accounts["apps"].items()))
    key = next(iter(accounts["api_keys"]))
    signin = {"username": user, "password": password}
    return [
        ("ArcGIS Online", {"kind": "online", "url": emu.online_url, **signin}),
        ("Enterprise portal", {"kind": "portal", "url": emu.portal_url, **signin}),
        ("Standalone server", {"kind": "server", "url": emu.server_url, **signin}),
        (
            "Federated server",
            {
                "kind": "portal",
                "url": emu.portal_url,
                "server_url": emu.federated_server_url,
                **signin,
            },
        ),
        (
            "App credentials",
            {"kind": "app", "url": emu.online_url, "client_id": app, "client_secret": secret},
        ),
        ("API key", {"kind": "apikey", "url": emu.online_url, "api_key": key}),
    ]


def demo_accounts() -> Dict[str, Any]:
    """The emulator's demo users, app and API key (printed by ``arctoken emulator``)."""
    return {
        "users": {"demo": "demo-password", "analyst": "analyst-password"},
        "apps": {"demo-app": "demo-app-secret"},
        "api_keys": {"AAPKdemo0000000000000000000000key": None},
    }


def run_demo(
    token_lifetime: float = 2.0, lifetimes: float = 3.5, out: Optional[TextIO] = None
) -> int:
    """Run the demo and print its story to ``out`` (default stdout); 0 when all worked."""
    from arctoken_emulator import Emulator

    from ..connection import Connection

    accounts = demo_accounts()
    duration = token_lifetime * lifetimes
    say = _printer(out or sys.stdout)
    with Emulator(token_lifetime=token_lifetime, gp_job_duration=duration, **accounts) as emu:
        say(f"Emulated ArcGIS on 127.0.0.1; tokens live {token_lifetime:g} s.")
        for label, options in _steps(emu, accounts):
            conn = Connection(**options)
            token = conn.token_info()
            say(f"  {label:<18} token {mask_token(token.value)} for {conn.target_url}")
        server = Connection(kind="server", url=emu.server_url, **_first_user(accounts))
        _run_job(server, emu.gp_task_url, duration, token_lifetime, say)
        rejected = server.rejections
    say(
        f"Tokens issued {server.tokens_issued}, refreshed {server.refreshes} times, "
        f"{rejected} requests rejected for an expired token."
    )
    return 0


def _run_job(
    conn: Connection, task_url: str, duration: float, lifetime: float, say: Callable[[str], None]
) -> None:
    from ..run.gpjob import GPJob

    say(f"Geoprocessing job of {duration:g} s ({duration / lifetime:.1f} token lifetimes):")
    last = {"status": ""}

    def show(status: JobStatus) -> None:
        if status.status != last["status"]:
            last["status"] = status.status
            say(f"  {status.elapsed:5.1f} s  {status.status}")

    started = time.monotonic()

    def refreshed(token: Token, issued: int) -> None:
        if issued > 1:
            say(
                f"  {time.monotonic() - started:5.1f} s  token refreshed: {mask_token(token.value)}"
            )

    conn.on_token(refreshed)
    job = GPJob(conn.request_json, task_url, poll_interval=min(0.5, lifetime / 4), on_status=show)
    result = job.run({"Input": "demo"})
    elapsed = time.monotonic() - started
    say(f"  result after {elapsed:.1f} s: {result.results.get('Output')!r}")


def _first_user(accounts: Dict[str, Any]) -> Dict[str, Any]:
    user, password = next(iter(accounts["users"].items()))
    return {"username": user, "password": password}


def _printer(out: TextIO) -> Callable[[str], None]:
    def say(line: str) -> None:
        print(line, file=out, flush=True)

    return say
