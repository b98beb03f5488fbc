"""Secured map and feature services: ``<root>/rest/services/<Name>/<Type>[/0[/query]]``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from . import envelopes as env
from .access import Gate
from .features import SPATIAL_REFERENCE, layer_json, query
from .params import merged, segments_after
from .records import RequestRecord, Response, json_reply
from .state import TokenRecord

SERVER_VERSION = 10.91
"""The ArcGIS Server version the emulated servers report."""


@dataclass(frozen=True)
class ServiceSpec:
    """One emulated service."""

    name: str
    type: str
    description: str
    restricted: bool = False


SERVER_SERVICES = (
    ServiceSpec("Secure", "MapServer", "Secure test service"),
    ServiceSpec("Restricted", "MapServer", "Restricted test service", restricted=True),
)
"""The services every emulated ArcGIS Server publishes (beside the LongJob GP service)."""
HOSTED_SERVICES = (ServiceSpec("Hosted", "FeatureServer", "Hosted test service"),)
"""The Online-style origin's hosted feature service."""
GP_SERVICE = {"name": "LongJob", "type": "GPServer"}
"""The services-directory entry of the LongJob GP service."""


class Services:
    """The services directory of one origin, each service behind the origin's token gate."""

    def __init__(
        self, gate: Gate, prefix: Sequence[str], specs: Sequence[ServiceSpec], with_gp: bool
    ) -> None:
        self.gate = gate
        self.prefix = [*prefix, "rest", "services"]
        self.specs = {(s.name.lower(), s.type.lower()): s for s in specs}
        self.with_gp = with_gp

    def handle(self, req: RequestRecord) -> Optional[Response]:
        """The reply for a services-directory path, or None when it names nothing here."""
        rest = segments_after(req.path, self.prefix)
        if rest is None:
            return None
        if not rest:
            return self._catalog()
        if len(rest) < 2:
            return None
        spec = self.specs.get((rest[0].lower(), rest[1].lower()))
        if spec is None or len(rest) > 4:
            return None
        verdict = self.gate.require(req)
        if isinstance(verdict, Response):
            return verdict
        if spec.restricted and verdict.username not in self.gate.state.settings.restricted_users:
            return env.forbidden()
        return _resource(spec, [s.lower() for s in rest[2:]], verdict, req)

    def _catalog(self) -> Response:
        services: List[Dict[str, str]] = [
            {"name": s.name, "type": s.type} for s in self.specs.values()
        ]
        if self.with_gp:
            services.append(dict(GP_SERVICE))
        return json_reply({"currentVersion": SERVER_VERSION, "folders": [], "services": services})


def _resource(
    spec: ServiceSpec, sub: List[str], who: TokenRecord, req: RequestRecord
) -> Optional[Response]:
    if not sub:
        return json_reply(_service_json(spec, who))
    if sub == ["0"]:
        return json_reply(layer_json())
    if sub == ["0", "query"]:
        return query(merged(req))
    return None


def _service_json(spec: ServiceSpec, who: TokenRecord) -> Dict[str, object]:
    """A MapServer or FeatureServer root resource (plus ``user``, an emulator addition
    naming who the token belongs to)."""
    return {
        "currentVersion": SERVER_VERSION,
        "serviceDescription": spec.description,
        "capabilities": "Map,Query,Data" if spec.type == "MapServer" else "Query",
        "maxRecordCount": 1000,
        "supportedQueryFormats": "JSON",
        "layers": [
            {
                "id": 0,
                "name": "Points",
                "parentLayerId": -1,
                "defaultVisibility": True,
                "subLayerIds": None,
                "geometryType": "esriGeometryPoint",
            }
        ],
        "tables": [],
        "spatialReference": SPATIAL_REFERENCE,
        "user": who.username,
    }
