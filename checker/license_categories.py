"""ScanCode LicenseDB's license categories, from the index license-expression ships.

Why categories: an allow list names the licenses a reviewer has read; it
cannot name the hundreds of vendor and source-available licenses nobody has
read yet. ScanCode LicenseDB files each of its ~2,600 licenses under one
category (Permissive, Copyleft, Copyleft Limited, Commercial, Proprietary
Free, Source-available, Public Domain, ...), and license-expression already
ships that index (``license_expression/data/scancode-licensedb-index.json``),
so ``policy/licenses.yaml`` can deny "every Commercial license not otherwise
listed" without a download.

The index is about 1 MB of JSON. It is read on first use only, once per
process, and only when the policy names a category: a policy without
categories never pays for it (the start-up of ``rune-policy check`` is
measured by ``tests/cli/test_startup.py``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson


class CategoryIndexError(ValueError):
    """The category index cannot be read; the policy loader reports it as a problem."""


def slug(name: str) -> str:
    """How policy text and the index's names are compared: "copyleft-limited" is
    "Copyleft Limited", whatever the case or separator."""
    return "-".join(name.replace("_", " ").replace("-", " ").split()).casefold()


@dataclass(frozen=True, slots=True)
class CategoryIndex:
    """License id (casefolded) -> category, as ScanCode LicenseDB files it."""

    path: str
    by_key: dict[str, str]
    #: Category -> the SPDX (or ``LicenseRef-scancode-``) ids of its licenses,
    #: exceptions left out, sorted; what the documentation counts.
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """The category names, as the index spells them, sorted."""
        return tuple(sorted(self.members))

    def category(self, key: str) -> str | None:
        """The category of a license or exception id, or None when the index lacks it."""
        return self.by_key.get(key.casefold())

    def canonical(self, name: str) -> str | None:
        """The index's spelling of a category name written in a policy, or None."""
        wanted = slug(name)
        for known in self.members:
            if slug(known) == wanted:
                return known
        return None


def default_index_path() -> Path:
    """Where the installed license-expression keeps the LicenseDB index."""
    import license_expression

    return Path(license_expression.vendored_scancode_licensedb_index_location)


@functools.cache
def load_index(path: Path | None = None) -> CategoryIndex:
    """The index at ``path`` (default: license-expression's), read once per process.

    Raises :class:`CategoryIndexError` with the file and what is wrong when
    the file is missing or not the index.
    """
    where = path if path is not None else default_index_path()
    try:
        data: Any = orjson.loads(where.read_bytes())
    except OSError as exc:
        raise CategoryIndexError(
            f"cannot read the license category index {where}: {exc.strerror or exc}"
        ) from exc
    except orjson.JSONDecodeError as exc:
        raise CategoryIndexError(f"{where} is not valid JSON: {exc}") from exc
    if not isinstance(data, list):
        raise CategoryIndexError(f"{where} is not a ScanCode LicenseDB index (expected a list)")
    by_key: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for entry in data:
        if not isinstance(entry, dict):
            continue
        category = entry.get("category")
        license_key = entry.get("license_key")
        if not isinstance(category, str) or not isinstance(license_key, str):
            continue
        spdx = entry.get("spdx_license_key")
        others = entry.get("other_spdx_license_keys")
        keys = [spdx] if isinstance(spdx, str) and spdx else []
        keys += [k for k in (others if isinstance(others, list) else []) if isinstance(k, str)]
        keys.append(f"LicenseRef-scancode-{license_key}")
        for key in keys:
            by_key.setdefault(key.casefold(), category)
        if entry.get("is_exception") is not True:
            members.setdefault(category, []).append(keys[0])
    if not by_key:
        raise CategoryIndexError(f"{where} holds no license entries with a category")
    return CategoryIndex(
        str(where), by_key, {name: tuple(sorted(ids)) for name, ids in members.items()}
    )
