"""Where everything the :class:`~arctoken_emulator.Emulator` runs can be reached."""

from __future__ import annotations

from .identity import ORG_ID


class EmulatorUrls:
    """The URL properties of a running emulator (each origin's root comes from ``_root``)."""

    def _root(self, origin: str) -> str:
        raise NotImplementedError

    @property
    def online_url(self) -> str:
        """The Online-style portal, at the origin root (``/sharing/rest/...``)."""
        return self._root("online")

    @property
    def portal_url(self) -> str:
        """The Enterprise portal, behind the web adaptor path ``/portal``."""
        return self._root("portal") + "/portal"

    @property
    def server_url(self) -> str:
        """The standalone ArcGIS Server (``.../arcgis``)."""
        return self._root("server") + "/arcgis"

    @property
    def federated_server_url(self) -> str:
        """The ArcGIS Server federated with :attr:`portal_url`."""
        return self._root("federated") + "/arcgis"

    @property
    def foreign_server_url(self) -> str:
        """A server whose owningSystemUrl only looks like :attr:`portal_url`."""
        return self._root("foreign") + "/arcgis"

    @property
    def service_url(self) -> str:
        """A secured map service on the standalone server."""
        return f"{self.server_url}/rest/services/Secure/MapServer"

    @property
    def restricted_service_url(self) -> str:
        """A service only ``restricted_users`` may use (403 for everyone else)."""
        return f"{self.server_url}/rest/services/Restricted/MapServer"

    @property
    def federated_service_url(self) -> str:
        """A secured map service on the federated server (takes portal tokens, exchanged
        server tokens and OAuth access tokens from the portal)."""
        return f"{self.federated_server_url}/rest/services/Secure/MapServer"

    @property
    def online_service_url(self) -> str:
        """A hosted feature service taking Online tokens, app tokens and API keys."""
        return f"{self.online_url}/rest/services/Hosted/FeatureServer"

    @property
    def gp_task_url(self) -> str:
        """The asynchronous GP task on the standalone server."""
        return f"{self.server_url}/rest/services/LongJob/GPServer/Run"

    @property
    def federated_gp_task_url(self) -> str:
        """The asynchronous GP task on the federated server."""
        return f"{self.federated_server_url}/rest/services/LongJob/GPServer/Run"

    @property
    def hosted_server_url(self) -> str:
        """The Online hosting server, shaped like ``services1.arcgis.com/<orgId>/arcgis``: its
        ``rest/info`` names the Online portal (over http, as the real one does) as owner."""
        return f"{self._root('hosted')}/{ORG_ID}/arcgis"

    @property
    def hosted_service_url(self) -> str:
        """A hosted feature service on :attr:`hosted_server_url` (Online tokens, API keys)."""
        return f"{self.hosted_server_url}/rest/services/Hosted/FeatureServer"

    @property
    def pki_portal_url(self) -> str:
        """The web-tier PKI portal (only with ``client_ca``): TLS demands a client
        certificate, whose common name is the signed-in user."""
        return self._root("pki") + "/portal"
