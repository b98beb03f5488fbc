"""The loopback ArcGIS emulator answers like the real token services (real sockets, real TLS)."""

from __future__ import annotations

import email.utils
import json
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests

from arctoken_core.clock import ManualClock
from arctoken_emulator import Emulator

START = 1_800_000_000.0
PASSWORD = "wonderland"
REFERER = "https://app.example/"
Json = Dict[str, Any]


@pytest.fixture
def clock() -> ManualClock:
    """A clock that moves only when a test says so."""
    return ManualClock(START)


@pytest.fixture
def emu(clock: ManualClock) -> Iterator[Emulator]:
    """A running emulator with two users, an app, three API keys and a 100 s GP job."""
    keys: Dict[str, Optional[float]] = {
        "AAPKgood": None,
        "AAPKold": START - 1,
        "AAPKlater": START + 1000,
    }
    with Emulator(
        users={"alice": PASSWORD, "bob": "builder"},
        clock=clock,
        apps={"appid": "appsecret"},
        api_keys=keys,
        lockout_threshold=3,
        lockout_seconds=600.0,
        lockout_message="Account locked.",
        gp_job_duration=100.0,
        restricted_users=("bob",),
    ) as running:
        yield running


def post(url: str, **data: str) -> requests.Response:
    """POST a form with f=json."""
    return requests.post(url, data={"f": "json", **data}, timeout=10)


def portal_generate(base: str, **data: str) -> Json:
    """A portal generateToken reply as JSON."""
    fields = {"username": "alice", "password": PASSWORD, **data}
    reply: Json = post(f"{base}/sharing/rest/generateToken", **fields).json()
    return reply


def server_generate(emu: Emulator, path: str = "/tokens/generateToken", **data: str) -> Json:
    """A standalone server token reply as JSON."""
    fields = {"username": "alice", "password": PASSWORD, **data}
    reply: Json = post(emu.server_url + path, **fields).json()
    return reply


def use(url: str, token: Optional[str] = None, referer: Optional[str] = None) -> Json:
    """GET a resource with the token in the X-Esri-Authorization header."""
    headers = {}
    if token is not None:
        headers["X-Esri-Authorization"] = f"Bearer {token}"
    if referer is not None:
        headers["Referer"] = referer
    reply: Json = requests.get(url, params={"f": "json"}, headers=headers, timeout=10).json()
    return reply


def error_code(body: Json) -> Optional[int]:
    """The code of an error envelope, or None."""
    error = body.get("error")
    return int(error["code"]) if isinstance(error, dict) else None


def exchange(emu: Emulator, portal_token: str, server_url: str, name: str = "serverUrl") -> Json:
    """Swap a portal token for a server token at the Enterprise portal."""
    url = f"{emu.portal_url}/sharing/rest/generateToken"
    reply: Json = post(url, token=portal_token, **{name: server_url}).json()
    return reply


# -- token issue and units -------------------------------------------------------------------


def test_portal_token_expires_in_epoch_milliseconds(emu: Emulator, clock: ManualClock) -> None:
    reply = post(
        f"{emu.portal_url}/sharing/rest/generateToken",
        username="alice",
        password=PASSWORD,
        expiration="30",
    )
    assert reply.headers["Content-Type"].startswith("application/json")
    body = reply.json()
    assert body["expires"] == int((START + 30 * 60) * 1000)
    assert isinstance(body["expires"], int)
    assert body["ssl"] is False
    assert (
        use(f"{emu.portal_url}/sharing/rest/community/self", body["token"])["username"] == "alice"
    )


def test_online_answers_text_plain_but_json_body(emu: Emulator) -> None:
    reply = post(
        f"{emu.online_url}/sharing/rest/generateToken", username="alice", password=PASSWORD
    )
    assert reply.headers["Content-Type"] == "text/plain;charset=utf-8"
    body = json.loads(reply.text)
    assert body["expires"] == int((START + 3600) * 1000)  # default 120 min, capped at 60


