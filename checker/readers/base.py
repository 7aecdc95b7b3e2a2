"""The shapes of the reader registry: a format record, its names, the input a reader reads.

The registry itself, one :class:`Format` per input format, is
:data:`checker.readers.FORMATS`.
"""

from __future__ import annotations

import fnmatch
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Protocol, cast

from checker.inputs import DEFAULT_MAX_BYTES, decode_text, load_json
from checker.model import ReadResult
from checker.scope import Scope

__all__ = ["Family", "Format", "Names", "Reader", "Source", "Syntax"]


class Family(StrEnum):
    SBOM = "sbom"
    LOCKFILE = "lockfile"
    ARTIFACT = "artifact"


class Syntax(StrEnum):
    """What a content-recognised file is written in, from its first byte."""

    JSON = "json"
    XML = "xml"
    TEXT = "text"


_UNPARSED: Any = object()


@dataclass(slots=True)
class Source:
    """One input to read: the file, its bytes, how to name it, what it may reach.

    ``name`` is how origins and messages name the file. ``scope`` is the
    folder the file's own references (``-r base.txt``, a chart's sibling
    ``Chart.lock``) may reach into; it defaults to the file's folder.
    The JSON document and the decoded text are made once, on first use, so
    recognising a format and reading it parse the bytes once.
    """

    path: Path
    name: str
    data: bytes
    max_bytes: int = DEFAULT_MAX_BYTES
    given_scope: Scope | None = None
    _document: Any = field(default=_UNPARSED, repr=False)
    _text: str | None = field(default=None, repr=False)

    @property
    def scope(self) -> Scope:
        if self.given_scope is None:
            self.given_scope = Scope.around(self.path)
        return self.given_scope

    def json(self) -> Any:
        """The parsed JSON document (an :class:`InputError` if it is not JSON)."""
        if self._document is _UNPARSED:
            self._document = load_json(self.data, self.name)
        return self._document

    def text(self) -> str:
        """The decoded text (an :class:`InputError` if it is not UTF-8 or BOM-marked)."""
        if self._text is None:
            self._text = decode_text(self.data, self.name)
        return self._text

    def release(self) -> None:
        """Forget the parsed document and the text (the reader is done with them)."""
        self._document = _UNPARSED
        self._text = None


class Reader(Protocol):
    """What a format module provides: one input in, the model out.

    Whatever the bytes, a reader returns a result or raises
    :class:`~checker.errors.InputError` naming the file and place.
    """

    def __call__(self, source: Source, /) -> ReadResult: ...


@dataclass(frozen=True, slots=True)
class Names:
    """The file names of a format.

    ``exact`` names are compared as written (Helm knows only ``Chart.yaml``);
    ``patterns`` are shell patterns on the lower-cased name, or on
    ``folder/name`` (both lower-cased) when they hold a ``/``; ``regex`` is
    matched against the name as written; ``unless`` patterns (lower-cased
    name) rule a name out.
    """

    exact: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    regex: str | None = None
    unless: tuple[str, ...] = ()
    _name: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _folder: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _unless: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        on_name = [p for p in self.patterns if "/" not in p]
        on_folder = [p for p in self.patterns if "/" in p]
        object.__setattr__(self, "_name", _globs(on_name))
        object.__setattr__(self, "_folder", _globs(on_folder))
        object.__setattr__(self, "_unless", _globs(list(self.unless)))

    def match(self, name: str, lower: str, folder: str) -> bool:
        """Whether a file ``name`` (``lower``-cased, in a folder named ``folder``) is one."""
        matched = (
            name in self.exact
            or (self._name is not None and self._name.match(lower) is not None)
            or (
                self._folder is not None
                and self._folder.match(f"{folder.lower()}/{lower}") is not None
            )
            or (self.regex is not None and re.match(self.regex, name) is not None)
        )
        return matched and not (self._unless is not None and self._unless.match(lower))


def _globs(patterns: list[str]) -> re.Pattern[str] | None:
    """One regex for several shell patterns (exactly what ``fnmatchcase`` matches)."""
    if not patterns:
        return None
    return re.compile("|".join(fnmatch.translate(p) for p in patterns))


@dataclass(frozen=True, slots=True)
class Format:
    """One input format, read by the functions of one module.

    The module is imported on first use and provides ``read_source(source)``
    (a :class:`Reader`); a content format's module also ``claims(source)``,
    whether an input of its ``syntax`` is one of its files, and a format
    with ``sniff`` set ``sniff(path, head)``, whether a file its ``names``
    match really is one. ``endings`` are the file endings a directory walk
    looks at for the format; ``markers`` are bytes whose presence in a
    content format's first bytes marks its files. ``empty`` says an empty
    (or blank) file is a valid input of the format: it lists nothing.
    """

    name: str
    family: Family
    #: The module that reads the format; None for the installed environment.
    module: str | None
    licenses: bool = True
    names: Names | None = None
    sniff: bool = False
    syntax: Syntax | None = None
    markers: tuple[bytes, ...] = ()
    endings: tuple[str, ...] = ()
    empty: bool = False

    def read(self, source: Source) -> ReadResult:
        """Read ``source`` as this format."""
        return cast(Reader, self._function("read_source"))(source)

    def sniffs(self, path: Path, head: bytes) -> bool:
        """Whether a file this format's names match is one, by its first bytes."""
        return not self.sniff or bool(self._function("sniff")(path, head))

    def claims(self, source: Source) -> bool:
        """Whether an input of this content format's syntax is one of its files."""
        return bool(self._function("claims")(source))

    def _function(self, function: str) -> Callable[..., Any]:
        if self.module is None:
            raise ValueError(f"{self.name} is not read from a file")
        return _load(self.module, function)


@cache
def _load(module: str, function: str) -> Callable[..., Any]:
    return cast(Callable[..., Any], getattr(importlib.import_module(module), function))
