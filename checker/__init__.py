"""rune-policy: a supply-chain gate for the RUNE platform's PostgreSQL stack.

The library API lives in :mod:`checker.gate`; the CLI in :mod:`checker.cli` only
parses arguments and maps results to exit codes.
"""

__version__ = "0.1.0"
