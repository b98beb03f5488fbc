"""What a portal says about itself and its users: ``portals/self``, ``community/self``,
``community/users/<name>``, with the fields real portals send (names and types as in
Esri's REST API reference and its clients)."""

from __future__ import annotations

import hashlib
from typing import Dict, List, Optional
from urllib.parse import urlsplit

ORG_ID = "0123456789ABCDEF"
"""The emulated organisation's id (real ids are 16 characters)."""
URL_KEY = "emulated"
"""The Online organisation's short name (``<urlKey>.maps.arcgis.com`` on the real site)."""
CREATED_MS = 1_500_000_000_000
"""When the organisation and its users were created (epoch milliseconds)."""
ADMINS = frozenset({"admin"})
"""Usernames that are organisation administrators."""

_USER_PRIVILEGES = [
    "features:user:edit",
    "portal:user:createGroup",
    "portal:user:createItem",
    "portal:user:joinGroup",
    "portal:user:shareToGroup",
    "portal:user:viewOrgGroups",
    "portal:user:viewOrgItems",
    "portal:user:viewOrgUsers",
]
_ADMIN_PRIVILEGES = ["portal:admin:viewUsers", "portal:admin:updateUsers", *_USER_PRIVILEGES]


def user_json(username: str, online: bool, with_groups: bool = False) -> Dict[str, object]:
    """A user as ``community/users/<name>`` (and, with groups, ``community/self``) shows it."""
    admin = username in ADMINS
    first, _, last = username.replace("_", " ").title().partition(" ")
    body: Dict[str, object] = {
        "username": username,
        "id": hashlib.sha256(username.encode("utf-8")).hexdigest()[:32],
        "fullName": f"{first} {last or 'User'}",
        "firstName": first,
        "lastName": last or "User",
        "email": f"{username}@example.invalid",
        "description": None,
        "tags": [],
        "culture": "en",
        "region": "US" if online else None,
        "units": "metric",
        "thumbnail": None,
        "access": "org",
        "orgId": ORG_ID,
        "role": "org_admin" if admin else "org_publisher",
        "roleId": "org_admin" if admin else "org_publisher",
        "privileges": _ADMIN_PRIVILEGES if admin else _USER_PRIVILEGES,
        "level": "2",
        "userLicenseTypeId": "creatorUT",
        "userType": "both" if online else "arcgisonly",
        "disabled": False,
        "provider": "arcgis",
        "idpUsername": None,
        "mfaEnabled": False,
        "storageUsage": 0,
        "storageQuota": 2199023255552,
        "created": CREATED_MS,
        "modified": CREATED_MS,
        "lastLogin": -1,
    }
    if with_groups:
        body["groups"] = []
    return body


def portal_self(
    base_url: str,
    online: bool,
    https: bool,
    version: str,
    helper_server: Optional[str],
    username: Optional[str],
) -> Dict[str, object]:
    """``portals/self``: the organisation, how it is reached, and the signed-in user if any."""
    host = urlsplit(base_url)
    hostname = f"{host.netloc}{host.path}"
    body: Dict[str, object] = {
        "access": "private",
        "allSSL": https,
        "authorizedCrossOriginDomains": [],
        "created": CREATED_MS,
        "modified": CREATED_MS,
        "culture": "en",
        "currentVersion": version,
        "defaultExtent": _DEFAULT_EXTENT,
        "description": None,
        "helperServices": _helpers(helper_server),
        "httpPort": 80 if host.port is None else host.port,
        "httpsPort": 443 if host.port is None else host.port,
        "id": ORG_ID,
        "isPortal": not online,
        "name": "Emulated Organization" if online else "Emulated Enterprise",
        "portalHostname": hostname,
        "portalMode": "multitenant" if online else "singletenant",
        "portalName": "ArcGIS Online" if online else "Portal for ArcGIS",
        "portalProperties": {"links": {}, "sharedTheme": {}},
        "supportsHostedServices": True,
        "supportsOAuth": True,
        "units": "metric",
    }
    if online:
        body.update(urlKey=URL_KEY, customBaseUrl="maps.arcgis.com", platform="AGOL")
    if username is not None:
        body["user"] = user_json(username, online)
    return body


def _helpers(server: Optional[str]) -> Dict[str, object]:
    if server is None:
        return {}
    services = f"{server}/rest/services"
    geocode: List[Dict[str, object]] = []
    return {
        "geometry": {"url": f"{services}/Utilities/Geometry/GeometryServer"},
        "printTask": {
            "url": f"{services}/Utilities/PrintingTools/GPServer/Export%20Web%20Map%20Task"
        },
        "geocode": geocode,
    }


_DEFAULT_EXTENT = {
    "type": "extent",
    "xmin": -17999999.999994,
    "ymin": -11999999.999996,
    "xmax": 17999999.999994,
    "ymax": 15999999.999997,
    "spatialReference": {"wkid": 102100},
}
