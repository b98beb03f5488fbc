"""``python -m arctoken_core`` is the ``arctoken`` command."""

from .cli import main

raise SystemExit(main())
