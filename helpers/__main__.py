"""``python -m helpers …``: the command-line face of the tutorial (see README)."""

from .cli import main

raise SystemExit(main())
