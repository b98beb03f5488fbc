"""ArcTokenTools.pyt in the arcpy double: loading, parameters, enabling and validation messages.

No network here: these are the dialog's behaviours, driven the way ArcGIS Pro drives them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List

import pytest

from arctoken_core.kinds import KIND_LABELS, KINDS
from arctoken_core.run.targets import TARGET_LABELS
from arctoken_core.toolbox import spec as toolspec
from tests.toolbox_support import (  # noqa: F401 - fixtures
    DOUBLE,
    PYT,
    ROOT,
    ProTool,
    arcpy_fixture,
    open_tool,
    toolbox_fixture,
)

PORTAL = "ArcGIS Enterprise portal"
ALL_TOOLS = ("GenerateToken", "RunWithCredentials")


def _open(toolbox: ModuleType, name: str = "GenerateToken") -> ProTool:
    return open_tool(toolbox, name)


# -- loading ---------------------------------------------------------------------------------


RUN_MODULES = (
    "arctoken_core.run.outcome",
    "arctoken_core.run.script",
    "arctoken_core.run.job",
    "arctoken_core.run.gpjob",
    "arctoken_core.run.generate",
    "arctoken_core.connection",
)
"""What a tool run loads and opening or validating a dialog must not."""


def test_the_toolbox_loads_without_site_packages_or_network_code(tmp_path: Path) -> None:
    """Loaded like Pro (SourceFileLoader), from another folder, with no site-packages at all,
    then both tool dialogs opened and validated (fresh, then with values typed in):
    arctoken_core comes from beside the .pyt and neither requests nor the runner is imported."""
    code = f"""
import importlib.machinery, importlib.util, json, sys
sys.path.insert(0, {str(DOUBLE)!r})
loader = importlib.machinery.SourceFileLoader("ArcTokenTools", {str(PYT)!r})
spec = importlib.util.spec_from_loader("ArcTokenTools", loader)
module = importlib.util.module_from_spec(spec)
loader.exec_module(module)
box = module.Toolbox()
tools = [cls() for cls in box.tools]
typed = {{"connection_type": "ArcGIS Enterprise portal", "url": "https://gis.example.com/portal",
         "username": "analyst", "target_type": "Geoprocessing service job",
         "task_url": "https://gis.example.com/server/rest/services/T/GPServer/t",
         "job_parameters": '{{"a": [1, 2]}}', "output_file": {str(tmp_path / "out.json")!r}}}
messages = []
for tool in tools:
    params = tool.getParameterInfo()
    for round in ("fresh", "typed"):
        tool.updateParameters(params)
        tool.updateMessages(params)
        messages += [p.message for p in params if p.message]
        for p in params:
            if p.name in typed:
                p._user_sets(typed[p.name])
