"""Secrets stay secret: where passwords and tokens go, and what errors, output and TLS show.

The conftest guard already fails any test whose logs or warnings hold a secret. These tests
add the rest: a password goes only in the POST body of a sign-in, a token never in a query
string unless asked, neither follows a redirect or travels over plain http to another
machine, no error text or CLI line shows one (even when a server echoes it back), and TLS
is verified, failing clearly for an expired, self-signed or untrusted certificate.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple
from urllib.parse import parse_qs

import pytest

from arctoken_core import fields
from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import (
    ArcGISServiceError,
    AuthenticationError,
    ConfigError,
    InsecureTransportError,
    ResponseFormatError,
    TLSError,
)
from arctoken_core.run.gpjob import GPJob
from arctoken_emulator import Emulator, RequestRecord
from arctoken_emulator.params import is_token_path
from tests.conftest import (
    ALICE,
    ALICE_PASSWORD,
    API_KEY,
    APP_ID,
    APP_SECRET,
    assert_no_secret,
)
from tests.support import (
    ROOT,
    ProxyProcess,
    RecordingServer,
    TLSFiles,
    connect,
    expired_cert,
    run_cli,
    self_signed_cert,
)

pytestmark = pytest.mark.timeout(60)

SERVICE = "Secure/MapServer"


# -- where passwords and tokens travel ---------------------------------------------------------


def _use_every_kind(emu: Emulator, clock: ManualClock, placement: str) -> List[str]:
    """Sign in with every kind, call services every way (GET, POST, JSON, a GP job);
    return the tokens used."""
    cases = [
        ("online", emu.online_url, emu.online_service_url),
        ("portal", emu.portal_url, f"{emu.portal_url}/sharing/rest/community/self"),
        ("server", emu.server_url, emu.service_url),
        ("app", emu.online_url, emu.online_service_url),
        ("apikey", emu.online_url, emu.online_service_url),
    ]
    tokens = []
    for kind, url, service in cases:
        conn = connect(kind, url, clock, token_placement=placement)
        _call_every_way(conn, service)
        tokens.append(conn.token())
    federated = connect(
        "portal",
        emu.portal_url,
        clock,
        server_url=emu.federated_server_url,
        token_placement=placement,
    )
    _call_every_way(federated, emu.federated_service_url)
    GPJob(federated.request_json, emu.federated_gp_task_url, sleep=clock.advance).run({"a": 1})
    return tokens + [federated.token()]


def _call_every_way(conn: Connection, service: str) -> None:
    session = conn.session()
    assert "error" not in session.get(service, params={"f": "json"}).json()
    assert "error" not in session.post(service, data={"f": "json"}).json()
    conn.request_json("GET", service)
    conn.request_json("POST", service)


def _in_query_or_path(record: RequestRecord, value: str) -> bool:
    return value in record.path or any(value in v for v in record.query.values())


def test_tokens_never_travel_in_a_query_string_unless_asked(
    emu: Emulator, clock: ManualClock
) -> None:
    tokens = _use_every_kind(emu, clock, "header")
    assert len(emu.requests) > 50
    for record in emu.requests:
        assert "token" not in {name.lower() for name in record.query}, record.path
        assert not any(_in_query_or_path(record, token) for token in tokens), record.path


def test_a_query_string_token_is_sent_when_asked(emu: Emulator, clock: ManualClock) -> None:
    tokens = _use_every_kind(emu, clock, "query")
    in_query = {r.query["token"] for r in emu.requests if "token" in r.query}
    assert set(tokens) <= in_query  # the control: the scan above would have seen them


def test_a_password_or_secret_goes_only_in_the_post_body_of_a_sign_in(
    emu: Emulator, clock: ManualClock
) -> None:
    _use_every_kind(emu, clock, "header")
    carried = 0
    for record in emu.requests:
        for secret in (ALICE_PASSWORD, APP_SECRET):
            outside_body = record.path + json.dumps([record.query, dict(record.headers)])
            assert secret not in outside_body
            if secret in record.form.values():
                assert record.method == "POST" and is_token_path(record.path), record.path
                carried += 1
    assert carried >= 5  # the sign-ins did carry them


PLAIN_HTTP = [(kind, "url") for kind in ("online", "portal", "server", "app", "apikey")]
PLAIN_HTTP += [(kind, "server_url") for kind in ("online", "portal")]


@pytest.mark.parametrize("kind, field", PLAIN_HTTP)
def test_plain_http_to_another_machine_is_refused_before_anything_is_sent(
    clock: ManualClock, kind: str, field: str
) -> None:
    where: Dict[str, Any] = {"url": "https://gis.example.com/portal"}
    where[field] = "http://gis.example.com/portal"
    with pytest.raises(InsecureTransportError) as err:
        connect(kind, clock=clock, **where)
    assert err.value.field == field and "https://" in str(err.value)


REDIRECTED: Dict[str, Tuple[str, Callable[[str], str], str, str]] = {
    "server": (
        "/arcgis/tokens/generateToken",
        lambda url: f"{url}/arcgis",
        "password",
        ALICE_PASSWORD,
    ),
    "app": ("/sharing/rest/oauth2/token", lambda url: url, "client_secret", APP_SECRET),
}
"""Where each kind signs in on a host the user named, and the secret field it posts."""


@pytest.fixture
def two_hosts() -> Iterator[Tuple[RecordingServer, RecordingServer]]:
    """A server the user named, and another host it could redirect to."""
    named, elsewhere = RecordingServer(), RecordingServer()
    yield named, elsewhere
    named.stop()
    elsewhere.stop()


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("kind", sorted(REDIRECTED))
def test_credentials_never_follow_a_redirect(
    clock: ManualClock,
    two_hosts: Tuple[RecordingServer, RecordingServer],
    kind: str,
    status: int,
) -> None:
    named, elsewhere = two_hosts
    path, root, field, secret = REDIRECTED[kind]
    named.redirects[path] = (status, elsewhere.url + "/collect")
    with pytest.raises(ResponseFormatError) as err:
        connect(kind, root(named.url), clock).token()
    assert "redirects to" in str(err.value) and elsewhere.url in str(err.value)
    assert elsewhere.received == []  # 307/308 would have re-sent the body with the secret
    posted = [parse_qs(r.body.decode()).get(field) for r in named.received if r.method == "POST"]
    assert posted == [[secret]]  # the one sign-in went to the named host, once


# -- what errors and the CLI show --------------------------------------------------------------


def _echo(*values: str) -> str:
    """An error envelope that quotes ``values`` back, as a careless server or proxy might."""
    quoted = " ".join(f"token={v} password={v}" for v in values)
    error = {"code": 400, "message": f"Bad request: {quoted}", "details": list(values)}
    return json.dumps({"error": error})


def test_a_server_echoing_secrets_back_cannot_put_them_in_an_error(
    emu: Emulator, clock: ManualClock
) -> None:
    conn = connect("server", emu.server_url, clock)
    token = conn.token()
    emu.inject_fault(SERVICE, "status", status=200, body=_echo(token, ALICE_PASSWORD))
    with pytest.raises(ArcGISServiceError) as err:
        conn.request_json("GET", emu.service_url)
    assert token not in str(err.value) and ALICE_PASSWORD not in str(err.value)
    assert token not in " ".join(err.value.details + [err.value.server_message])
    emu.inject_fault("generateToken", "status", status=200, body=_echo(ALICE_PASSWORD))
    with pytest.raises(AuthenticationError) as refused:
        connect("server", emu.server_url, clock).token()
    assert_no_secret(str(refused.value))


CLI_KINDS: Dict[str, Tuple[Callable[[Emulator], List[str]], str]] = {
    "portal": (lambda e: ["--kind", "portal", "--url", e.portal_url], ALICE_PASSWORD),
    "federated": (
        lambda e: [
            "--kind",
            "portal",
            "--url",
            e.portal_url,
            "--server-url",
            e.federated_server_url,
        ],
        ALICE_PASSWORD,
    ),
    "app": (lambda e: ["--kind", "app", "--url", e.online_url, "--client-id", APP_ID], APP_SECRET),
    "apikey": (lambda e: ["--kind", "apikey", "--url", e.online_url], API_KEY),
}


@pytest.mark.parametrize("kind", sorted(CLI_KINDS))
@pytest.mark.parametrize("as_json", [False, True])
def test_the_cli_shows_the_token_asked_for_on_stdout_and_no_secret_elsewhere(
    emu: Emulator, kind: str, as_json: bool
) -> None:
    args, secret = CLI_KINDS[kind]
    extra = ["--json"] if as_json else []
    code, out, err = run_cli(
        ["token", *args(emu), "--username", ALICE, "--password-stdin", *extra], secret
    )
    assert code == 0, err
    token = json.loads(out)["token"] if as_json else out.strip()
    assert out.count(token) == 1  # an API key is the token: printed because it was asked for
    assert (secret == token or secret not in out) and secret not in err and token not in err
    assert_no_secret(err)


def test_the_cli_says_a_proxy_password_was_wrong_without_showing_it(
    emu: Emulator, auth_proxy: ProxyProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCTOKEN_PROXY_PASSWORD", "Wr0ng-proxy-Pa55")
    args = ["token", "--kind", "server", "--url", emu.server_url, "--username", ALICE]
    args += ["--proxy", auth_proxy.url, "--proxy-username", "proxyuser", "--password-stdin"]
    code, out, err = run_cli(args, ALICE_PASSWORD)
    assert (code, out) == (5, "")
    assert "proxy username and password" in err and "Wr0ng-proxy-Pa55" not in err
    assert_no_secret(err)


def test_credentials_in_a_proxy_url_are_refused_without_being_repeated(
    clock: ManualClock,
) -> None:
    for proxy in ("http://proxyuser:S3cret-in-url@proxy.example.com:8080", "u:S3cret-in-url@"):
        with pytest.raises(ConfigError) as err:
            connect("server", "https://gis.example.com/arcgis", clock, proxy=proxy)
        assert err.value.field == "proxy" and "S3cret-in-url" not in str(err.value)


# -- TLS: verified by default, and a failure says why -----------------------------------------


def _tls_server(certfile: Path, clock: ManualClock) -> Emulator:
    return Emulator(
        users={ALICE: ALICE_PASSWORD}, clock=clock, certfile=str(certfile), keyfile=str(certfile)
    )


@pytest.mark.parametrize(
    "make, trust, words",
    [
        pytest.param(expired_cert, "our CA", "the certificate has expired", id="expired"),
        pytest.param(
            lambda t: self_signed_cert(t.cert_file.parent),
            "default",
            "the certificate is self-signed",
            id="self-signed",
        ),
        pytest.param(
            lambda t: t.cert_file,
            "default",
            "the certificate's CA is not trusted",
            id="untrusted CA",
        ),
    ],
)
def test_a_certificate_that_fails_verification_is_a_clear_tls_error(
    tls: TLSFiles, clock: ManualClock, make: Any, trust: str, words: str
) -> None:
    extra = {"ca_bundle": str(tls.ca_file)} if trust == "our CA" else {}
    with _tls_server(make(tls), clock) as emu:
        with pytest.raises(TLSError) as err:
            connect("server", emu.server_url, clock, **extra).token()
        assert words in str(err.value) and "check the CA bundle" in str(err.value)
        assert emu.requests == []  # not even discovery got through: no password was sent


def test_a_ca_bundle_that_is_not_pem_is_a_clear_tls_error(
    tls: TLSFiles, clock: ManualClock, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("this is not a certificate\n")
    with _tls_server(tls.cert_file, clock) as emu:
        with pytest.raises(TLSError, match="holds no PEM certificate"):
            connect("server", emu.server_url, clock, ca_bundle=str(bundle)).token()


def test_turning_verification_off_works_and_is_warned_about(
    tls: TLSFiles, clock: ManualClock
) -> None:
    problems = fields.check(dict(kind="server", url="https://gis.example.com", verify=False))
    assert [(p.field, p.severity) for p in problems if p.field == "verify"] == [
        ("verify", "warning")
    ]
    with _tls_server(self_signed_cert(tls.cert_file.parent), clock) as emu:
        assert connect("server", emu.server_url, clock, verify=False).token()


def test_security_md_names_only_tests_that_exist() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(tests/\w+\.py)::(\w+)`", text))
    assert len(named) > 40
    for path, name in sorted(named):
        source = (ROOT / path).read_text(encoding="utf-8")
        assert f"def {name}(" in source, f"SECURITY.md names {path}::{name}, which is gone"