@pytest.mark.parametrize(
    ("asked", "minutes"),
    [(None, 120), ("30", 30), ("20160", 20160), ("99999", 20160), ("nonsense", 120)],
)
def test_expiration_defaults_and_clamps(asked: Optional[str], minutes: int) -> None:
    with Emulator(clock=ManualClock(START), token_lifetime=30 * 86400.0) as emu:
        extra = {} if asked is None else {"expiration": asked}
        body = portal_generate(emu.portal_url, **extra)
    assert body["expires"] == int((START + minutes * 60) * 1000)


def test_lifetime_is_the_smaller_of_request_and_site_limit(emu: Emulator) -> None:
    assert portal_generate(emu.portal_url, expiration="10")["expires"] == (START + 600) * 1000
    assert portal_generate(emu.portal_url, expiration="600")["expires"] == (START + 3600) * 1000


@pytest.mark.parametrize("path", ["/tokens/generateToken", "/tokens/", "/tokens"])
def test_server_token_expires_is_a_number(emu: Emulator, path: str) -> None:
    body = server_generate(emu, path, expiration="15", client="requestip")
    assert body["expires"] == int((START + 900) * 1000)
    assert use(emu.service_url, body["token"])["user"] == "alice"


def test_server_long_expiration_needs_client(emu: Emulator) -> None:
    body = server_generate(emu, expiration="600")
    assert error_code(body) == 201
    assert "Client ID is required for long expiration tokens." in body["error"]["message"]
    assert "token" in server_generate(emu, expiration="600", client="requestip")


def test_admin_generate_token_uses_admin_envelope(emu: Emulator) -> None:
    url = emu.server_url + "/admin/generateToken"
    bad = post(url, username="alice", password="nope", client="requestip").json()
    assert bad == {
        "status": "error",
        "messages": ["Unable to generate token. Invalid username or password."],
        "code": 400,
    }
    good = post(url, username="alice", password=PASSWORD, client="requestip").json()
    assert good["expires"].isdigit()


def test_federated_and_foreign_servers_issue_no_tokens(emu: Emulator) -> None:
    for base in (emu.federated_server_url, emu.foreign_server_url):
        body = post(base + "/tokens/generateToken", username="alice", password=PASSWORD).json()
        assert error_code(body) == 400


# -- refusals, lockout -----------------------------------------------------------------------


def test_credentials_in_query_are_refused(emu: Emulator) -> None:
    creds = {"username": "alice", "password": PASSWORD, "f": "json"}
    portal = requests.post(f"{emu.portal_url}/sharing/rest/generateToken", params=creds).json()
    assert portal["error"]["code"] == 405
    assert portal["error"]["message"] == "Method not supported"
    assert isinstance(portal["error"]["details"], list)
    server = requests.get(emu.server_url + "/tokens/generateToken", params=creds).json()
    assert server["error"]["code"] == 405
    assert server["error"]["details"] == (
        "Generate Token request should not contain username and password in the query string."
    )
    admin = requests.get(emu.server_url + "/admin/generateToken", params=creds).json()
    assert admin["status"] == "error" and admin["code"] == 405
    assert emu.failed_logins("alice") == 0


def test_bad_password_then_lockout_then_unlock(emu: Emulator, clock: ManualClock) -> None:
    for attempt in range(1, 4):
        body = portal_generate(emu.portal_url, password="wrong")
        assert body == {
            "error": {
                "code": 400,
                "message": "Unable to generate token.",
                "details": ["Invalid username or password."],
            }
        }
        assert emu.failed_logins("alice") == attempt
    locked = server_generate(emu)
    assert locked["error"]["details"] == ["Account locked."]
    clock.advance(599)
    assert portal_generate(emu.online_url)["error"]["details"] == ["Account locked."]
    clock.advance(2)
    assert "token" in portal_generate(emu.online_url)
    assert emu.failed_logins("alice") == 0