import arctoken_core
print(json.dumps({{
    "core": arctoken_core.__file__,
    "labels": [t.label for t in tools],
    "messages": messages,
    "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("requests", "urllib3")
                      or m.startswith("arctoken_core.")),
}}))
"""
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert Path(report["core"]).resolve().parent.parent == ROOT
    assert report["labels"] == ["Generate Token", "Run with Credentials"]
    assert "arctoken_core.run.targets" in report["modules"]  # validation did run
    assert [m for m in report["modules"] if m.split(".")[0] in ("requests", "urllib3")] == []
    assert [m for m in RUN_MODULES if m in report["modules"]] == []


def test_toolbox_label_alias_and_tools(toolbox: ModuleType) -> None:
    box = toolbox.Toolbox()
    assert box.label == "ArcTokenTools"
    assert box.alias.isalnum() and box.alias == "ArcTokenTools"
    assert [cls.__name__ for cls in box.tools] == list(ALL_TOOLS)
    assert [cls().label for cls in box.tools] == ["Generate Token", "Run with Credentials"]
    assert all(cls().isLicensed() for cls in box.tools)


@pytest.mark.parametrize("name", ALL_TOOLS)
def test_parameters_are_built_from_the_spec(toolbox: ModuleType, name: str) -> None:
    tool = _open(toolbox, name)
    spec = toolspec.tool_spec(name)
    assert [p.name for p in tool.params] == [s.name for s in spec.params]
    for param, s in zip(tool.params, spec.params):
        assert param.displayName == s.label
        assert param.parameterType == s.parameter_type
        assert param.direction == s.direction
        assert param.category == s.category
        if s.filter_type is not None:
            assert (param.filter.type, param.filter.list) == (s.filter_type, s.filter_list)
    shared = [p.name for p in toolspec.connection_params()]
    assert [p.name for p in tool.params][: len(shared)] == shared


@pytest.mark.parametrize("name", ALL_TOOLS)
def test_secrets_are_encrypted_strings(toolbox: ModuleType, name: str) -> None:
    tool = _open(toolbox, name)
    for secret in ("password", "client_secret", "api_key", "proxy_password"):
        assert tool[secret].datatype == "Encrypted String"


def test_derived_outputs_of_generate_token(toolbox: ModuleType) -> None:
    tool = _open(toolbox)
    kinds = {n: tool[n].datatype for n in ("token", "expires", "token_referer", "token_url")}
    assert kinds == {
        "token": "String",
        "expires": "Date",
        "token_referer": "String",
        "token_url": "String",
    }
    for name in kinds:
        assert (tool[name].parameterType, tool[name].direction) == ("Derived", "Output")
    assert (tool["token_file"].parameterType, tool["token_file"].direction) == (
        "Optional",
        "Output",
    )


def test_outputs_of_run_with_credentials(toolbox: ModuleType) -> None:
    tool = _open(toolbox, "RunWithCredentials")
    assert (tool["output_file"].parameterType, tool["output_file"].direction) == (
        "Required",
        "Output",
    )
    assert tool["result_file"].parameterType == "Derived"
    assert tool["token_refreshes"].datatype == "Long"


def test_defaults_of_a_fresh_dialog(toolbox: ModuleType) -> None:
    tool = _open(toolbox)
    values = {p.name: p.value for p in tool.params if p.value is not None}
    assert values == {
        "connection_type": "ArcGIS Online",
        "url": "https://www.arcgis.com",
        "expiration": 60,
        "referer": "arctokentools",
        "use_system_proxy": True,
        "verify": True,
    }
    assert tool["proxy"].category == "Proxy" and tool["ca_bundle"].category == "Security"
    assert tool.errors() == {}


def test_codes_in_the_spec_are_the_cores() -> None:
    assert tuple(toolspec.GENERATE_TOKEN.param("connection_type").filter_list) == tuple(
        KIND_LABELS[k] for k in KINDS
    )
    for spec in toolspec.RUN_WITH_CREDENTIALS.params:
        assert set(spec.kinds or KINDS) <= set(KINDS)
        assert set(spec.targets or TARGET_LABELS) <= set(TARGET_LABELS)


# -- the double is strict ----------------------------------------------------------------------


def test_the_double_refuses_what_arcpy_refuses(arcpy: ModuleType) -> None:
    with pytest.raises(ValueError):
        arcpy.Parameter(name="x", displayName="X", datatype="GPStrin")
    with pytest.raises(ValueError):
        arcpy.Parameter(name="x", datatype="GPString", parameterType="Mandatory")
    with pytest.raises(ValueError):
        arcpy.Parameter(name="x", datatype="GPString", parameterType="Derived", direction="Input")
    param = arcpy.Parameter(name="x", datatype="GPString", parameterType="Optional")
    with pytest.raises(AttributeError):
        param.enable = False
    with pytest.raises(AttributeError):
        param.valueAsText = "x"
    with pytest.raises(ValueError):
        param.filter.type = "Values"


# -- enabling and defaults -------------------------------------------------------------------

USED: Dict[str, List[str]] = {
    "online": ["username", "password", "expiration", "referer", "server_url"],
    "portal": ["username", "password", "expiration", "referer", "server_url"],
    "server": ["username", "password", "expiration", "referer"],
    "pro": ["referer", "server_url"],
    "apikey": ["api_key", "referer"],
    "app": ["client_id", "client_secret", "expiration"],
    "user_oauth": ["client_id", "server_url"],
    "pki": ["cert_file", "key_file", "cert_password", "expiration", "referer", "server_url"],
    "iwa": ["username", "password", "expiration", "referer", "server_url"],
    "profile": ["profile"],
}
KIND_SPECIFIC = sorted({n for names in USED.values() for n in names})


@pytest.mark.parametrize("kind", KINDS)
def test_only_what_the_connection_type_uses_is_enabled(toolbox: ModuleType, kind: str) -> None:
    tool = _open(toolbox).set(connection_type=KIND_LABELS[kind])
    enabled = [n for n in KIND_SPECIFIC if tool[n].enabled]
    assert enabled == sorted(USED[kind])
    for always in ("connection_type", "proxy", "proxy_password", "verify", "ca_bundle"):
        assert tool[always].enabled
    assert tool["url"].enabled == (kind != "profile")  # a saved profile has its own URL


@pytest.mark.parametrize(
    ("target", "used"),
    [
        ("Python script", {"script_file", "function_name", "script_arguments"}),
        ("REST request", {"request_url", "request_method", "request_parameters"}),
        (
            "Geoprocessing service job",
            {"task_url", "job_parameters", "poll_interval", "time_limit"},
        ),
    ],
)
def test_only_the_targets_parameters_are_enabled(
    toolbox: ModuleType, target: str, used: set[str]
) -> None:
    tool = _open(toolbox, "RunWithCredentials").set(target_type=target)
    target_params = {s.name for s in toolspec.RUN_WITH_CREDENTIALS.params if s.targets}
    assert {n for n in target_params if tool[n].enabled} == used
    assert tool["output_file"].enabled


def test_url_follows_the_connection_type(toolbox: ModuleType, arcpy: ModuleType) -> None:
    arcpy._double.STATE.active_portal_url = "https://gis.example.com/portal/"
    tool = _open(toolbox)
    tool.set(connection_type="ArcGIS Pro active portal")
    assert tool["url"].value == "https://gis.example.com/portal/"
    tool.set(connection_type=PORTAL)
    assert tool["url"].value is None
    tool.set(url="https://mine.example.com/portal", connection_type="ArcGIS Server (standalone)")
    assert tool["url"].value == "https://mine.example.com/portal"
    tool.set(url=None, connection_type="App credentials")
    assert tool["url"].value == "https://www.arcgis.com"
    tool.set(connection_type="API key")
    assert tool["url"].value == "https://www.arcgis.com"


def test_an_unchanged_type_leaves_a_typed_url_alone(toolbox: ModuleType) -> None:
    tool = _open(toolbox).set(connection_type=PORTAL, url="https://gis.example.com/portal")
    tool.set(username="alice")
    assert tool["url"].value == "https://gis.example.com/portal"


# -- validation messages on the right parameter ------------------------------------------------


def _portal(toolbox: ModuleType, name: str = "GenerateToken", **values: Any) -> ProTool:
    base: Dict[str, Any] = dict(
        connection_type=PORTAL,
        url="https://gis.example.com/portal",
        username="alice",
        password="not-checked-here",
    )
    base.update(values)
    return _open(toolbox, name).set(**base)


def test_a_complete_portal_connection_has_no_messages(toolbox: ModuleType) -> None:
    tool = _portal(toolbox)
    assert tool.errors() == {} and tool.warnings() == {}


@pytest.mark.parametrize(
    ("values", "param", "words"),
    [
        ({"url": "https://gis example.com/portal"}, "url", "spaces"),
        ({"url": "ftp://gis.example.com/portal"}, "url", "https://"),
        ({"url": "https://gis.example.com:99999/portal"}, "url", "not a valid URL"),
        ({"url": "http://gis.example.com/portal"}, "url", "must use https://"),
        ({"expiration": 0}, "expiration", "1 to 20160"),
        ({"expiration": 20161}, "expiration", "1 to 20160"),
        ({"proxy": "proxy.example.com"}, "proxy", "needs a port"),
        ({"proxy": ":8080"}, "proxy", "has no host"),
        ({"proxy_username": "pu", "proxy_password": "pp"}, "proxy", "without a proxy"),
        ({"proxy": "proxy.example.com:8080", "proxy_password": "pp"}, "proxy_username", "needs"),
        ({"ca_bundle": "/nowhere/ca.pem"}, "ca_bundle", "not found"),
        ({"server_url": "http://fed.example.com/server"}, "server_url", "must use https://"),
        ({"referer": "my\napp"}, "referer", "single line"),
    ],
)
def test_each_problem_is_an_error_on_its_parameter(
    toolbox: ModuleType, values: Dict[str, Any], param: str, words: str
) -> None:
    tool = _portal(toolbox, **values)
    errors = tool.errors()
    assert param in errors, errors
    assert words in errors[param]
    assert errors[param].startswith(tool[param].displayName + ": ")
    assert "not-checked-here" not in json.dumps(errors)


@pytest.mark.parametrize(
    ("kind", "missing"),
    [
        ("App credentials", {"client_id", "client_secret"}),
        ("API key", {"api_key"}),
        ("ArcGIS Server (standalone)", {"url", "username", "password"}),
        ("ArcGIS Online", {"username", "password"}),
    ],
)
def test_missing_credentials_of_the_chosen_type(
    toolbox: ModuleType, kind: str, missing: set[str]
) -> None:
    tool = _open(toolbox).set(connection_type=kind)
    assert set(tool.errors()) == missing


@pytest.mark.parametrize("name", ALL_TOOLS)
def test_a_fresh_dialog_shows_no_message_at_all(toolbox: ModuleType, name: str) -> None:
    """As Pro's own tools: nothing is flagged before the user has changed anything."""
    tool = _open(toolbox, name)
    assert tool.errors() == {} and tool.warnings() == {}


