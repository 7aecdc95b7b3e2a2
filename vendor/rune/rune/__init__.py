"""RUNE's job storage layer, its migrations, the ``rune db`` CLI and a small job API.

The package is vendored so that the documentation and the supply-chain gate describe code
that actually exists and is tested; see ``README.md`` next to ``pyproject.toml``.
"""

__version__ = "0.1.0"