def test_success_resets_failure_count(emu: Emulator) -> None:
    portal_generate(emu.portal_url, password="wrong")
    portal_generate(emu.portal_url, password="wrong")
    assert emu.failed_logins("alice") == 2
    assert "token" in portal_generate(emu.portal_url)
    assert emu.failed_logins("alice") == 0


def test_changed_password_takes_effect(emu: Emulator) -> None:
    emu.users["alice"] = "new-password"
    assert error_code(portal_generate(emu.portal_url)) == 400
    assert "token" in portal_generate(emu.portal_url, password="new-password")


def test_client_referer_without_referer_is_refused(emu: Emulator) -> None:
    body = portal_generate(emu.portal_url, client="referer")
    assert body["error"]["message"] == "Unable to generate token."
    assert error_code(server_generate(emu, client="referer")) == 400


# -- using tokens ----------------------------------------------------------------------------


def test_referer_bound_tokens(emu: Emulator) -> None:
    portal = portal_generate(emu.portal_url, client="referer", referer=REFERER)["token"]
    community = f"{emu.portal_url}/sharing/rest/community/self"
    assert use(community, portal, REFERER)["username"] == "alice"
    wrong = use(community, portal, "https://other.example/")
    assert wrong == {"error": {"code": 498, "message": "Invalid token.", "details": []}}
    server = server_generate(emu, client="referrer", referrer=REFERER)["token"]
    assert use(emu.service_url, server, REFERER)["user"] == "alice"
    assert use(emu.service_url, server) == {
        "error": {"code": 498, "message": "Invalid Token", "details": []}
    }


def test_token_required(emu: Emulator) -> None:
    assert use(emu.service_url) == {
        "error": {"code": 499, "message": "Token Required", "details": []}
    }
    online = {
        "error": {
            "code": 499,
            "message": "Token Required",
            "messageCode": "GWM_0003",
            "details": ["Token Required"],
        }
    }
    assert use(emu.online_service_url) == online
    assert use(f"{emu.portal_url}/sharing/rest/community/self") == online


def test_every_way_of_sending_a_token(emu: Emulator) -> None:
    token = server_generate(emu)["token"]
    url = emu.service_url
    assert use(url, token)["user"] == "alice"
    auth = {"Authorization": f"Bearer {token}"}
    assert requests.get(url, params={"f": "json"}, headers=auth).json()["user"] == "alice"
    query = requests.get(url, params={"f": "json", "token": token}).json()
    assert query["user"] == "alice"
    form = requests.post(url + "/0/query", data={"f": "json", "token": token, "where": "1=1"})
    assert len(form.json()["features"]) == 2


def test_tokens_expire_on_the_clock(emu: Emulator, clock: ManualClock) -> None:
    token = server_generate(emu, expiration="10")["token"]
    clock.advance(599)
    assert use(emu.service_url, token)["user"] == "alice"
    clock.advance(1)
    assert error_code(use(emu.service_url, token)) == 498


def test_revoked_token_is_invalid(emu: Emulator) -> None:
    token = server_generate(emu)["token"]
    emu.revoke(token)
    assert error_code(use(emu.service_url, token)) == 498


def test_restricted_service_answers_403(emu: Emulator) -> None:
    alice = server_generate(emu)["token"]
    assert use(emu.restricted_service_url, alice) == {
        "error": {
            "code": 403,
            "messageCode": "GWM_0003",
            "message": (
                "You do not have permissions to access this resource or perform this operation."
            ),
            "details": [],
        }
    }
    bob = server_generate(emu, username="bob", password="builder")["token"]
    assert use(emu.restricted_service_url, bob)["user"] == "bob"


def test_server_clock_offset_shows_in_date_and_expires(clock: ManualClock) -> None:
    with Emulator(clock=clock, server_clock_offset=-300.0) as emu:
        reply = post(
            f"{emu.portal_url}/sharing/rest/generateToken", username="alice", password=PASSWORD
        )
    date = email.utils.parsedate_to_datetime(reply.headers["Date"]).timestamp()
    assert date == START - 300
    assert reply.json()["expires"] == int((START - 300 + 3600) * 1000)


