"""The kinds of connection and their shared constants: data only, imported at toolbox load.

Kept apart from :mod:`arctoken_core.fields` (which checks values and imports more) so that
ArcGIS Pro loading the toolbox pays for nothing but these names.
"""

from __future__ import annotations

KINDS = ("online", "portal", "server", "pro", "apikey", "app")
KIND_LABELS = {
    "online": "ArcGIS Online",
    "portal": "ArcGIS Enterprise portal",
    "server": "ArcGIS Server (standalone)",
    "pro": "ArcGIS Pro active portal",
    "apikey": "API key",
    "app": "App credentials",
}
PASSWORD_KINDS = ("online", "portal", "server")
FEDERATING_KINDS = ("online", "portal", "pro")
MIN_EXPIRATION, MAX_EXPIRATION = 1, 20160
"""Minutes; 20,160 (14 days) is the largest lifetime any ArcGIS token service grants."""
DEFAULT_EXPIRATION = 60
DEFAULT_REFERER = "arctokentools"
