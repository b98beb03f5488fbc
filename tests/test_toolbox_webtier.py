"""PKI and Windows sign-in in the toolbox, inside ArcGIS Pro: Pro's own ``SignInToPortal``.

The arcpy double's ``SignInToPortal`` signs in for real at a web tier (tests/webtier_server.py)
in front of the emulator's portal: with the client certificate over real TLS, or with a real
NTLM handshake as the current Windows logon. The token always comes from Pro (the tripwire
below fails a test if our own sign-in runs); our own data requests show the certificate or
login too where this Python can, and without cryptography or pyspnego the token still comes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest
import trustme

from arctoken_core.clock import ManualClock
from arctoken_emulator import Emulator
from tests.conftest import ALICE, LIFETIME, assert_no_secret
from tests.support import TLSFiles
from tests.test_pki import PFX_PASSWORD, _pem_files, _pfx
from tests.test_toolbox_run import _outcome, _script, _tool, use_token
from tests.toolbox_support import (  # noqa: F401 - fixtures
    ProTool,
    arcpy_fixture,
    everything_shown,
    messages,
    toolbox_fixture,
)
from tests.webtier_server import WINDOWS_USER, WebTier, iwa_front, pki_front

PKI = "ArcGIS Enterprise portal (PKI certificate)"
IWA = "ArcGIS Enterprise portal (Windows sign-in)"


@pytest.fixture(autouse=True)
def no_own_web_tier_signin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tripwire: inside Pro (on Windows, as Pro runs), the token never comes from our own
    web-tier sign-in."""
    from arctoken_core.signin import pro_webtier, webtier

    monkeypatch.setattr(pro_webtier, "_windows", lambda: True)

    def tripped(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the requests-based web-tier sign-in ran inside ArcGIS Pro")

    monkeypatch.setattr(webtier.WebTierProvider, "fetch", tripped)


def _without(monkeypatch: pytest.MonkeyPatch, package: str) -> None:
    """Our code as if ``package`` were not installed (Pro's own sign-in, the double's, keeps
    it: Pro does not use this Python's packages); what needs it then must not run."""
    from arctoken_core.signin import webtier
    from arctoken_core.transport import negotiate, tls_store

    def tripped(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"code that needs {package} ran without it")

    if package == "cryptography":
        monkeypatch.setattr(webtier, "_have_cryptography", lambda: False)
        monkeypatch.setattr(tls_store, "load_client_certificate", tripped)
    else:
        monkeypatch.setattr(webtier, "have_pyspnego", lambda: False)
        monkeypatch.setattr(negotiate, "negotiate_auth", tripped)


@pytest.fixture
def client_ca() -> trustme.CA:
    """The CA the PKI web tier trusts for client certificates."""
    return trustme.CA()


@pytest.fixture(name="pki_front")
def pki_front_fixture(
    emu: Emulator, tls: TLSFiles, client_ca: trustme.CA, arcpy: ModuleType
) -> Iterator[WebTier]:
    """A PKI web tier for the emulator's portal (bob's certificate is alice); Pro trusts it."""
    server = pki_front(emu.portal_url, str(tls.cert_file), client_ca.cert_pem.bytes())
    arcpy._double.STATE.trusted_ca = str(tls.ca_file)
    yield server
    server.stop()


@pytest.fixture(name="iwa_front")
def iwa_front_fixture(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WebTier]:
    """An IWA web tier for the emulator's portal; this Windows logon is CORP\\bob (alice)."""
    server = iwa_front(emu.portal_url, tmp_path / "ntlm-users", monkeypatch)
    yield server
    server.stop()


def test_arcpy_on_linux_leaves_the_web_tier_to_this_package(
    arcpy: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ArcGIS Server's arcpy on Linux has SignInToPortal, but not for PKI or IWA (Esri)."""
    from arctoken_core.kinds import KINDS
    from arctoken_core.signin import pro_webtier

    assert pro_webtier.pro_signs_in(KINDS["pki"], None)
    assert not pro_webtier.pro_signs_in(KINDS["iwa"], "CORP\\bob")
    monkeypatch.setattr(pro_webtier, "_windows", lambda: False)
    assert not pro_webtier.pro_signs_in(KINDS["pki"], None)
    assert not pro_webtier.pro_signs_in(KINDS["iwa"], None)


def _community(emu: Emulator) -> str:
    return f"{emu.portal_url}/sharing/rest/community/self"


def _user_of(emu: Emulator, token: str, referer: str) -> Any:
    """Whom the portal takes ``token`` for (sent straight to the emulator's portal)."""
    return use_token(_community(emu), token, referer).get("username")


@dataclass
class ProPki:
    """ArcGIS Pro (the double) with the toolbox loaded, and a PKI web tier for its portal."""

    toolbox: ModuleType
    arcpy: ModuleType
    emu: Emulator
    front: WebTier
    ca: trustme.CA
    clock: ManualClock
    folder: Path

    def tool(self, name: str = "GenerateToken", **values: Any) -> ProTool:
        """A tool with connection type PKI for the web tier's portal, and ``values``."""
        url = self.front.url("/portal")
        return _tool(self.toolbox, self.clock, name).set(connection_type=PKI, url=url, **values)


@pytest.fixture
def pro(
    toolbox: ModuleType,
    arcpy: ModuleType,
    emu: Emulator,
    pki_front: WebTier,
    client_ca: trustme.CA,
    clock: ManualClock,
    tmp_path: Path,
) -> ProPki:
    """The scene of the PKI tests."""
    return ProPki(toolbox, arcpy, emu, pki_front, client_ca, clock, tmp_path)


def test_a_pem_certificate_signs_in_through_pro(pro: ProPki) -> None:
    cert, key = _pem_files(pro.ca, pro.folder)
    tool = pro.tool(cert_file=str(cert), key_file=str(key))
    tool.run()
    state = pro.arcpy._double.STATE
    assert [s["cert_file"] for s in state.portal_signins] == [str(cert)]
    assert tool.output("token") == state.signin["token"]
    assert tool.output("token_referer") == state.portal_referer
    assert _user_of(pro.emu, tool.output("token"), state.portal_referer) == ALICE
    assert [s.user for s in pro.front.seen] == ["bob"], "only Pro's sign-in reached the web tier"


def test_a_pfx_certificate_keeps_a_long_script_signed_in(pro: ProPki) -> None:
    folder = pro.folder
    rounds = 12
    args = {"rounds": rounds, "step": LIFETIME / 4, "service": _community(pro.emu)}
    tool = pro.tool(
        "RunWithCredentials",
        cert_file=str(_pfx(pro.ca, folder)),
        cert_password=PFX_PASSWORD,
        script_file=_script(folder, TOKEN_SCRIPT),
        script_arguments=json.dumps(args),
        output_file=str(folder / "outcome.json"),
    )
    tool.run()
    outcome = _outcome(folder)
    assert outcome["status"] == "succeeded", outcome["error"]
    assert outcome["result"]["seen"] == [ALICE] * rounds
    assert outcome["result"]["tokens"] >= 3 and outcome["token_refreshes"] >= 2
    assert len(pro.arcpy._double.STATE.portal_signins) == outcome["result"]["tokens"]
    assert all(s.user == "bob" for s in pro.front.seen)
    for shown in (everything_shown(), (folder / "outcome.json").read_text()):
        assert_no_secret(shown)
        assert PFX_PASSWORD not in shown


TOKEN_SCRIPT = '''
import requests

def main(ctx):
    """Use a token valid now, round after round, across several token lifetimes."""
    seen, tokens = [], set()
    for _ in range(ctx.args["rounds"]):
        token = ctx.token()
        tokens.add(token)
        headers = {"X-Esri-Authorization": "Bearer " + token, "Referer": ctx.referer}
        reply = requests.get(ctx.args["service"], params={"f": "json"}, headers=headers)
        seen.append(reply.json().get("username"))
        ctx.sleep(ctx.args["step"])
    return {"seen": seen, "tokens": len(tokens)}
'''


def test_the_windows_logon_signs_in_through_pro(
    toolbox: ModuleType, arcpy: ModuleType, emu: Emulator, iwa_front: WebTier, clock: ManualClock
) -> None:
    tool = _tool(toolbox, clock).set(connection_type=IWA, url=iwa_front.url("/portal"))
    tool.run()
    state = arcpy._double.STATE
    assert state.portal_signins == [
        {"url": iwa_front.url("/portal"), "username": None, "cert_file": None, "key_file": None}
    ]
    assert iwa_front.handshakes == 1
    assert {s.user for s in iwa_front.seen if s.user} == {WINDOWS_USER}
    assert _user_of(emu, tool.output("token"), state.portal_referer) == ALICE
    assert "your Windows logon" in " ".join(messages("message"))


def test_requests_to_the_portal_answer_the_windows_challenge_too(
    toolbox: ModuleType, iwa_front: WebTier, clock: ManualClock, tmp_path: Path
) -> None:
    service = iwa_front.url("/portal/sharing/rest/community/self")
    tool = _tool(toolbox, clock, "RunWithCredentials").set(
        connection_type=IWA,
        url=iwa_front.url("/portal"),
        script_file=_script(tmp_path, PORTAL_SCRIPT),
        script_arguments=json.dumps({"service": service}),
        output_file=str(tmp_path / "outcome.json"),
    )
    tool.run()
    outcome = _outcome(tmp_path)
    assert outcome["status"] == "succeeded", outcome["error"]
    assert outcome["result"] == ALICE
    paths = [(s.path.split("?")[0], s.user) for s in iwa_front.seen]
    assert ("/portal/sharing/rest/community/self", WINDOWS_USER) in paths


def test_without_pyspnego_pro_still_signs_in_with_the_windows_logon(
    toolbox: ModuleType,
    arcpy: ModuleType,
    emu: Emulator,
    iwa_front: WebTier,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _without(monkeypatch, "spnego")
    tool = _tool(toolbox, clock).set(connection_type=IWA, url=iwa_front.url("/portal"))
    tool.run()
    assert _user_of(emu, tool.output("token"), arcpy._double.STATE.portal_referer) == ALICE
    assert not messages("error")


def test_a_certificate_the_web_tier_refuses_is_one_clear_error(pro: ProPki) -> None:
    cert, key = _pem_files(trustme.CA(), pro.folder, "mallory")
    tool = pro.tool(cert_file=str(cert), key_file=str(key))
    _fails_on_the_certificate(pro, tool, "mallory.pem")
    assert not any(s.user for s in pro.front.seen)


def test_a_wrong_pfx_password_is_one_clear_error(pro: ProPki) -> None:
    pfx = _pfx(pro.ca, pro.folder)
    tool = pro.tool(cert_file=str(pfx), cert_password="not-the-Pa55word")
    with pytest.raises(pro.arcpy.ExecuteError) as caught:
        tool.run()
    text = str(caught.value)
    assert text.startswith("Client Certificate Password: ") and "\n" not in text
    assert messages("error") == [text]
    assert pro.front.seen == []
    assert "not-the-Pa55word" not in everything_shown()


def test_without_cryptography_pro_still_opens_the_pfx(
    pro: ProPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pro reads the .pfx itself: a wrong password is then Pro's refusal, in one line."""
    _without(monkeypatch, "cryptography")
    pfx = _pfx(pro.ca, pro.folder)
    _fails_on_the_certificate(
        pro, pro.tool(cert_file=str(pfx), cert_password="wrong-Pa55"), "bob.pfx"
    )
    tool = pro.tool(cert_file=str(pfx), cert_password=PFX_PASSWORD)
    tool.run()
    assert _user_of(pro.emu, tool.output("token"), pro.arcpy._double.STATE.portal_referer) == ALICE


def test_requests_to_the_portal_show_the_certificate_too(pro: ProPki) -> None:
    """A web tier asks every request for the certificate: a REST call from a script run with
    the toolbox passes it, not only Pro's sign-in."""
    cert, key = _pem_files(pro.ca, pro.folder)
    service = pro.front.url("/portal/sharing/rest/community/self")
    tool = pro.tool(
        "RunWithCredentials",
        cert_file=str(cert),
        key_file=str(key),
        script_file=_script(pro.folder, PORTAL_SCRIPT),
        script_arguments=json.dumps({"service": service}),
        output_file=str(pro.folder / "outcome.json"),
        ca_bundle=pro.arcpy._double.STATE.trusted_ca,
    )
    tool.run()
    outcome = _outcome(pro.folder)
    assert outcome["status"] == "succeeded", outcome["error"]
    assert outcome["result"] == ALICE
    paths = [(s.path.split("?")[0], s.user) for s in pro.front.seen]
    assert ("/portal/sharing/rest/community/self", "bob") in paths


PORTAL_SCRIPT = '''
def main(ctx):
    """Ask the portal, through its web tier, whom the token is for."""
    return ctx.request_json("GET", ctx.args["service"]).get("username")
'''


def _fails_on_the_certificate(pro: ProPki, tool: ProTool, certificate: str) -> None:
    """The run fails with one clear line on Client Certificate File."""
    with pytest.raises(pro.arcpy.ExecuteError) as caught:
        tool.run()
    text = str(caught.value)
    assert text.startswith("Client Certificate File: ArcGIS Pro could not sign in")
    assert certificate in text and "Client Certificate Password" in text
    assert "\n" not in text and "Traceback" not in text
    assert messages("error") == [text]