@pytest.mark.parametrize("param", ["password", "username", "url"])
def test_a_value_the_type_needs_is_required_the_esri_way(toolbox: ModuleType, param: str) -> None:
    """Optional parameters (their type cannot change) that the chosen type needs get Pro's
    own message 000735 once the user has touched the dialog."""
    empty: Dict[str, Any] = {param: None}
    tool = _portal(toolbox, **empty)
    label = tool[param].displayName
    assert tool.errors() == {param: f"ERROR 000735: {label}: Value is required"}
    assert tool[param].parameterType == "Optional"


def test_required_values_of_the_chosen_target(toolbox: ModuleType) -> None:
    tool = _portal(toolbox, "RunWithCredentials", target_type="REST request")
    assert tool.errors()["request_url"] == "ERROR 000735: Request URL: Value is required"
    assert "script_file" not in tool.errors()  # not the chosen target: hidden, not required


def test_pro_active_portal_needs_no_credentials(toolbox: ModuleType) -> None:
    tool = _open(toolbox).set(connection_type="ArcGIS Pro active portal")
    assert tool.errors() == {}


def test_loopback_http_is_a_warning(toolbox: ModuleType) -> None:
    tool = _portal(toolbox, url="http://127.0.0.1:8443/portal")
    assert tool.errors() == {}
    assert "this machine" in tool.warnings()["url"]


