"""Lockfile readers: requirements files, poetry.lock, uv.lock, Pipfile.lock,
pylock.toml and npm package-lock.json.

A lockfile is recognised by its file name (:func:`detect`, from the
registry in :mod:`checker.readers`), never by content: ``poetry.lock`` and
``uv.lock`` are both TOML, and a requirements file is plain text. Every
reader turns one file into a :class:`~checker.model.ReadResult` of
:class:`~checker.model.Component` objects with purls built the way the SBOM
readers build them (PEP 503 names for PyPI, ``@scope`` as namespace for
npm), origins at ``line N`` (text and TOML) or a JSON path, and scopes where
the file records them. Only npm lockfiles carry licenses; for the Python
formats the license comes from an SBOM, installed metadata or the policy's
decision table.

Whatever the bytes, a reader returns a result or raises
:class:`~checker.errors.InputError` naming the file and place.
"""

from __future__ import annotations

from pathlib import Path

from checker import readers
from checker.inputs import DEFAULT_MAX_BYTES
from checker.model import ReadResult
from checker.readers import Family, Source
from checker.scope import Scope

__all__ = ["FORMATS", "detect", "read_lockfile"]

#: Format names, as :func:`detect` returns them.
FORMATS = readers.family_formats(Family.LOCKFILE)


def detect(path: Path) -> str | None:
    """The lockfile format a file's name says it is, or None.

    Requirements files are ``requirements*.txt`` and ``*requirements*.txt``
    (and ``requirements*.lock``, what ``uv pip compile -o`` is often told to write),
    ``constraints*.txt``, and any ``.txt`` or ``.in`` file in a folder named
    ``requirements`` (the pip-tools layout: ``requirements/main.in`` and
    ``requirements/main.txt``).
    """
    fmt = readers.detect(path)
    return fmt.name if fmt is not None and fmt.family is Family.LOCKFILE else None


def read_lockfile(
    fmt: str,
    path: Path,
    data: bytes,
    max_bytes: int = DEFAULT_MAX_BYTES,
    scope: Scope | None = None,
) -> ReadResult:
    """Read ``data`` (the bytes of ``path``) as lockfile format ``fmt``.

    ``path`` names the file in every origin and message; requirements files
    also resolve their ``-r``/``-c`` includes relative to it, reading them
    with the same ``max_bytes`` limit and only inside ``scope`` (default: the
    file's folder).
    """
    record = readers.by_name(fmt)
    if record is None or record.family is not Family.LOCKFILE:
        raise ValueError(f"unknown lockfile format {fmt!r} (known: {', '.join(FORMATS)})")
    return record.read(Source(path, str(path), data, max_bytes, scope))
