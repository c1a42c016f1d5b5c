"""``python -m xpnet bench ...``: the same as the ``xpnet`` console script."""

from .cli import main

raise SystemExit(main())
