"""Lockfile readers: requirements files, poetry.lock, uv.lock, Pipfile.lock,
pylock.toml and npm package-lock.json.

A lockfile is recognised by its file name (:func:`detect`), never by content:
``poetry.lock`` and ``uv.lock`` are both TOML, and a requirements file is
plain text. Every reader turns one file into a
:class:`~checker.model.ReadResult` of :class:`~checker.model.Component`
objects with purls built the way the SBOM readers build them (PEP 503 names
for PyPI, ``@scope`` as namespace for npm), origins at ``line N`` (text and
TOML) or a JSON path, and scopes where the file records them. Only npm
lockfiles carry licenses; for the Python formats the license comes from an
SBOM, installed metadata or the policy's decision table.

Whatever the bytes, a reader returns a result or raises
:class:`~checker.errors.InputError` naming the file and place.
"""

from __future__ import annotations

import re
from pathlib import Path

from checker.inputs import DEFAULT_MAX_BYTES, gc_paused
from checker.lockfiles import npm, pipfile, poetry, pylock, requirements, uv
from checker.model import ReadResult
from checker.scope import Scope

__all__ = ["FORMATS", "detect", "read_lockfile"]

#: Format names, as :func:`detect` returns them.
FORMATS = (
    requirements.FORMAT,
    poetry.FORMAT,
    uv.FORMAT,
    pipfile.FORMAT,
    pylock.FORMAT,
    npm.FORMAT,
)

_EXACT = {
    "poetry.lock": poetry.FORMAT,
    "uv.lock": uv.FORMAT,
    "Pipfile.lock": pipfile.FORMAT,
    "pylock.toml": pylock.FORMAT,
    "package-lock.json": npm.FORMAT,
    "npm-shrinkwrap.json": npm.FORMAT,
}
#: PEP 751 names a lock for a named purpose ``pylock.<name>.toml``.
_PYLOCK_NAMED = re.compile(r"^pylock\.[^.]+\.toml$")


def detect(path: Path) -> str | None:
    """The lockfile format a file's name says it is, or None.

    Requirements files are ``requirements*.txt`` and ``*requirements*.txt``
    (and ``requirements*.lock``, what ``uv pip compile -o`` is often told to write),
    ``constraints*.txt``, and any ``.txt`` or ``.in`` file in a folder named
    ``requirements`` (the pip-tools layout: ``requirements/main.in`` and
    ``requirements/main.txt``).
    """
    name = path.name
    fmt = _EXACT.get(name)
    if fmt is not None:
        return fmt
    if _PYLOCK_NAMED.match(name):
        return pylock.FORMAT
    lower = name.lower()
    if lower.endswith((".txt", ".lock")) and (
        "requirements" in lower or lower.startswith("constraints")
    ):
        return requirements.FORMAT
    if lower.endswith((".txt", ".in")) and path.parent.name.lower() == "requirements":
        return requirements.FORMAT
    return None


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
    name = str(path)
    with gc_paused():
        if fmt == requirements.FORMAT:
            return requirements.read(path, data, max_bytes, scope)
        if fmt == poetry.FORMAT:
            return poetry.read(data, name)
        if fmt == uv.FORMAT:
            return uv.read(data, name)
        if fmt == pipfile.FORMAT:
            return pipfile.read(data, name)
        if fmt == pylock.FORMAT:
            return pylock.read(data, name)
        if fmt == npm.FORMAT:
            return npm.read(data, name)
    raise ValueError(f"unknown lockfile format {fmt!r} (known: {', '.join(FORMATS)})")
