"""Bad input everywhere, generated: the core raises typed errors, never anything else.

Whatever a user types (URLs, kinds, expirations, proxies, referers, trusted hosts) becomes a
Connection or a ConfigError naming the field; whatever a server or a proxy answers (any bytes,
any JSON, any token reply, any job status) becomes a result or an ArcTokenError. The CLI ends
every failure with one line and a non-zero status; the toolbox shows messages, never a
traceback. Name resolution is limited to loopback, so no generated input leaves this machine.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from arctoken_core.clock import ManualClock
from arctoken_core.connection import Connection
from arctoken_core.errors import ArcTokenError, ConfigError, ResponseFormatError
from arctoken_core.kinds import KINDS
from arctoken_core.run.gpjob import GPJob
from arctoken_core.secrets import Secret
from arctoken_core.signin.app import AppCredentialsProvider
from arctoken_core.signin.base import token_from_reply
from arctoken_core.signin.discovery import portal_token_url, server_info
from arctoken_core.tokens.cache import TokenCache, cache_key
from arctoken_core.tokens.token import usable_token
from arctoken_core.transport.replies import read_json, token_rejected
from arctoken_core.urls import (
    is_loopback,
    normalise_portal_url,
    normalise_server_url,
    origin_key,
    root_key,
)
from arctoken_emulator import Emulator
from tests.conftest import ALICE, ALICE_PASSWORD, API_KEY, APP_ID, APP_SECRET, assert_no_secret
from tests.support import SleepLog, loopback_only_dns, one_error_line, run_cli
from tests.toolbox_support import (  # noqa: F401 - fixtures
    arcpy_fixture,
    everything_shown,
    open_tool,
    toolbox_fixture,
)

pytestmark = pytest.mark.timeout(300)

FEW = settings(max_examples=60, deadline=None, database=None)
SOME = settings(max_examples=150, deadline=None, database=None)
WITH_FIXTURES = [HealthCheck.function_scoped_fixture]
"""The fixtures these tests use are the same for every example (a module emulator, arcpy)."""
NOW = 1_800_000_000.0

# -- strategies --------------------------------------------------------------------------------

TEXT = st.text(max_size=40)


def _marked(prefix: str) -> st.SearchStrategy[str]:
    """Arbitrary text that, when long enough to be registered as a secret, is unmistakable.

    Passwords, keys and tokens of 4 or more characters are registered for redaction for the
    rest of the run: a generated one like "http" would then 'leak' into every later log
    line. Short text stays arbitrary; longer text carries a marker no log line contains.
    """
    return st.text(max_size=3) | st.text(max_size=30).map(lambda t: f"{prefix}{t}{prefix}")


SECRET_TEXT = _marked("Zq9")
TOKEN_TEXT = _marked("Tk7")
HOSTS = st.sampled_from(
    [
        "gis.example.com",
        "127.0.0.1",
        "localhost",
        "[::1]",
        "[::1",
        "::1",
        "",
        " ",
        "ex ample.com",
        "éxample.com",
        "user:pw@gis.example.com",
        "gis.example.com.",
        "%41",
    ]
) | st.text(max_size=12)
PORTS = st.sampled_from(["", ":443", ":0", ":65536", ":x", ":-1", ":"]) | st.integers(
    -5, 70000
).map(lambda p: f":{p}")
PATHS = st.sampled_from(
    ["", "/", "/portal", "/arcgis/rest/services/X/MapServer", "/sharing/rest", "/home", "?a=1"]
) | st.text(max_size=12)
SCHEMES = st.sampled_from(["https://", "http://", "", "ftp://", "HTTPS://", "//", "https:/"])
URLS = st.builds(lambda *parts: "".join(parts), SCHEMES, HOSTS, PORTS, PATHS) | TEXT
PROXIES = (
    st.builds(
        lambda *parts: "".join(parts),
        st.sampled_from(["", "http://", "https://", "socks5://", "ftp://"]),
        st.sampled_from(["", "u:p@", "u@"]),
        HOSTS,
        PORTS,
    )
    | TEXT
)
EXPIRATIONS = st.one_of(
    st.integers(-(10**6), 10**6),
    st.just(10**30),
    st.floats(),
    st.text(max_size=8).filter(lambda t: t != ""),
    st.booleans(),
)
"""Minutes as a caller might pass them (None and "" mean the default: tested on their own)."""
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
EPOCHS = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(),
    st.integers(0, 10**16).map(str),
    st.just(10**400),
    JSON,
)
DATES = (
    st.none() | st.text(max_size=30) | st.datetimes().map(lambda d: email.utils.format_datetime(d))
)


def _response(
    body: bytes, status: int = 200, headers: Optional[Dict[str, str]] = None
) -> requests.Response:
    """A requests.Response as if a server had sent it (the core reads nothing else)."""
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers = CaseInsensitiveDict(headers or {})
    response.encoding = get_encoding_from_headers(response.headers)
    response.url = "https://gis.example.com/arcgis/rest/info"
    return response


class CannedAdapter(requests.adapters.BaseAdapter):
    """Answers every request with the next of the given replies (the last one repeats)."""

    def __init__(self, replies: List[requests.Response]) -> None:
        super().__init__()
        self.replies = replies

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        """The next canned reply, as the answer to ``request``."""
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        reply.url, reply.request = request.url or "", request
        return reply

    def close(self) -> None:
        """Nothing to close."""


def _canned(*bodies: Any) -> requests.Session:
    session = requests.Session()
    replies = [_response(json.dumps(b).encode()) for b in bodies]
    session.mount("https://", CannedAdapter(replies))
    return session


@pytest.fixture(scope="module")
def live() -> Iterator[Emulator]:
    """One emulator for the module's examples (a real clock: nothing here waits for expiry)."""
    with Emulator(
        users={ALICE: ALICE_PASSWORD},
        apps={APP_ID: APP_SECRET},
        api_keys={API_KEY: None},
        lockout_threshold=0,  # generated wrong passwords must not lock out the next example
    ) as emulator:
        yield emulator


