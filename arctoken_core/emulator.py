"""Compatibility name: the emulator lives in its own package, :mod:`arctoken_emulator`.

It imports nothing from the client, so that tests of the client do not depend on the code
they test. ``from arctoken_core.emulator import Emulator`` keeps working.
"""

from arctoken_emulator import Emulator, RequestRecord

__all__ = ["Emulator", "RequestRecord"]
