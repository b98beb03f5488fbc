"""Peer conformance: Esri's own clients, unpatched, against the emulator over https.

    python peer/run.py [--only python|js] [--reinstall]

Run it with the project's environment active (it imports ``arctoken_emulator`` and
``trustme``). The first run makes a side virtual environment ``peer/.venv`` with the ArcGIS
API for Python and ``peer/node_modules`` with ``@esri/arcgis-rest-request``, at the exact
versions in ``peer/requirements.txt`` and ``peer/package.json`` (both folders are
git-ignored; later runs reuse them while the pins are unchanged). It starts the emulator
over https with a throw-away CA, runs ``python_client.py`` and ``js_client.mjs``, prints
their ``PASS``/``FAIL`` lines and one ``N passed, N failed`` line, and exits 1 when any
check failed or a client could not be installed or run. The emulator is right when these
pass unpatched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

if TYPE_CHECKING:
    from arctoken_emulator import Emulator

PEER = Path(__file__).resolve().parent
ROOT = PEER.parent
VENV = PEER / ".venv"
REQUIREMENTS = PEER / "requirements.txt"
PACKAGE = PEER / "package.json"
STAMP = ".peer-pins"
"""Inside each install folder: a copy of the pins it was installed from."""
CLIENT_SECONDS = 600
"""The most one client may take to run its checks."""
USER, PASSWORD = "alice", "peer-wonderland"
ADMIN, ADMIN_PASSWORD = "admin", "peer-adminpass"
APP, APP_SECRET = "peerapp", "peer-app-secret"
API_KEY = "AAPKpeerconformance00000000000000"

Outcome = Tuple[List[str], List[str]]
"""(passed, failed) check lines."""


def main(argv: Optional[List[str]] = None) -> int:
    """Install what is missing, run both clients against one emulator, report, exit."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("python", "js"), help="run one client only")
    parser.add_argument("--reinstall", action="store_true", help="install the clients afresh")
    args = parser.parse_args(argv)
    clients = ["python", "js"] if args.only is None else [args.only]
    passed: List[str] = []
    failed: List[str] = []
    for client in clients:
        started = time.monotonic()
        problem = install(client, args.reinstall)
        print(f"# {client}: ready in {time.monotonic() - started:.0f} s", flush=True)
        if problem is not None:
            failed.append(f"FAIL {client}_install: {problem}")
            print(failed[-1], flush=True)
    ready = [c for c in clients if not any(f.startswith(f"FAIL {c}_install") for f in failed)]
    if ready:
        good, bad = run_clients(ready)
        passed += good
        failed += bad
    print(f"{len(passed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed or not passed else 0


# -- installing the clients ------------------------------------------------------------------


def install(client: str, again: bool) -> Optional[str]:
    """Make the client's side installation if its pins changed; a problem line, or None."""
    folder, pins = (VENV, REQUIREMENTS) if client == "python" else (PEER / "node_modules", PACKAGE)
    stamp = folder / STAMP
    if not again and stamp.exists() and stamp.read_text() == pins.read_text():
        return None
    steps = python_steps() if client == "python" else js_steps()
    if steps is None:
        return "node and npm are needed for the JavaScript client; install Node.js 18 or later"
    if again and folder.exists():
        shutil.rmtree(folder)
    for step in steps:
        done = subprocess.run(  # noqa: S603 - fixed commands made above, no shell
            step, cwd=PEER, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return f"{Path(step[0]).name} exited {done.returncode}: {tail[0][:200]}"
    stamp.write_text(pins.read_text())
    return None


def python_steps() -> List[List[str]]:
    """Commands that make ``peer/.venv`` with the pinned ArcGIS API for Python."""
    python = venv_python()
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    return [[sys.executable, "-m", "venv", str(VENV)], [*pip, "-r", str(REQUIREMENTS)]]


def js_steps() -> Optional[List[List[str]]]:
    """The command that fills ``peer/node_modules``; None without npm."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return None
    return [[npm, "install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"]]


def venv_python() -> Path:
    """The side environment's interpreter."""
    windows = VENV / "Scripts" / "python.exe"
    return windows if os.name == "nt" else VENV / "bin" / "python"


# -- running them ----------------------------------------------------------------------------


def run_clients(clients: List[str]) -> Outcome:
    """Start the https emulator with a throw-away CA and run each client against it."""
    import trustme

    sys.path.insert(0, str(ROOT))
    from arctoken_emulator import Emulator

    passed: List[str] = []
    failed: List[str] = []
    with tempfile.TemporaryDirectory(prefix="arctoken-peer-") as folder:
        ca_file, cert_file = str(Path(folder, "ca.pem")), str(Path(folder, "server.pem"))
        ca = trustme.CA()
        ca.cert_pem.write_to_path(ca_file)
        ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
            cert_file
        )
        with Emulator(
            users={USER: PASSWORD, ADMIN: ADMIN_PASSWORD},
            apps={APP: APP_SECRET},
            api_keys={API_KEY: None},
            certfile=cert_file,
            gp_job_duration=2.0,
        ) as emu:
            env = client_environment(emu, ca_file)
            for client in clients:
                good, bad = run_one(client, env)
                passed += good
                failed += bad
    return passed, failed


def client_environment(emu: Emulator, ca_file: str) -> Dict[str, str]:
    """Where everything is, the demo credentials and the CA, for the client processes."""
    env = dict(os.environ)
    env.update(
        PEER_PORTAL=emu.portal_url,
        PEER_ONLINE=emu.online_url,
        PEER_FEDERATED=emu.federated_server_url,
        PEER_SERVER=emu.server_url,
        PEER_HOSTED=emu.hosted_server_url,
        PEER_USER=USER,
        PEER_PASSWORD=PASSWORD,
        PEER_ADMIN=ADMIN,
        PEER_ADMIN_PASSWORD=ADMIN_PASSWORD,
        PEER_CLIENT_ID=APP,
        PEER_CLIENT_SECRET=APP_SECRET,
        PEER_API_KEY=API_KEY,
        SSL_CERT_FILE=ca_file,
        REQUESTS_CA_BUNDLE=ca_file,
        NODE_EXTRA_CA_CERTS=ca_file,
    )
    return env


def run_one(client: str, env: Dict[str, str]) -> Outcome:
    """One client's checks: its PASS and FAIL lines, printed as they are read."""
    if client == "python":
        command = [str(venv_python()), str(PEER / "python_client.py")]
    else:
        command = [shutil.which("node") or "node", str(PEER / "js_client.mjs")]
    started = time.monotonic()
    try:
        done = subprocess.run(  # noqa: S603 - our interpreter or node, our script, no shell
            command, env=env, capture_output=True, text=True, timeout=CLIENT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        line = f"FAIL {client}: did not finish within {CLIENT_SECONDS} s"
        print(line, flush=True)
        return [], [line]
    passed, failed = read_lines(client, done.stdout)
    print(f"# {client}: {time.monotonic() - started:.0f} s", flush=True)
    if done.returncode != 0 or not (passed or failed):
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        failed.append(f"FAIL {client}: exited {done.returncode}: {tail[0][:200]}")
        print(failed[-1], flush=True)
    return passed, failed


def read_lines(client: str, stdout: str) -> Outcome:
    """Sort a client's output into PASS and FAIL lines (named after the client)."""
    passed: List[str] = []
    failed: List[str] = []
    for raw in stdout.splitlines():
        verdict, _, rest = raw.partition(" ")
        if verdict in ("PASS", "FAIL"):
            line = f"{verdict} {client}.{rest}"
            (passed if verdict == "PASS" else failed).append(line)
            print(line, flush=True)
        elif raw.startswith("#"):
            print(f"# {client}: {raw.lstrip('# ')}", flush=True)
    return passed, failed


if __name__ == "__main__":
    sys.exit(main())