@pytest.fixture(scope="module", autouse=True)
def loopback_names_only() -> Iterator[None]:
    """No generated host name is looked up outside this machine; retries wait for no one."""
    with pytest.MonkeyPatch.context() as patch:
        loopback_only_dns(patch)
        SleepLog().install(patch)
        yield


# -- what a user types --------------------------------------------------------------------------


def _connection(**values: Any) -> Connection:
    credentials = dict(username=ALICE, password=ALICE_PASSWORD, client_id=APP_ID)
    credentials.update(client_secret=APP_SECRET, api_key=API_KEY)
    return Connection(**{**credentials, **values})


@SOME
@given(
    kind=st.sampled_from(sorted(KINDS)) | TEXT,
    url=st.none() | URLS,
    server_url=st.none() | URLS,
    expiration=EXPIRATIONS,
    referer=st.none() | TEXT,
    proxy=st.none() | PROXIES,
    trusted=st.lists(URLS, max_size=2),
)
def test_a_connection_is_made_or_refused_with_a_config_error(
    kind: str,
    url: Optional[str],
    server_url: Optional[str],
    expiration: Any,
    referer: Optional[str],
    proxy: Optional[str],
    trusted: List[str],
) -> None:
    try:
        conn = _connection(
            kind=kind,
            url=url,
            server_url=server_url,
            expiration=expiration,
            referer=referer,
            proxy=proxy,
            trusted_hosts=trusted,
        )
    except ConfigError as exc:
        assert exc.field and exc.reason and str(exc).startswith(exc.field)
        assert_no_secret(str(exc))
        return
    for target in filter(None, [conn.url, conn.server_url]):
        parts = urlsplit(target)
        assert parts.scheme == "https" or is_loopback(parts.hostname)  # never http elsewhere
    assert conn.http.proxy_url() is None or "@" not in conn.http.proxy_url()  # type: ignore[operator]
    assert_no_secret(repr(conn) + repr(conn.http))