# -- federation and discovery ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["serverUrl", "serverURL", "serverurl"])
def test_federated_exchange(emu: Emulator, name: str) -> None:
    portal = portal_generate(emu.portal_url)["token"]
    body = exchange(emu, portal, emu.federated_server_url + "/", name)
    server_token = body["token"]
    assert isinstance(body["expires"], int)
    assert use(emu.federated_service_url, server_token)["user"] == "alice"
    assert use(emu.federated_service_url, portal)["user"] == "alice"  # real servers do
    assert (
        error_code(use(emu.foreign_server_url + "/rest/services/Secure/MapServer", portal)) == 498
    )
    assert error_code(use(emu.service_url, portal)) == 498
    assert error_code(use(emu.service_url, server_token)) == 498


@pytest.mark.parametrize("suffix", ["", "/rest/services"])
def test_exchange_accepts_origin_only_and_deeper_server_urls(emu: Emulator, suffix: str) -> None:
    portal = portal_generate(emu.portal_url)["token"]
    server = emu.federated_server_url
    named = server[: -len("/arcgis")] if not suffix else server + suffix
    body = exchange(emu, portal, named)
    assert use(emu.federated_service_url, body["token"])["user"] == "alice"


def test_exchange_keeps_referer_binding(emu: Emulator) -> None:
    portal = portal_generate(emu.portal_url, client="referer", referer=REFERER)["token"]
    url = f"{emu.portal_url}/sharing/rest/generateToken"
    fields = {"token": portal, "serverURL": emu.federated_server_url, "request": "getToken"}
    server_token = post(url, referer=REFERER, **fields).json()["token"]
    assert use(emu.federated_service_url, server_token, REFERER)["user"] == "alice"
    assert error_code(use(emu.federated_service_url, server_token)) == 498


def test_exchange_refusals(emu: Emulator) -> None:
    portal = portal_generate(emu.portal_url)["token"]
    lookalike = requests.get(emu.foreign_server_url + "/rest/info?f=json").json()["owningSystemUrl"]
    for url in (emu.server_url, emu.foreign_server_url, lookalike):
        assert error_code(exchange(emu, portal, url)) == 400
    online = portal_generate(emu.online_url)["token"]
    assert error_code(exchange(emu, online, emu.federated_server_url)) == 498
    missing = post(f"{emu.portal_url}/sharing/rest/generateToken", serverUrl=emu.server_url)
    assert missing.json()["error"]["details"] == [
        "Unable to get 'token' from the request or cookie, for server token."
    ]


def test_server_info(emu: Emulator) -> None:
    standalone = requests.get(emu.server_url + "/rest/info", params={"f": "json"}).json()
    assert "owningSystemUrl" not in standalone
    assert standalone["authInfo"]["tokenServicesUrl"] == emu.server_url + "/tokens/"
    assert standalone["authInfo"]["shortLivedTokenValidity"] == 60
    federated = requests.get(emu.federated_server_url + "/rest/info?f=json").json()
    assert federated["owningSystemUrl"] == emu.portal_url
    token_url = emu.portal_url + "/sharing/rest/generateToken"
    assert federated["authInfo"]["tokenServicesUrl"] == token_url
    foreign = requests.get(emu.foreign_server_url + "/rest/info?f=json").json()
    owner = foreign["owningSystemUrl"]
    assert owner != emu.portal_url and emu.portal_url.split("://")[1] in owner


def test_portal_info_and_version(emu: Emulator) -> None:
    info = requests.get(f"{emu.portal_url}/sharing/rest/info?f=json").json()
    assert info["owningSystemUrl"] == emu.portal_url
    assert info["authInfo"] == {
        "tokenServicesUrl": f"{emu.portal_url}/sharing/rest/generateToken",
        "isTokenBasedSecurity": True,
    }
    version = requests.get(f"{emu.online_url}/sharing/rest", params={"f": "json"}).json()
    assert version["currentVersion"] == "2024.1"


