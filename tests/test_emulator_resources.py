"""The emulator's resources have the shape real ArcGIS gives them (real sockets):
portals/self and users, layers and query, the admin root and GP metadata."""

from __future__ import annotations

from typing import Any, Dict, Iterator, Optional

import pytest
import requests

from arctoken_emulator import Emulator

PASSWORD = "wonderland"
Json = Dict[str, Any]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    """One emulator for the module: these tests only read."""
    with Emulator(users={"alice": PASSWORD, "admin": "adminpass"}) as running:
        yield running


def portal_token(base: str, username: str = "alice", password: str = PASSWORD) -> str:
    """A token from a portal's generateToken."""
    data = {"username": username, "password": password, "f": "json"}
    reply = requests.post(f"{base}/sharing/rest/generateToken", data=data, timeout=10)
    return str(reply.json()["token"])


def get(url: str, token: Optional[str] = None, **params: str) -> Json:
    """GET with f=json and the token in the X-Esri-Authorization header."""
    headers = {"X-Esri-Authorization": f"Bearer {token}"} if token else {}
    reply = requests.get(url, params={"f": "json", **params}, headers=headers, timeout=10)
    body: Json = reply.json()
    return body


def test_enterprise_portal_self_has_the_fields_clients_read(emu: Emulator) -> None:
    url = f"{emu.portal_url}/sharing/rest/portals/self"
    anonymous = get(url)
    assert anonymous["portalName"] == "Portal for ArcGIS"
    assert anonymous["isPortal"] is True and anonymous["portalMode"] == "singletenant"
    assert anonymous["portalHostname"] == emu.portal_url.split("://")[1]
    assert len(anonymous["id"]) == 16 and anonymous["supportsOAuth"] is True
    assert anonymous["helperServices"]["geometry"]["url"].startswith(emu.federated_server_url)
    assert "user" not in anonymous and "urlKey" not in anonymous
    signed_in = get(url, portal_token(emu.portal_url))
    assert signed_in["user"]["username"] == "alice"
    assert signed_in["user"]["orgId"] == signed_in["id"]


def test_online_portal_self_names_the_org(emu: Emulator) -> None:
    body = get(f"{emu.online_url}/sharing/rest/portals/self", portal_token(emu.online_url))
    assert body["portalName"] == "ArcGIS Online" and body["isPortal"] is False
    assert body["portalMode"] == "multitenant"
    assert body["urlKey"] and body["customBaseUrl"] == "maps.arcgis.com"


def test_community_self_and_users_have_real_user_fields(emu: Emulator) -> None:
    token = portal_token(emu.portal_url)
    me = get(f"{emu.portal_url}/sharing/rest/community/self", token)
    for field in ("username", "fullName", "firstName", "lastName", "email", "orgId", "role"):
        assert field in me, field
    assert me["userLicenseTypeId"] == "creatorUT" and me["groups"] == []
    assert isinstance(me["privileges"], list) and isinstance(me["created"], int)
    other = get(f"{emu.portal_url}/sharing/rest/community/users/admin", token)
    assert other["role"] == "org_admin" and "groups" not in other


def test_layer_lists_fields_and_object_id_field(emu: Emulator) -> None:
    token = portal_token(emu.portal_url)
    layer = get(f"{emu.federated_service_url}/0", token)
    assert layer["objectIdField"] == "OBJECTID"
    names = [field["name"] for field in layer["fields"]]
    assert names[0] == "OBJECTID" and layer["fields"][0]["type"] == "esriFieldTypeOID"
    assert layer["geometryType"] == "esriGeometryPoint" and layer["maxRecordCount"] > 0


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"where": "1=1", "returnCountOnly": "true"}, {"count": 2}),
        ({"where": "VISITS > 20", "returnCountOnly": "true"}, {"count": 1}),
        (
            {"where": "NAME = 'Bern'", "returnIdsOnly": "true"},
            {"objectIdFieldName": "OBJECTID", "objectIds": [1]},
        ),
        (
            {"objectIds": "2", "returnIdsOnly": "true"},
            {"objectIdFieldName": "OBJECTID", "objectIds": [2]},
        ),
    ],
)
def test_query_counts_and_ids(emu: Emulator, params: Dict[str, str], expected: Json) -> None:
    token = portal_token(emu.portal_url)
    assert get(f"{emu.federated_service_url}/0/query", token, **params) == expected


def test_query_fields_geometry_and_paging(emu: Emulator) -> None:
    token = portal_token(emu.portal_url)
    url = f"{emu.federated_service_url}/0/query"
    body = get(url, token, where="1=1", outFields="NAME", returnGeometry="false")
    assert body["objectIdFieldName"] == "OBJECTID"
    assert [f["attributes"] for f in body["features"]] == [{"NAME": "Bern"}, {"NAME": "Redlands"}]
    assert all("geometry" not in f for f in body["features"])
    page = get(url, token, where="1=1", outFields="*", resultOffset="1", resultRecordCount="5")
    assert [f["attributes"]["OBJECTID"] for f in page["features"]] == [2]
    assert "geometry" in page["features"][0]


def test_query_with_a_bad_where_is_a_400(emu: Emulator) -> None:
    token = portal_token(emu.portal_url)
    body = get(f"{emu.federated_service_url}/0/query", token, where="NOPE = 1")
    assert body["error"]["code"] == 400


def test_admin_root_is_for_administrators(emu: Emulator) -> None:
    url = f"{emu.federated_server_url}/admin"
    assert get(url)["code"] == 499 and get(url)["status"] == "error"
    assert get(url, portal_token(emu.portal_url))["code"] == 403
    admin = get(url, portal_token(emu.portal_url, "admin", "adminpass"))
    assert "services" in admin["resources"] and admin["currentVersion"] > 10


def test_gp_metadata_describes_parameters(emu: Emulator) -> None:
    token = portal_token(emu.portal_url)
    service = get(f"{emu.federated_server_url}/rest/services/LongJob/GPServer", token)
    assert service["tasks"] == ["Run"]
    assert service["executionType"] == "esriExecutionTypeAsynchronous"
    task = get(emu.federated_gp_task_url, token)
    by_name = {p["name"]: p for p in task["parameters"]}
    assert by_name["duration"]["defaultValue"] == 30.0
    assert by_name["duration"]["parameterType"] == "esriGPParameterTypeOptional"
    assert by_name["Output"]["direction"] == "esriGPParameterDirectionOutput"
    assert all({"displayName", "dataType", "defaultValue"} <= set(p) for p in by_name.values())