@pytest.mark.parametrize("expiration", [None, ""])
def test_an_explicit_empty_expiration_means_the_default(expiration: Optional[str]) -> None:
    assert _connection(kind="online", expiration=expiration).expiration == 60


@SOME
@given(raw=URLS)
def test_url_helpers_return_or_raise_config_error(raw: str) -> None:
    for normalise in (normalise_portal_url, normalise_server_url):
        try:
            root = normalise(raw)
        except ConfigError:
            continue
        assert root.startswith(("https://", "http://")) and not root.endswith("/")
        assert normalise(root) == root  # a normalised root is a fixed point
        assert origin_key(root)[0] and root_key(root) == root_key(root + "/")
    for helper in (origin_key, root_key):
        try:
            helper(raw)
        except ConfigError:
            pass


@FEW
@given(referer=TEXT)
def test_an_accepted_referer_works_on_the_wire(live: Emulator, referer: str) -> None:
    try:
        conn = _connection(kind="server", url=live.server_url, referer=referer)
    except ConfigError:
        return
    reply = conn.session().get(live.service_url, params={"f": "json"}).json()
    assert reply.get("user") == ALICE, reply


@FEW
@given(key=SECRET_TEXT)
def test_an_accepted_api_key_can_be_sent(live: Emulator, key: str) -> None:
    try:
        conn = Connection(kind="apikey", url=live.online_url, api_key=key)
    except ConfigError:
        return
    reply = conn.session().get(live.online_service_url, params={"f": "json"})
    assert reply.status_code == 200  # a wrong key is refused by the server, not the socket


# -- what a server (or a proxy) answers ---------------------------------------------------------

STATUSES = st.sampled_from([200, 200, 200, 301, 302, 307, 400, 401, 403, 404, 407, 429, 500, 503])
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "text/plain;charset=utf-8",
        "text/html",
        "application/json; charset=no-such-charset",
        "application/json; charset=utf-16",
        "",
    ]
)
BODIES = (
    st.binary(max_size=200)
    | JSON.map(lambda v: json.dumps(v).encode())
    | st.sampled_from(
        [b"[" * 50_000, b'{"error": {"code": Infinity}}', b'{"status": "error", "code": NaN}']
    )
)


@SOME
@given(body=BODIES, status=STATUSES, kind=CONTENT_TYPES, location=st.none() | TEXT)
def test_any_reply_is_json_or_a_typed_error(
    body: bytes, status: int, kind: str, location: Optional[str]
) -> None:
    headers = {"Content-Type": kind}
    if location is not None:
        headers["Location"] = location
    response = _response(body, status, headers)
    assert token_rejected(response) in (None, 498, 499)
    try:
        assert isinstance(read_json(response, "request"), dict)
    except ArcTokenError as exc:
        assert str(exc)


@SOME
@given(
    payload=st.fixed_dictionaries(
        {}, optional={"token": TOKEN_TEXT | JSON, "expires": EPOCHS, "ssl": JSON}
    ),
    date=DATES,
)
def test_any_token_reply_is_a_usable_token_or_a_format_error(
    payload: Dict[str, Any], date: Optional[str]
) -> None:
    response = _response(b"", headers={"Date": date} if date is not None else {})
    try:
        token = token_from_reply(payload, response, NOW, referer=None, audience="x")
    except ResponseFormatError:
        return
    assert usable_token(token.value)
    datetime.datetime.fromtimestamp(token.expires_at, datetime.timezone.utc)  # a real date


