"""``python -m rune.cli``: the ``rune`` command."""

import sys

from rune.cli import main

sys.exit(main())