def test_portal_can_advertise_an_internal_host() -> None:
    with Emulator(advertise_internal_host=True) as emu:
        info = requests.get(f"{emu.portal_url}/sharing/rest/info?f=json").json()
    assert ".invalid/" in info["authInfo"]["tokenServicesUrl"]


def test_portal_self_and_users(emu: Emulator) -> None:
    base = f"{emu.portal_url}/sharing/rest"
    assert "user" not in use(f"{base}/portals/self")
    token = portal_generate(emu.portal_url)["token"]
    assert use(f"{base}/portals/self", token)["user"]["username"] == "alice"
    assert use(f"{base}/community/users/bob", token)["username"] == "bob"
    assert error_code(use(f"{base}/portals/self", "bogus")) == 498


# -- app credentials and API keys ------------------------------------------------------------


def test_oauth_client_credentials(emu: Emulator) -> None:
    url = f"{emu.online_url}/sharing/rest/oauth2/token"
    form = {"grant_type": "client_credentials", "client_id": "appid", "client_secret": "appsecret"}
    body = post(url, expiration="30", **form).json()
    assert body["expires_in"] == 1800 and body["ssl"] is False
    assert use(emu.online_service_url, body["access_token"])["user"] == "appid"
    bad_id = post(url, **{**form, "client_id": "nobody"}).json()
    assert bad_id == {
        "error": {
            "code": 400,
            "error": "invalid_client_id",
            "error_description": "Invalid client_id",
            "message": "Invalid client_id",
            "details": [],
        }
    }
    bad_secret = post(url, **{**form, "client_secret": "nope"}).json()
    assert bad_secret["error"]["error"] == "invalid_client"


def test_api_keys(emu: Emulator, clock: ManualClock) -> None:
    assert use(emu.online_service_url, "AAPKgood")["user"] == "apikey"
    assert "user" in use(f"{emu.portal_url}/sharing/rest/portals/self", "AAPKgood")
    assert error_code(use(emu.online_service_url, "AAPKold")) == 498
    assert error_code(use(emu.service_url, "AAPKgood")) == 498
    assert use(emu.online_service_url, "AAPKlater")["user"] == "apikey"
    clock.advance(1000)
    assert error_code(use(emu.online_service_url, "AAPKlater")) == 498


def test_online_hosted_service_takes_online_tokens_only(emu: Emulator) -> None:
    online = portal_generate(emu.online_url)["token"]
    enterprise = portal_generate(emu.portal_url)["token"]
    assert use(emu.online_service_url, online)["user"] == "alice"
    invalid = use(emu.online_service_url, enterprise)
    assert invalid == {"error": {"code": 498, "message": "Invalid token.", "details": []}}


# -- geoprocessing ---------------------------------------------------------------------------


def poll(emu: Emulator, job_id: str, token: str, suffix: str = "", task: str = "") -> Json:
    """GET a job resource."""
    return use(f"{task or emu.gp_task_url}/jobs/{job_id}{suffix}", token)


def test_gp_job_lifecycle(emu: Emulator, clock: ManualClock) -> None:
    token = server_generate(emu, expiration="60", client="requestip")["token"]
    submit = requests.post(
        emu.gp_task_url + "/submitJob", data={"f": "json", "token": token, "Input": "x"}
    ).json()
    job_id = submit["jobId"]
    assert job_id.startswith("j") and submit["jobStatus"] == "esriJobSubmitted"
    assert poll(emu, job_id, token)["jobStatus"] == "esriJobSubmitted"
    clock.advance(30)
    early = poll(emu, job_id, token)
    assert early["jobStatus"] == "esriJobExecuting"
    assert early["progress"] == {"type": "default", "message": "Processing 30%"}
    clock.advance(40)
    later = poll(emu, job_id, token)
    assert len(later["messages"]) > len(early["messages"])
    assert error_code(use(f"{emu.gp_task_url}/jobs/{job_id}")) == 499
    clock.advance(30)
    done = poll(emu, job_id, token)
    assert done["jobStatus"] == "esriJobSucceeded"
    assert done["results"] == {"Output": {"paramUrl": "results/Output"}}
    result = poll(emu, job_id, token, "/results/Output")
    assert result["paramName"] == "Output" and json.loads(result["value"]) == {"Input": "x"}


