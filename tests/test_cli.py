"""The arctoken command as a user runs it: token, errors with exit codes, demo, help."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import List

import pytest

from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD, API_KEY, APP_ID, APP_SECRET, assert_no_secret
from tests.support import one_error_line, run_cli


def test_token_json_from_stdin_password(emu: Emulator) -> None:
    code, out, err = run_cli(
        [
            "token",
            "--kind",
            "portal",
            "--url",
            emu.portal_url,
            "--username",
            ALICE,
            "--password-stdin",
            "--json",
            "--expiration",
            "5",
        ],
        stdin=ALICE_PASSWORD + "\n",
    )
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"token", "expires", "expires_iso", "referer", "url"}
    assert doc["url"] == emu.portal_url
    assert doc["expires_iso"].endswith("Z") and isinstance(doc["expires"], int)
    assert_no_secret(err)


def test_plain_token_from_environment(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCTOKEN_PASSWORD", ALICE_PASSWORD)
    code, out, err = run_cli(
        ["token", "--kind", "server", "--url", emu.server_url, "--username", ALICE]
    )
    assert code == 0 and len(out.strip().splitlines()) == 1
    assert "valid until" in err


@pytest.mark.parametrize(
    "args, secret",
    [(["--kind", "app", "--client-id", APP_ID], APP_SECRET), (["--kind", "apikey"], API_KEY)],
)
def test_app_and_api_key_secrets_come_through_the_same_channel(
    emu: Emulator, args: List[str], secret: str
) -> None:
    code, out, _ = run_cli(["token", "--url", emu.online_url, *args, "--password-stdin"], secret)
    assert code == 0 and out.strip()


def test_verbose_logs_exchanges_without_secrets(
    emu: Emulator, capfd: pytest.CaptureFixture[str]
) -> None:
    code = subprocess.run(
        [
            sys.executable,
            "-m",
            "arctoken_core",
            "token",
            "--kind",
            "portal",
            "--url",
            emu.portal_url,
            "--username",
            ALICE,
            "--password-stdin",
            "--verbose",
        ],
        input=ALICE_PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert code.returncode == 0
    assert "POST http://127.0.0.1" in code.stderr and "generateToken" in code.stderr
    assert ALICE_PASSWORD not in code.stderr
    assert code.stdout.strip() not in code.stderr


@pytest.mark.parametrize(
    "args, stdin, exit_code, words",
    [
        (["--kind", "portal", "--username", ALICE, "--password-stdin"], "x\n", 2, "url"),
        (
            [
                "--kind",
                "portal",
                "--url",
                "http://gis.example.com/portal",
                "--username",
                ALICE,
                "--password-stdin",
            ],
            "x\n",
            2,
            "https://",
        ),
        (
            ["--kind", "online", "--username", ALICE, "--expiration", "0", "--password-stdin"],
            "x\n",
            2,
            "expiration",
        ),
        (["--kind", "online", "--username", ALICE], "", 2, "ARCTOKEN_PASSWORD"),
        (["--kind", "online", "--username", ALICE, "--password-stdin"], "", 2, "stdin was empty"),
    ],
)
def test_bad_input_is_one_line_and_a_nonzero_exit(
    args: List[str], stdin: str, exit_code: int, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARCTOKEN_PASSWORD", raising=False)
    code, out, err = run_cli(["token", *args], stdin)
    assert code == exit_code and out == ""
    assert one_error_line(err) and words in err
    assert err.startswith("arctoken: error: ")


def test_wrong_password_exit_3_and_one_attempt(emu: Emulator) -> None:
    code, out, err = run_cli(
        [
            "token",
            "--kind",
            "portal",
            "--url",
            emu.portal_url,
            "--username",
            ALICE,
            "--password-stdin",
        ],
        "Wrong-Pa55word\n",
    )
    assert code == 3 and out == ""
    assert "Wrong-Pa55word" not in err and one_error_line(err)
    assert len(emu.token_requests()) == 1


def test_unreachable_host_exit_5() -> None:
    from tests.support import free_port

    code, _, err = run_cli(
        [
            "token",
            "--kind",
            "server",
            "--url",
            f"http://127.0.0.1:{free_port()}/arcgis",
            "--username",
            ALICE,
            "--password-stdin",
            "--timeout",
            "2",
        ],
        "x\n",
    )
    assert code == 5 and "could not reach" in err


def test_demo_outlives_three_token_lifetimes() -> None:
    code, out, err = run_cli(["demo", "--token-lifetime", "1", "--lifetimes", "3.5"])
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) < 25
    for label in (
        "ArcGIS Online",
        "Enterprise portal",
        "Standalone server",
        "Federated server",
        "App credentials",
        "API key",
    ):
        assert any(label in line for line in lines)
    summary = lines[-1]
    assert "0 requests rejected" in summary
    refreshed = int(summary.split("refreshed ")[1].split(" ")[0])
    assert refreshed >= 3
    assert_no_secret(out + err)


@pytest.mark.parametrize("command", [[], ["token"], ["emulator"], ["demo"]])
def test_help_everywhere(command: List[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "arctoken_core", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "usage: arctoken" in result.stdout


def test_emulator_command_prints_urls_and_credentials_on_stable_ports() -> None:
    from tests.support import free_port_range

    base = free_port_range(5)
    process = subprocess.Popen(
        [sys.executable, "-m", "arctoken_core", "emulator", "--port", str(base)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(14)]
    finally:
        process.terminate()
        process.wait(10)
    text = "".join(lines)
    assert f"http://127.0.0.1:{base + 1}/portal" in text
    assert "demo / demo-password" in text and "Press Ctrl+C" in text


def test_emulator_command_port_in_use_is_one_line() -> None:
    from tests.support import RecordingServer

    busy = RecordingServer()
    try:
        code, out, err = run_cli(["emulator", "--port", str(busy.port)])
    finally:
        busy.stop()
    assert code == 2 and "cannot serve" in err and one_error_line(err)


def test_warnings_are_prefixed_lines_and_a_script_stays_quiet(emu: Emulator) -> None:
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "arctoken_core",
            "token",
            "--kind",
            "server",
            "--url",
            emu.server_url,
            "--username",
            ALICE,
            "--password-stdin",
        ],
        input=ALICE_PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0
    assert "arctoken: WARNING sending a password over plain http to 127.0.0.1" in cli.stderr
    script = (
        "from arctoken_core import Connection\n"
        f"conn = Connection(kind='server', url={emu.server_url!r}, username={ALICE!r},"
        f" password={ALICE_PASSWORD!r})\n"
        "assert conn.token()\n"
    )
    quiet = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert quiet.returncode == 0 and quiet.stderr == ""


@pytest.mark.parametrize(
    "args",
    [
        ["emulator", "--port", "70000"],
        ["emulator", "--token-lifetime", "-3"],
        ["demo", "--token-lifetime", "0"],
        ["demo", "--lifetimes", "nan"],
    ],
)
def test_emulator_and_demo_options_are_checked(args: List[str]) -> None:
    code, out, err = run_cli(args)
    assert code == 2 and out == "" and one_error_line(err) and "must be" in err


# -- polish: version, help, refused secret flags, no-expiry keys, safe stderr -------------------


def test_version() -> None:
    from arctoken_core._version import __version__

    result = subprocess.run(
        [sys.executable, "-m", "arctoken_core", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.strip() == f"arctoken {__version__}"


@pytest.mark.parametrize("command", ["token", "emulator", "demo", "completion"])
def test_every_help_has_examples_and_exit_codes(command: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "arctoken_core", command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert f"examples:\n  arctoken {command}" in result.stdout
    assert "exit status:" in result.stdout and "3    sign-in refused" in result.stdout


def test_root_help_lists_exit_codes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "arctoken_core", "--help"], capture_output=True, text=True
    )
    assert "exit status:" in result.stdout and "130  interrupted" in result.stdout


@pytest.mark.parametrize(
    "flag",
    [
        ["--password", "Hunter2-secret"],
        ["--password=Hunter2-secret"],
        ["--password"],
        ["--api-key", "Hunter2-secret"],
        ["--client-secret", "Hunter2-secret"],
    ],
)
def test_a_secret_as_a_flag_is_refused(flag: List[str]) -> None:
    code, out, err = run_cli(["token", "--kind", "online", "--username", ALICE, *flag], "x\n")
    assert code == 2 and out == "" and one_error_line(err)
    assert (
        "passwords never come from a flag: use --password-stdin, ARCTOKEN_PASSWORD or the "
        "prompt" in err
    )
    assert "Hunter2-secret" not in err


def test_an_abbreviated_option_is_not_another_option() -> None:
    code, _, err = run_cli(["token", "--password-std"], "x\n")
    assert code == 2 and "unrecognized arguments" in err


def test_an_api_key_without_expiry_says_no_expiry(emu: Emulator) -> None:
    code, out, err = run_cli(
        ["token", "--kind", "apikey", "--url", emu.online_url, "--password-stdin", "--json"],
        API_KEY + "\n",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["expires"] is None and doc["expires_iso"] is None
    assert "no expiry" in err and "9999" not in err and "20" + "36" not in err


def test_a_server_error_text_is_one_escaped_line(emu: Emulator) -> None:
    hostile = "bad\narctoken: error: fake second line\r\x1b[31mred\x1b[0m\x07 \u202eevil"
    body = json.dumps({"error": {"code": 400, "message": hostile, "details": []}})
    emu.inject_fault("generatetoken", "status", status=200, body=body)
    code, out, err = run_cli(
        [
            "token",
            "--kind",
            "server",
            "--url",
            emu.server_url,
            "--username",
            ALICE,
            "--password-stdin",
        ],
        ALICE_PASSWORD + "\n",
    )
    assert code != 0 and out == ""
    assert one_error_line(err), err
    assert "\x1b" not in err and "\r" not in err and "\x07" not in err and "\u202e" not in err
    assert "\\x1b[31mred" in err and "\\n" in err


def test_bash_completion_is_generated_from_the_parser() -> None:
    code, out, err = run_cli(["completion", "bash"])
    assert code == 0 and err == ""
    assert "complete -o default -F _arctoken arctoken" in out
    assert 'token) words="' in out and "--password-stdin" in out and "--job-duration" in out
    assert "--password " not in out.replace("--password-stdin", "")
    done = subprocess.run(["bash", "-n"], input=out, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


LEAN_START = """
import sys
from arctoken_core.cli.main import main
status = main(sys.argv[1:])
print(" ".join(sorted(sys.modules)))
sys.exit(status)
"""
"""Run ``arctoken`` in this fresh process, then print every module it loaded."""

NOT_FOR_A_PASSWORD_SIGN_IN = {
    "dataclasses",  # and inspect, ast, dis: the records on this path are NamedTuples
    "truststore",  # the system's CA store: set up at the first https request only
    "arctoken_core.transport.tls_store",  # client certificates, the system store
    "arctoken_core.signin.pro",  # ArcGIS Pro's own sign-in
    "arctoken_core.signin.oauth_flow",  # the browser and its loopback server
    "arctoken_core.tokens.cache",
    "arctoken_core.profiles",
    "arctoken_core.cli.login",
    "arctoken_core.cli.run_command",
    "arctoken_emulator",
}


def test_a_password_sign_in_over_http_loads_only_what_it_uses(emu: Emulator) -> None:
    args = ["token", "--kind", "portal", "--url", emu.portal_url, "--username", ALICE]
    result = subprocess.run(
        [sys.executable, "-c", LEAN_START, *args, "--password-stdin"],
        input=ALICE_PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    token, loaded = result.stdout.strip().splitlines()
    assert len(token) >= 20
    assert "requests" in loaded.split()
    assert NOT_FOR_A_PASSWORD_SIGN_IN.isdisjoint(loaded.split())
