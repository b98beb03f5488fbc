"""One point layer and its ``query`` operation, shaped like ArcGIS Server's layer resources:
``fields`` and ``objectIdField`` on the layer; ``where``, ``objectIds``, ``outFields``,
``returnGeometry``, ``returnCountOnly``, ``returnIdsOnly`` and paging on ``query``."""

from __future__ import annotations

import operator
import re
from typing import Any, Callable, Dict, List, Optional

from . import envelopes as env
from .records import Response, json_reply

OID = "OBJECTID"
"""The layer's object id field."""
SPATIAL_REFERENCE = {"wkid": 4326, "latestWkid": 4326}
"""The layer's coordinate system (WGS 84)."""
MAX_RECORDS = 1000
"""``maxRecordCount``: the most features one query returns."""

FIELDS: List[Dict[str, Any]] = [
    {"name": OID, "type": "esriFieldTypeOID", "alias": OID, "nullable": False, "editable": False},
    {"name": "NAME", "type": "esriFieldTypeString", "alias": "Name", "length": 64},
    {"name": "VISITS", "type": "esriFieldTypeInteger", "alias": "Visits"},
]
"""The layer's fields, as its resource lists them."""
FEATURES: List[Dict[str, Any]] = [
    {"attributes": {OID: 1, "NAME": "Bern", "VISITS": 12}, "geometry": {"x": 7.44, "y": 46.95}},
    {
        "attributes": {OID: 2, "NAME": "Redlands", "VISITS": 30},
        "geometry": {"x": -117.19, "y": 34.06},
    },
]
"""The layer's features."""

_COMPARE: Dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_CLAUSE = re.compile(r"^\s*(\w+)\s*(<>|>=|<=|=|>|<)\s*('(?:[^']*)'|-?\d+(?:\.\d+)?)\s*$")
_TRUE = re.compile(r"^\s*(1\s*=\s*1)?\s*$")


def layer_json(name: str = "Points") -> Dict[str, object]:
    """The layer resource ``.../<Service>/0``."""
    return {
        "id": 0,
        "name": name,
        "type": "Feature Layer",
        "geometryType": "esriGeometryPoint",
        "objectIdField": OID,
        "displayField": "NAME",
        "fields": FIELDS,
        "extent": {
            "xmin": -117.19,
            "ymin": 34.06,
            "xmax": 7.44,
            "ymax": 46.95,
            "spatialReference": SPATIAL_REFERENCE,
        },
        "capabilities": "Query",
        "maxRecordCount": MAX_RECORDS,
        "supportedQueryFormats": "JSON",
        "advancedQueryCapabilities": {"supportsPagination": True, "supportsOrderBy": False},
        "hasAttachments": False,
    }


def query(params: Dict[str, str]) -> Response:
    """Answer ``.../0/query`` with features, a count or object ids."""
    matched = _select(params)
    if isinstance(matched, Response):
        return matched
    if _flag(params, "returnCountOnly"):
        return json_reply({"count": len(matched)})
    if _flag(params, "returnIdsOnly"):
        ids = [f["attributes"][OID] for f in matched]
        return json_reply({"objectIdFieldName": OID, "objectIds": ids})
    return json_reply(_feature_set(_page(matched, params), params))


def _select(params: Dict[str, str]) -> Any:
    where = params.get("where", "")
    test = _where(where)
    if test is None:
        return env.error(400, "Unable to complete operation.", ["'where' parameter is invalid"])
    wanted = _ids(params.get("objectIds", ""))
    if wanted is False:
        return env.error(400, "Unable to complete operation.", ["'objectIds' parameter is invalid"])
    return [
        f
        for f in FEATURES
        if test(f["attributes"]) and (not wanted or f["attributes"][OID] in wanted)
    ]


def _where(where: str) -> Optional[Callable[[Dict[str, Any]], bool]]:
    if _TRUE.match(where):
        return lambda attributes: True
    found = _CLAUSE.match(where)
    if found is None:
        return None
    field, op, raw = found.groups()
    names = {str(f["name"]).lower(): str(f["name"]) for f in FIELDS}
    if field.lower() not in names:
        return None
    value: Any = raw[1:-1] if raw.startswith("'") else float(raw)
    compare, key = _COMPARE[op], names[field.lower()]
    return lambda attributes: _safe(compare, attributes[key], value)


def _safe(compare: Callable[[Any, Any], bool], left: Any, right: Any) -> bool:
    try:
        return compare(left, right)
    except TypeError:
        return False


def _ids(raw: str) -> Any:
    if not raw.strip():
        return set()
    try:
        return {int(part) for part in raw.split(",") if part.strip()}
    except ValueError:
        return False


def _flag(params: Dict[str, str], name: str) -> bool:
    return params.get(name, "").strip().lower() == "true"


def _page(matched: List[Dict[str, Any]], params: Dict[str, str]) -> List[Dict[str, Any]]:
    offset = _int(params.get("resultOffset"), 0)
    count = min(_int(params.get("resultRecordCount"), MAX_RECORDS), MAX_RECORDS)
    return matched[offset : offset + count]


def _int(raw: Optional[str], default: int) -> int:
    try:
        return max(0, int(raw)) if raw else default
    except ValueError:
        return default


def _feature_set(features: List[Dict[str, Any]], params: Dict[str, str]) -> Dict[str, object]:
    out_fields = params.get("outFields", "").strip()
    keep = None if out_fields in ("", "*") else {n.strip().upper() for n in out_fields.split(",")}
    keep_geometry = params.get("returnGeometry", "true").strip().lower() != "false"
    fields = [f for f in FIELDS if keep is None or str(f["name"]).upper() in keep]
    rows = []
    for feature in features:
        attributes = {k: v for k, v in feature["attributes"].items() if keep is None or k in keep}
        row: Dict[str, object] = {"attributes": attributes}
        if keep_geometry:
            row["geometry"] = dict(feature["geometry"])
        rows.append(row)
    body: Dict[str, object] = {
        "objectIdFieldName": OID,
        "globalIdFieldName": "",
        "geometryType": "esriGeometryPoint",
        "spatialReference": SPATIAL_REFERENCE,
        "fields": fields,
        "features": rows,
    }
    if len(features) >= MAX_RECORDS:
        body["exceededTransferLimit"] = True
    return body