def test_gp_job_failure(emu: Emulator, clock: ManualClock) -> None:
    token = server_generate(emu)["token"]
    url = emu.gp_task_url + "/submitJob"
    job = requests.get(url, params={"f": "json", "token": token, "fail": "true"}).json()
    clock.advance(100)
    failed = poll(emu, job["jobId"], token)
    assert failed["jobStatus"] == "esriJobFailed"
    assert any(m["type"] == "esriJobMessageTypeError" for m in failed["messages"])


def test_gp_cancel(emu: Emulator, clock: ManualClock) -> None:
    token = server_generate(emu)["token"]
    url = emu.gp_task_url + "/submitJob"
    job_id = requests.post(url, data={"token": token, "duration": "10"}).json()["jobId"]
    clock.advance(5)
    assert poll(emu, job_id, token, "/cancel") == {
        "jobId": job_id,
        "jobStatus": "esriJobCancelling",
    }
    assert poll(emu, job_id, token)["jobStatus"] == "esriJobCancelled"
    assert error_code(poll(emu, job_id, token, "/cancel")) == 400
    assert error_code(poll(emu, "jnope", token)) == 400


def test_gp_on_federated_server_and_sync_execute(emu: Emulator) -> None:
    portal = portal_generate(emu.portal_url)["token"]
    token = exchange(emu, portal, emu.federated_server_url)["token"]
    task = emu.federated_gp_task_url
    job_id = requests.post(task + "/submitJob", data={"token": token}).json()["jobId"]
    assert poll(emu, job_id, token, task=task)["jobStatus"] == "esriJobSubmitted"
    standalone = server_generate(emu)["token"]
    assert error_code(poll(emu, job_id, standalone)) == 400
    run = requests.post(task + "/execute", data={"f": "json", "token": token, "a": "1"}).json()
    assert run["results"][0]["value"] == '{"a": "1"}'


# -- faults ----------------------------------------------------------------------------------


def test_status_fault_then_normal(emu: Emulator) -> None:
    emu.inject_fault("/tokens/generateToken", "status", count=2, status=503)
    assert post(emu.server_url + "/tokens/generateToken").status_code == 503
    assert post(emu.server_url + "/tokens/generateToken").status_code == 503
    assert "token" in server_generate(emu)
    assert len(emu.token_requests("server")) == 3


def test_429_carries_retry_after(emu: Emulator) -> None:
    emu.inject_fault("generateToken", "429", retry_after=7)
    reply = post(f"{emu.portal_url}/sharing/rest/generateToken")
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "7"


@pytest.mark.parametrize(
    ("kind", "content_type", "body"),
    [
        ("empty", "application/json", b""),
        ("malformed_json", "application/json", b"{not json"),
        ("html_login", "text/html", None),
    ],
)
def test_body_faults(emu: Emulator, kind: str, content_type: str, body: Optional[bytes]) -> None:
    emu.inject_fault("rest/info", kind)
    reply = requests.get(emu.server_url + "/rest/info?f=json")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith(content_type)
    if body is None:
        assert b"<form" in reply.content
    else:
        assert reply.content == body


def test_reset_fault_is_a_connection_error(emu: Emulator) -> None:
    emu.inject_fault("generateToken", "reset")
    with pytest.raises(requests.exceptions.ConnectionError):
        post(f"{emu.portal_url}/sharing/rest/generateToken", username="alice", password=PASSWORD)
    assert "token" in portal_generate(emu.portal_url)
    assert [r.status for r in emu.token_requests("portal")] == [None, 200]


