"""The ``arctoken`` command line: ``token``, ``emulator`` and ``demo``."""

from .main import main

__all__ = ["main"]
