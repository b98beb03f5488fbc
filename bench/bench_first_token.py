"""Time to first token and peak memory: the ``arctoken token`` command against raw requests.

An emulator starts once in this process. Two commands run in fresh processes, interleaved,
each reading the password from stdin and printing a token:

- ``python -m arctoken_core token --kind portal ... --password-stdin`` (the ``arctoken``
  command: parses its arguments, checks the connection's fields, and posts the password to
  the portal's standard ``/sharing/rest/generateToken``; that is its one HTTP request, since
  the token service is looked up only when that URL is not one);
- ``python -c`` with one ``requests.post`` to the same generateToken and a print.

So both send the same one request, and the ratio is what the command costs beyond it: its
start-up (imports, argument parsing, checks) and its exit. Wall time is measured from spawn
to exit, after warm-up rounds (bytecode cached as for an installed package), and the ratio
is the median of the per-round ratios; peak RSS is each child's own (``wait4``).
"""

from __future__ import annotations

import sys
from typing import List

from common import (
    PASSWORD,
    USER,
    BenchError,
    Command,
    ProcessRun,
    Result,
    alternate,
    at_most,
    compare,
    emulator_users,
    failed,
    median_rss,
    ms,
    python,
    script_main,
)

from arctoken_emulator import Emulator

RUNS = 41
WARMUP = 3
TIME_LIMIT = 1.15
MEMORY_LIMIT = 1.2

RAW = """
import sys, requests
password = sys.stdin.readline().rstrip("\\n")
reply = requests.post(
    {url!r},
    data={{"username": {user!r}, "password": password, "referer": "arctokentools",
          "expiration": "60", "f": "json"}},
)
print(reply.json()["token"])
"""


def _prints_a_token(name: str, run: ProcessRun) -> None:
    lines = run.stdout.strip().splitlines()
    if len(lines) != 1 or len(lines[0]) < 20:
        raise BenchError(f"{name} did not print a token: {run.stdout[:80]!r} {run.stderr[-200:]!r}")


def run() -> List[Result]:
    """Run both commands against one emulator; compare median times and median peak RSS."""
    with Emulator(users=emulator_users(), token_lifetime=3600.0) as emu:
        cli = [sys.executable, "-m", "arctoken_core", "token", "--kind", "portal"]
        cli += ["--url", emu.portal_url, "--username", USER, "--password-stdin"]
        raw = RAW.format(url=f"{emu.portal_url}/sharing/rest/generateToken", user=USER)
        found = alternate(
            {
                "cli": Command(cli, PASSWORD + "\n"),
                "raw": Command(python(raw), PASSWORD + "\n"),
            },
            RUNS,
            warmup=WARMUP,
            check=_prints_a_token,
        )
    times = compare(found, "cli", "raw")
    rows = [
        at_most(
            "first token: arctoken token / raw requests.post",
            times.ratio,
            TIME_LIMIT,
            f"median {ms(times.subject)} vs {ms(times.baseline)}, spawn to exit; "
            f"median of {RUNS} paired runs",
        )
    ]
    cli_kib, raw_kib = median_rss(found["cli"]), median_rss(found["raw"])
    if cli_kib is None or raw_kib is None:
        return rows + [failed("peak RSS", "this OS does not report a child's own peak RSS")]
    return rows + [
        at_most(
            "peak RSS: arctoken token / requests script",
            cli_kib / raw_kib,
            MEMORY_LIMIT,
            f"median {cli_kib / 1024:.1f} MiB vs {raw_kib / 1024:.1f} MiB, same processes",
        )
    ]


def main() -> int:
    """Run this benchmark alone and print its table."""
    return script_main("first token", run)


if __name__ == "__main__":
    sys.exit(main())