@FEW
@given(
    reply=st.fixed_dictionaries(
        {}, optional={"access_token": TOKEN_TEXT | JSON, "expires_in": EPOCHS}
    )
)
def test_any_oauth_reply_is_a_usable_token_or_a_typed_error(reply: Dict[str, Any]) -> None:
    provider = AppCredentialsProvider(
        _canned(reply),
        "https://gis.example.com/portal",
        APP_ID,
        Secret(APP_SECRET),
        expiration=60,
        clock=ManualClock(NOW),
    )
    try:
        token = provider.fetch()
    except ArcTokenError:
        return
    assert usable_token(token.value) and token.expires_at > NOW


@SOME
@given(info=JSON, auth=st.fixed_dictionaries({}, optional={"tokenServicesUrl": URLS | JSON}))
def test_any_info_reply_is_understood_or_a_typed_error(info: Any, auth: Dict[str, Any]) -> None:
    payload = dict(info) if isinstance(info, dict) else {}
    payload.update(authInfo={**auth, "shortLivedTokenValidity": info}, owningSystemUrl=info)
    root = "https://gis.example.com/portal"
    try:
        server_info(_canned(payload), root)
        url = portal_token_url(_canned(payload), root)
    except ArcTokenError:
        return
    assert origin_key(url) == origin_key(root)  # a password goes to the portal's own host


@FEW
@given(replies=st.lists(JSON, max_size=6))
def test_any_job_reply_ends_the_job_or_raises_a_typed_error(replies: List[Any]) -> None:
    queue = [r if isinstance(r, dict) else {"jobStatus": r} for r in replies]
    queue.insert(0, {"jobId": "j1"})
    done = {"jobStatus": "esriJobSucceeded", "results": {}}

    def call(method: str, url: str, params: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        return queue.pop(0) if queue else done

    clock = ManualClock(NOW)
    job = GPJob(call, "https://gis.example.com/arcgis/rest/services/T/GPServer/Run", clock=clock)
    job.sleep = clock.advance
    try:
        job.run({})
    except ArcTokenError:
        pass


def _read_cache_file(content: bytes) -> None:
    """Put ``content`` where a token file goes: reading it gives a usable token or None."""
    with tempfile.TemporaryDirectory() as folder:
        cache = TokenCache(Path(folder))
        key = cache_key(["k"])
        cache.path(key).write_bytes(content)
        token = cache.read(key)
        assert token is None or usable_token(token.value)


@SOME
@given(content=st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()))
def test_any_cache_file_is_a_token_or_ignored(content: bytes) -> None:
    _read_cache_file(content)


@SOME
@given(
    data=st.fixed_dictionaries(
        {"version": st.just(1), "key": st.just(cache_key(["k"]))},
        optional={
            "token": TOKEN_TEXT | JSON,
            "expires_at": EPOCHS,
            "issued_at": EPOCHS,
            "referer": JSON,
        },
    )
)
def test_a_cache_file_of_ours_with_any_values_is_a_token_or_ignored(data: Dict[str, Any]) -> None:
    _read_cache_file(json.dumps(data).encode())


# -- the command line and the toolbox ------------------------------------------------------------

CLI_KINDS = st.sampled_from(["online", "portal", "server", "apikey", "app"])
SECRET_FOR = {"apikey": API_KEY, "app": APP_SECRET}
"""What each kind reads from stdin (the rest: the user's password)."""


def _url_for(live: Emulator, kind: str) -> str:
    return {"portal": live.portal_url, "server": live.server_url}.get(kind, live.online_url)


def _one_bad_field(
    data: st.DataObject, valid: Dict[str, Any], junk: Dict[str, st.SearchStrategy[Any]]
) -> Dict[str, Any]:
    """``valid`` with at most one field replaced by generated junk.

    Input that is all valid reaches the server (and must work); input with one bad field
    shows what that field alone does. Junk in every field at once would only ever test the
    first check.
    """
    field = data.draw(st.sampled_from([None, *sorted(junk)]), label="field")
    if field is None:
        return dict(valid)
    return {**valid, field: data.draw(junk[field], label=field)}


