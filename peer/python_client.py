"""Peer conformance: Esri's ArcGIS API for Python (unpatched) against an ArcGIS.

Started by ``peer/run.py`` inside the side environment that has ``arcgis``; where everything
is comes in ``PEER_*`` environment variables (passwords too, so they never show in a process
list), the test CA in ``SSL_CERT_FILE``/``REQUESTS_CA_BUNDLE``. Prints ``PASS name (detail)``
or ``FAIL name: reason`` per check. Nothing here works around a server's quirks.
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any, Callable, Dict, Optional

warnings.filterwarnings("ignore")

ENV = os.environ
STATE: Dict[str, Any] = {}
TERMINAL = ("esriJobSucceeded", "esriJobFailed", "esriJobCancelled", "esriJobTimedOut")


def check(name: str, needs: Optional[str] = None) -> Callable[[Callable[[], str]], None]:
    """Run the decorated check now and print its PASS or FAIL line."""

    def run(fn: Callable[[], str]) -> None:
        if needs is not None and needs not in STATE:
            print(f"FAIL {name}: not run, needs {needs}", flush=True)
            return
        try:
            detail = fn()
        except Exception as exc:  # noqa: BLE001 - a peer check reports every failure
            reason = f"{type(exc).__name__}: {exc}".replace("\n", " ")
            print(f"FAIL {name}: {reason[:300]}", flush=True)
            return
        print(f"PASS {name}" + (f" ({detail})" if detail else ""), flush=True)

    return run


def main() -> None:
    """Every check, in order; later ones use the sign-ins of earlier ones."""
    import arcgis

    print(f"# arcgis {arcgis.__version__}", flush=True)
    portal_checks()
    online_checks()
    federated_checks()
    server_and_app_checks()


def portal_checks() -> None:
    """Both ways of signing in to the Enterprise portal, and what the client reads there."""
    from arcgis.gis import GIS

    user, password = ENV["PEER_USER"], ENV["PEER_PASSWORD"]

    @check("portal_signin_builtin")
    def _() -> str:
        gis = GIS(ENV["PEER_PORTAL"], user, password)  # OAuth implicit grant, 'pythonapi'
        assert gis.users.me.username == user, f"users.me is {gis.users.me!r}"
        STATE["gis"] = gis
        return type(gis._con._session.auth).__name__

    @check("portal_signin_generatetoken")
    def _() -> str:
        gis = GIS(ENV["PEER_PORTAL"], user, password, use_gen_token=True)
        assert gis.users.me.username == user, f"users.me is {gis.users.me!r}"
        return type(gis._con._session.auth).__name__

    @check("portal_properties", needs="gis")
    def _() -> str:
        props = STATE["gis"].properties
        wanted = ("id", "portalName", "portalMode", "isPortal", "user", "helperServices")
        missing = [key for key in wanted if key not in props]
        assert not missing, f"portals/self lacks {missing}"
        return f"isPortal={props['isPortal']}"

    @check("portal_oauth_client_id_and_password")
    def _() -> str:
        gis = GIS(ENV["PEER_PORTAL"], user, password, client_id=ENV["PEER_CLIENT_ID"])
        assert gis.users.me.username == user, f"users.me is {gis.users.me!r}"
        return type(gis._con._session.auth).__name__


def online_checks() -> None:
    """The Online-style portal and its hosting server."""
    from arcgis.features import FeatureLayer
    from arcgis.gis import GIS

    @check("online_signin_and_hosted_query")
    def _() -> str:
        gis = GIS(ENV["PEER_ONLINE"], ENV["PEER_USER"], ENV["PEER_PASSWORD"])
        assert gis.users.me.username == ENV["PEER_USER"], f"users.me is {gis.users.me!r}"
        url = f"{ENV['PEER_HOSTED']}/rest/services/Hosted/FeatureServer/0"
        count = FeatureLayer(url, gis).query(where="1=1", return_count_only=True)
        return f"count={count}"


def federated_checks() -> None:
    """A federated server's layer and GP task, with the portal sign-in."""
    from arcgis.features import FeatureLayer

    root = ENV["PEER_FEDERATED"]
    layer = f"{root}/rest/services/Secure/MapServer/0"
    task = f"{root}/rest/services/LongJob/GPServer/Run"

    @check("federated_layer_query", needs="gis")
    def _() -> str:
        features = FeatureLayer(layer, STATE["gis"]).query(where="1=1").features
        assert features, "no features"
        return f"{len(features)} features"

    @check("federated_layer_count_and_ids", needs="gis")
    def _() -> str:
        flayer = FeatureLayer(layer, STATE["gis"])
        count = flayer.query(where="1=1", return_count_only=True)
        ids = flayer.query(where="1=1", return_ids_only=True)
        assert isinstance(count, int) and len(ids["objectIds"]) == count, f"{count} {ids}"
        return f"count={count}"

    @check("federated_gp_job", needs="gis")
    def _() -> str:
        con = STATE["gis"]._con
        job = con.post(f"{task}/submitJob", {"f": "json", "duration": "2"})
        deadline = time.monotonic() + 60
        status = job.get("jobStatus")
        while status not in TERMINAL and time.monotonic() < deadline:
            time.sleep(0.5)
            status = con.get(f"{task}/jobs/{job['jobId']}", {"f": "json"}).get("jobStatus")
        assert status == "esriJobSucceeded", f"job {status}"
        result = con.get(f"{task}/jobs/{job['jobId']}/results/Output", {"f": "json"})
        assert "value" in result, f"result {str(result)[:150]}"
        return str(status)

    @check("federated_gp_import_toolbox", needs="gis")
    def _() -> str:
        import arcgis
        from arcgis.geoprocessing import import_toolbox

        arcgis.env.active_gis = STATE["gis"]  # tools run with the active GIS's sign-in
        toolbox = import_toolbox(task.rsplit("/", 1)[0], gis=STATE["gis"])
        output = toolbox.run(duration=1)
        return f"run() -> {str(output)[:60]!r}"


def server_and_app_checks() -> None:
    """A standalone server through the Server class, and app credentials."""
    from arcgis.features import FeatureLayer
    from arcgis.gis import GIS
    from arcgis.gis.server import Server

    @check("standalone_server_signin_and_query")
    def _() -> str:
        root = ENV["PEER_SERVER"]
        server = Server(
            url=f"{root}/admin",
            token_url=f"{root}/tokens/generateToken",
            username=ENV["PEER_ADMIN"],
            password=ENV["PEER_ADMIN_PASSWORD"],
        )
        assert "resources" in server.properties, f"admin root {dict(server.properties)}"
        layer = FeatureLayer(f"{root}/rest/services/Secure/MapServer/0", server)
        return f"{len(layer.query(where='1=1').features)} features"

    @check("app_client_credentials")
    def _() -> str:
        gis = GIS(
            ENV["PEER_PORTAL"],
            client_id=ENV["PEER_CLIENT_ID"],
            client_secret=ENV["PEER_CLIENT_SECRET"],
        )
        assert gis._con.token, "no token"
        return type(gis._con._session.auth).__name__


if __name__ == "__main__":
    main()
