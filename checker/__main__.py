"""Allow ``python -m checker`` as an alias of the ``rune-policy`` console script."""

from checker.cli import main

raise SystemExit(main())