def _cli_junk(live: Emulator) -> Dict[str, st.SearchStrategy[Any]]:
    return {
        "--url": URLS,
        "--username": TEXT,
        "--client-id": TEXT,
        "--referer": TEXT,
        "--expiration": st.integers(-10, 30000).map(str),
        "--proxy": PROXIES,
        "--server-url": st.just(live.federated_server_url) | URLS,
        "--timeout": st.sampled_from(["0.000001", "1e300", "nan", "inf", "-1", "0"]),
        "stdin": SECRET_TEXT,
    }


@settings(SOME, suppress_health_check=WITH_FIXTURES)
@given(data=st.data())
def test_the_cli_prints_a_token_or_one_line_and_a_non_zero_status(
    live: Emulator, data: st.DataObject
) -> None:
    kind = data.draw(CLI_KINDS, label="kind")
    valid = {"--url": _url_for(live, kind), "--username": ALICE, "--timeout": "5"}
    valid.update({"--client-id": APP_ID, "stdin": SECRET_FOR.get(kind, ALICE_PASSWORD)})
    options = _one_bad_field(data, valid, _cli_junk(live))
    stdin = options.pop("stdin")
    args = ["token", f"--kind={kind}", "--password-stdin", "--no-system-proxy"]
    args += [f"{flag}={value}" for flag, value in options.items()]
    code, out, err = run_cli(args, stdin)
    event(f"exit status {code}")
    if code == 0:
        assert len(out.splitlines()) == 1 and usable_token(out.strip())
    else:
        # one error line; a once-per-host warning may come first (plain http to ::1, say)
        assert out == "" and one_error_line(err), err
        assert code in (1, 2, 3, 4, 5)
    assert "Traceback" not in err
    assert_no_secret(err)


@pytest.mark.parametrize("option", ["--expiration=soon", "--timeout=fast", "--kind=ftp"])
def test_an_option_argparse_refuses_is_one_line_too(option: str) -> None:
    code, out, err = run_cli(["token", option])
    assert code == 2 and out == "" and one_error_line(err)


TOOL_KINDS = {
    "online": "ArcGIS Online",
    "portal": "ArcGIS Enterprise portal",
    "server": "ArcGIS Server (standalone)",
    "apikey": "API key",
    "app": "App credentials",
}
TOOL_JUNK: Dict[str, st.SearchStrategy[Any]] = {
    "url": URLS,
    "username": TEXT,
    "password": SECRET_TEXT,
    "referer": TEXT,
    "proxy": PROXIES,
    "server_url": URLS,
    "api_key": SECRET_TEXT,
    "client_id": TEXT,
    "client_secret": SECRET_TEXT,
    "expiration": st.integers(-10, 30000),
    "token_file": TEXT,
}


@settings(FEW, suppress_health_check=WITH_FIXTURES)
@given(data=st.data())
def test_the_toolbox_shows_messages_never_a_traceback(
    toolbox: ModuleType,
    arcpy: ModuleType,
    live: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    data: st.DataObject,
) -> None:
    monkeypatch.chdir(tmp_path)  # a generated relative token file lands here, if anywhere
    kind = data.draw(st.sampled_from(sorted(TOOL_KINDS)), label="kind")
    valid: Dict[str, Any] = dict(connection_type=TOOL_KINDS[kind], url=_url_for(live, kind))
    valid.update(username=ALICE, password=ALICE_PASSWORD, api_key=API_KEY)
    valid.update(client_id=APP_ID, client_secret=APP_SECRET)
    values = _one_bad_field(data, valid, TOOL_JUNK)
    tool = open_tool(toolbox, "GenerateToken")
    tool.set(**{k: v for k, v in values.items() if v not in (None, "")})
    try:
        tool.run()
        event("ran")
    except arcpy.ExecuteError as exc:
        event("refused")
        assert str(exc).strip() and "Traceback" not in str(exc)
    assert "Traceback" not in everything_shown()
    assert_no_secret(everything_shown())