def test_unchecked_certificates_warn(toolbox: ModuleType) -> None:
    tool = _portal(toolbox, verify=False)
    assert "certificate checks are off" in tool.warnings()["verify"]


def test_an_existing_ca_bundle_is_fine(toolbox: ModuleType, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert _portal(toolbox, ca_bundle=str(bundle)).errors() == {}


def test_disabled_parameters_are_not_checked(toolbox: ModuleType) -> None:
    tool = _portal(toolbox, server_url="not a url", connection_type="ArcGIS Server (standalone)")
    assert not tool["server_url"].enabled
    assert "server_url" not in tool.errors()


def test_token_file_folder_must_exist(toolbox: ModuleType, tmp_path: Path) -> None:
    tool = _portal(toolbox, token_file=str(tmp_path / "missing" / "token.json"))
    assert "folder not found" in tool.errors()["token_file"]


def test_errors_stop_the_tool_before_execute(toolbox: ModuleType, arcpy: ModuleType) -> None:
    tool = _portal(toolbox, url="http://gis.example.com/portal")
    with pytest.raises(arcpy.ExecuteError, match="must use https://"):
        tool.run()
    assert arcpy._double.STATE.messages == []


# -- Run with Credentials' own parameters ------------------------------------------------------


def _run_tool(toolbox: ModuleType, tmp_path: Path, **values: Any) -> ProTool:
    base: Dict[str, Any] = {"output_file": str(tmp_path / "out.json")}
    base.update(values)
    return _portal(toolbox, "RunWithCredentials", **base)


def test_script_target_checks(toolbox: ModuleType, tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text("def main(ctx):\n    return 1\n")
    tool = _run_tool(
        toolbox,
        tmp_path,
        script_file=str(script),
        function_name="not valid",
        script_arguments="[1, 2]",
    )
    errors = tool.errors()
    assert "not a Python function name" in errors["function_name"]
    assert "JSON object" in errors["script_arguments"]
    tool.set(function_name="main", script_arguments='{"a": ')
    assert "not valid JSON" in tool.errors()["script_arguments"]
    tool.set(script_arguments='{"a": 1}')
    assert tool.errors() == {}


def test_a_missing_script_is_an_error(toolbox: ModuleType, tmp_path: Path) -> None:
    tool = _run_tool(toolbox, tmp_path, script_file=str(tmp_path / "gone.py"))
    assert "script_file" in tool.errors()


def test_rest_target_checks(toolbox: ModuleType, tmp_path: Path) -> None:
    tool = _run_tool(
        toolbox,
        tmp_path,
        target_type="REST request",
        request_url="http://gis.example.com/server/rest/services",
        request_parameters="not json",
    )
    errors = tool.errors()
    assert "must use https://" in errors["request_url"]
    assert "not valid JSON" in errors["request_parameters"]
    tool.set(request_url=None, request_parameters=None)
    assert "is required" in tool.errors()["request_url"]


def test_job_target_checks(toolbox: ModuleType, tmp_path: Path) -> None:
    tool = _run_tool(
        toolbox,
        tmp_path,
        target_type="Geoprocessing service job",
        task_url="https://gis.example.com/server/rest/services/T/GPServer/Run",
        time_limit=-5,
        poll_interval=0,
    )
    errors = tool.errors()
    assert "above 0" in errors["time_limit"]
    assert "poll_interval" in errors


def test_the_output_file_is_required_when_running(toolbox: ModuleType, arcpy: ModuleType) -> None:
    tool = _portal(toolbox, "RunWithCredentials")
    assert "output_file" not in tool.errors()
    with pytest.raises(arcpy.ExecuteError, match="Value is required"):
        tool.run()
