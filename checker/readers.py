"""The input formats the gate reads (placeholder until the reader registry lands)."""

from __future__ import annotations

#: Formats that name packages without saying their license (npm's lock does).
_LICENSELESS = frozenset({"requirements", "poetry-lock", "uv-lock", "pipfile-lock", "pylock"})


def carries_licenses(fmt: str) -> bool:
    """Whether inputs of format ``fmt`` state their components' licenses."""
    return fmt not in _LICENSELESS
