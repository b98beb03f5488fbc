"""Beside Esri's own client: time to first token and HTTP requests per sign-in, same emulator.

When the ArcGIS API for Python is installed in a side virtual environment (``python
peer/run.py`` makes one; ``$ARCTOKEN_PEER_PYTHON`` may name another interpreter), both sign
in to one emulator portal over https, in fresh processes, interleaved:

- ``python -m arctoken_core token --kind portal ... --password-stdin`` (this project);
- ``GIS(portal, username, password)`` of the ArcGIS API for Python, then its token.

The ratio of their spawn-to-exit times is judged, and the HTTP requests each makes for one
sign-in are counted from the emulator's log. Without the side environment the row says how
to make it; it is context, not a miss, since that client is not a dependency.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

import trustme
from common import (
    PASSWORD,
    ROOT,
    USER,
    BenchError,
    Command,
    Launcher,
    ProcessRun,
    Result,
    alternate,
    at_most,
    compare,
    context,
    emulator_users,
    ms,
    script_main,
)

from arctoken_emulator import Emulator

RUNS = 5
TIME_LIMIT = 1.0
"""This project must get its first token no slower than Esri's client."""
REQUEST_LIMIT = 1.0

PEER = """
import sys
from arcgis.gis import GIS
password = sys.stdin.readline().rstrip("\\n")
gis = GIS({url!r}, {user!r}, password, verify_cert=False)
print(gis._con.token)
"""


def peer_python() -> Optional[Path]:
    """The side environment's interpreter, or None when there is none."""
    named = os.environ.get("ARCTOKEN_PEER_PYTHON")
    if named:
        return Path(named)
    for candidate in ("peer/.venv/bin/python", "peer/.venv/Scripts/python.exe"):
        path = ROOT / candidate
        if path.exists():
            return path
    return None


def _prints_a_token(name: str, run: ProcessRun) -> None:
    lines = run.stdout.strip().splitlines()
    if not lines or len(lines[-1]) < 20:
        raise BenchError(f"{name} did not print a token: {run.stdout[:80]!r} {run.stderr[-300:]!r}")


def _requests_for_one(emu: Emulator, command: Command, name: str) -> int:
    """HTTP requests the emulator received while ``command`` signed in once."""
    emu.clear_requests()
    with Launcher() as launcher:
        run = launcher.run(command)
    if run.returncode != 0:
        raise BenchError(f"{name} exited {run.returncode}: {run.stderr.strip()[-300:]}")
    _prints_a_token(name, run)
    return len(emu.requests)


def run() -> List[Result]:
    """Both clients against one https emulator, when the side environment exists."""
    peer = peer_python()
    if peer is None:
        return [
            context(
                "first token: ArcGIS API for Python (not installed)",
                float("nan"),
                "run `python peer/run.py` once to install it in a side environment",
            )
        ]
    ca = trustme.CA()
    with tempfile.TemporaryDirectory() as folder:
        cert, ca_file = Path(folder, "server.pem"), Path(folder, "ca.pem")
        ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
            str(cert)
        )
        ca.cert_pem.write_to_path(str(ca_file))
        with Emulator(users=emulator_users(), certfile=str(cert), keyfile=str(cert)) as emu:
            ours = [sys.executable, "-m", "arctoken_core", "token", "--kind", "portal"]
            ours += ["--url", emu.portal_url, "--username", USER, "--password-stdin"]
            ours += ["--ca-bundle", str(ca_file)]
            commands = {
                "arctoken": Command(ours, PASSWORD + "\n"),
                "arcgis": Command(
                    [str(peer), "-c", PEER.format(url=emu.portal_url, user=USER)],
                    PASSWORD + "\n",
                ),
            }
            counts = {name: _requests_for_one(emu, cmd, name) for name, cmd in commands.items()}
            found = alternate(commands, RUNS, warmup=1, check=_prints_a_token)
    times = compare(found, "arctoken", "arcgis")
    return [
        at_most(
            "first token: arctoken token / ArcGIS API for Python",
            times.ratio,
            TIME_LIMIT,
            f"median {ms(times.subject)} vs {ms(times.baseline)}, spawn to exit over https; "
            f"median of {RUNS} paired runs",
        ),
        at_most(
            "HTTP requests per sign-in: arctoken / ArcGIS API for Python",
            counts["arctoken"] / max(1, counts["arcgis"]),
            REQUEST_LIMIT,
            f"{counts['arctoken']} vs {counts['arcgis']} requests for one sign-in",
        ),
    ]


def main() -> int:
    """Run this benchmark alone and print its table."""
    return script_main("peer", run)


if __name__ == "__main__":
    sys.exit(main())
