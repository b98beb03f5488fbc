"""A loopback ArcGIS for tests, benchmarks, demos and offline rehearsal.

:class:`Emulator` runs an ArcGIS Online-style portal, an Enterprise portal, a standalone
ArcGIS Server, a federated server and a look-alike "foreign" server on 127.0.0.1, each
answering token requests, secured services and asynchronous GP jobs the way the real
services do (see the project's notes on ArcGIS REST behaviour), with injectable faults.
"""

from __future__ import annotations

from .core import Emulator
from .records import RequestRecord

__all__ = ["Emulator", "RequestRecord"]
