"""``python -m arctoken_core`` is the ``arctoken`` command."""

from .cli.main import main

raise SystemExit(main())