def test_delay_fault_delays_then_answers(emu: Emulator) -> None:
    emu.inject_fault("rest/info", "delay", seconds=2.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(emu.server_url + "/rest/info?f=json", timeout=0.2)
    emu.inject_fault("rest/info", "delay", seconds=0.05)
    assert "authInfo" in requests.get(emu.server_url + "/rest/info?f=json").json()


def test_fault_bookkeeping(emu: Emulator) -> None:
    with pytest.raises(ValueError):
        emu.inject_fault("x", "explode")
    emu.inject_fault("rest/info", "empty", count=5)
    emu.clear_faults()
    assert "authInfo" in requests.get(emu.server_url + "/rest/info?f=json").json()


# -- HTTP plumbing ---------------------------------------------------------------------------


def test_unknown_path_is_http_404(emu: Emulator) -> None:
    reply = requests.get(emu.server_url + "/rest/services/Nope/MapServer?f=json")
    assert reply.status_code == 404
    assert reply.json() == {"error": {"code": 404, "message": "Not found", "details": []}}


def test_request_log(emu: Emulator, clock: ManualClock) -> None:
    clock.advance(5)
    requests.post(
        f"{emu.online_url}/sharing/rest/generateToken?f=json",
        json={"username": "alice", "password": PASSWORD},
        headers={"X-Custom": "yes"},
    )
    use(emu.service_url)
    (record,) = emu.token_requests("online")
    assert record.method == "POST" and record.scheme == "http" and record.time == START + 5
    assert record.form == {"username": "alice", "password": PASSWORD}
    assert record.query == {"f": "json"}
    assert record.headers["x-custom"] == "yes" and "X-Custom" in dict(record.headers)
    assert [r.origin for r in emu.requests] == ["online", "server"]
    assert [(r.status, r.http_status) for r in emu.requests] == [(200, 200), (499, 200)]
    assert emu.token_requests() == [record]
    emu.clear_requests()
    assert emu.requests == []


def test_keep_alive_reuses_one_connection(emu: Emulator) -> None:
    with requests.Session() as session:
        url = emu.server_url + "/rest/info"
        for _ in range(2):
            assert session.get(url, params={"f": "json"}).ok
        adapter = session.get_adapter(url)
        assert isinstance(adapter, requests.adapters.HTTPAdapter)
        pools = adapter.poolmanager.pools
        assert sum(pools[key].num_connections for key in pools.keys()) == 1


def test_concurrent_token_requests(emu: Emulator) -> None:
    tokens: List[str] = []

    def fetch() -> None:
        tokens.append(server_generate(emu)["token"])

    threads = [threading.Thread(target=fetch) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(tokens)) == 16


def test_describe_and_not_started() -> None:
    emu = Emulator()
    with pytest.raises(RuntimeError):
        _ = emu.portal_url
    with emu:
        text = emu.describe()
        assert emu.portal_url in text and "alice" in text


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    """A test CA and a 127.0.0.1 certificate it signed, written to files."""
    trustme = pytest.importorskip("trustme")
    folder: Path = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    files = {"ca": str(folder / "ca.pem"), "cert": str(folder / "server.pem")}
    ca.cert_pem.write_to_path(files["ca"])
    cert.private_key_and_cert_chain_pem.write_to_path(files["cert"])
    return files


def test_https_everywhere(tls_files: Dict[str, str], capfd: pytest.CaptureFixture[str]) -> None:
    with Emulator(certfile=tls_files["cert"]) as emu:
        assert emu.portal_url.startswith("https://")
        url = f"{emu.portal_url}/sharing/rest/generateToken"
        form = {"username": "alice", "password": PASSWORD, "f": "json"}
        with pytest.raises(requests.exceptions.SSLError):
            requests.post(url, data=form, timeout=10)
        body = requests.post(url, data=form, verify=tls_files["ca"], timeout=10).json()
        assert body["ssl"] is True
        info = requests.get(emu.server_url + "/rest/info?f=json", verify=tls_files["ca"])
        assert info.json()["authInfo"]["tokenServicesUrl"].startswith("https://")
        assert emu.requests[-1].scheme == "https"
    assert capfd.readouterr().err == ""
