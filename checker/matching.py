"""Recognising a component as a row of the decision table.

A row names its component by purl pattern (any ecosystem, optional version
range), by container image repository (normalized, optional tag globs and
version range), by Helm chart name (optional repository glob) or, for inputs
that carry no identifiers, by bare name. Matching is on identity, not
license: a rejected database is rejected whatever license field it carries.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from packageurl import PackageURL

from checker.images import IMAGE_PURL_TYPES, image_from_purl
from checker.model import Component, ImageRef, Kind
from checker.versions import VersionRange

_PYPI_SEPARATORS = re.compile(r"[-_.]+")


@dataclass(frozen=True, slots=True)
class PurlIdentity:
    type: str
    namespace: str
    name: str
    version: str | None
    qualifiers: tuple[tuple[str, str], ...]


def _normalize_name(purl_type: str, name: str) -> str:
    name = name.lower()
    if purl_type == "pypi":
        return _PYPI_SEPARATORS.sub("-", name)
    return name


def _purl_path(text: str) -> str | None:
    """``type/namespace/name@version`` of a purl as written, or None if it has no scheme.

    By the purl grammar: after ``pkg:`` (any case, slashes allowed), up to
    the ``?`` of the qualifiers or the ``#`` of the subpath.
    """
    if not text.startswith("pkg:") and text[:4].lower() != "pkg:":
        return None
    body = text[4:]
    if body.startswith("/"):
        body = body.lstrip("/")
    cut = body.find("?")
    if cut < 0 or "#" in body[:cut]:
        cut = body.find("#")
    return body if cut < 0 else body[:cut]


def _purl_rest(rest: str) -> tuple[str, str, str | None]:
    """(namespace, name, version) of what follows the type, still percent-encoded."""
    version = None
    at = rest.find("@", rest.rfind("/") + 1)
    if at >= 0:
        version = rest[at + 1 :] or None
        rest = rest[:at]
    namespace, _, name = rest.rpartition("/")
    return namespace, name, version


#: The purl :func:`parse_purl` was last asked about, and its answer.
_last: tuple[str, PurlIdentity | None] = ("", None)


def parse_purl(text: str) -> PurlIdentity | None:
    """The identity parts of a purl; None when it is not one.

    Matching runs once per component, and in a 100,000-component SBOM every
    purl is different, so no cache of them all would pay. The one thing
    remembered is the last answer: the evaluator asks again about the
    component it has just judged when that component has a finding (its
    trace, its evidence and its VEX match), and those questions cost a
    comparison. See :func:`_parse`.
    """
    global _last
    last = _last
    if text is last[0] or text == last[0]:
        return last[1]
    ident = _parse(text)
    _last = (text, ident)
    return ident


def _parse(text: str) -> PurlIdentity | None:
    """:func:`parse_purl` without its memory of the last purl.

    Splitting the four parts matching needs is done here by the purl grammar
    (scheme, type, namespace, name, ``@`` version, ``?`` qualifiers, ``#``
    subpath), with packageurl-python kept for what needs its full parse and
    validation: image purls, whose qualifiers carry the registry. A property
    test holds the two to the same answers.
    """
    # The split of _purl_path and _purl_rest, inlined: this runs for every
    # component, and the two calls cost 7 % of it (measured on 100,000 purls).
    if not text.startswith("pkg:") and text[:4].lower() != "pkg:":
        return None
    body = text[4:]
    if body.startswith("/"):
        body = body.lstrip("/")
    cut = body.find("?")
    if cut < 0 or "#" in body[:cut]:
        cut = body.find("#")
    path = body if cut < 0 else body[:cut]
    slash = path.find("/")
    if slash <= 0:
        return None
    purl_type = path[:slash].lower()
    if purl_type in IMAGE_PURL_TYPES:
        return _parse_purl_fully(text)
    rest = path[slash + 1 :]
    version = None
    at = rest.find("@", rest.rfind("/") + 1)
    if at >= 0:
        version = rest[at + 1 :] or None
        rest = rest[:at]
    namespace, _, name = rest.rpartition("/")
    if "%" in path:
        namespace, name = unquote(namespace), unquote(name)
        version = unquote(version) if version else version
    if not name:
        return None
    if namespace:
        namespace = namespace.strip("/").lower()
    return PurlIdentity(purl_type, namespace, _normalize_name(purl_type, name), version, ())


_PURL_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9.+-]*$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def purl_parts(purl: str) -> tuple[str, str, str, str | None] | None:
    """(type, namespace, name, version) of a purl, percent-decoded; None if it does not parse.

    Stricter than :func:`parse_purl` where that matters to a reader: a
    malformed percent-escape (``pkg:deb/%%``), a type outside the grammar or
    a name that is empty or unprintable once decoded makes it no purl. The
    name keeps the case it was written in, for a component named after its
    purl. Used on the rare paths only (distribution purls, nameless
    components).
    """
    path = _purl_path(purl)
    if path is None:
        return None
    purl_type, slash, rest = path.partition("/")
    if not slash or not _PURL_TYPE.match(purl_type) or _BAD_PERCENT.search(path):
        return None
    namespace, name, version = _purl_rest(rest.strip("/"))
    name = unquote(name)
    if not name.strip() or not name.isprintable():
        return None
    return purl_type.lower(), unquote(namespace), name, unquote(version) if version else None


@lru_cache(maxsize=4096)
def _parse_purl_fully(text: str) -> PurlIdentity | None:
    try:
        purl = PackageURL.from_string(text)
    except (ValueError, TypeError):
        return None
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    purl_type = str(purl.type).lower()
    return PurlIdentity(
        type=purl_type,
        namespace=(purl.namespace or "").lower(),
        name=_normalize_name(purl_type, str(purl.name)),
        version=purl.version,
        qualifiers=tuple(sorted((str(k), str(v)) for k, v in qualifiers.items())),
    )


@dataclass(frozen=True, slots=True)
class PurlPattern:
    """``pkg:TYPE/NAMESPACE/NAME`` with ``*`` globs in each segment."""

    text: str
    type: str
    namespace: str | None
    name: str
    versions: VersionRange | None = None

    @classmethod
    def parse(cls, text: str, versions: VersionRange | None = None) -> PurlPattern:
        if not text.startswith("pkg:"):
            raise ValueError(f"purl pattern {text!r} must start with 'pkg:'")
        body = text[4:].split("@", 1)[0].split("?", 1)[0]
        parts = body.split("/")
        if len(parts) < 2 or not all(parts):
            raise ValueError(
                f"purl pattern {text!r} must be pkg:TYPE/NAME or pkg:TYPE/NAMESPACE/NAME"
            )
        purl_type = parts[0].lower()
        name = _normalize_name(purl_type, parts[-1]) if "*" not in parts[-1] else parts[-1].lower()
        namespace = "/".join(parts[1:-1]).lower() if len(parts) > 2 else None
        return cls(text, purl_type, namespace, name, versions)

    def matches(self, ident: PurlIdentity) -> bool:
        if not fnmatch.fnmatchcase(ident.type, self.type):
            return False
        if self.namespace is None:
            if ident.namespace:
                return False
        elif not fnmatch.fnmatchcase(ident.namespace, self.namespace):
            return False
        if not fnmatch.fnmatchcase(ident.name, self.name):
            return False
        return self.versions is None or self.versions.contains(ident.version)


@dataclass(frozen=True, slots=True)
class ImagePattern:
    repository: str
    tags: tuple[str, ...] = ()
    versions: VersionRange | None = None

    def matches(self, image: ImageRef) -> bool:
        if not fnmatch.fnmatchcase(image.name.lower(), self.repository.lower()):
            return False
        if self.tags and not (
            image.tag is not None and any(fnmatch.fnmatchcase(image.tag, t) for t in self.tags)
        ):
            return False
        return self.versions is None or self.versions.contains(image.tag)


@dataclass(frozen=True, slots=True)
class ChartPattern:
    name: str
    repository: str | None = None
    versions: VersionRange | None = None

    def matches(self, component: Component) -> bool:
        if not fnmatch.fnmatchcase(component.name.lower(), self.name.lower()):
            return False
        if self.repository is not None:
            repo = (component.chart_repository or "").lower()
            if not fnmatch.fnmatchcase(repo, self.repository.lower()):
                return False
        return self.versions is None or self.versions.contains(component.version)


@dataclass(frozen=True, slots=True)
class Matcher:
    """Everything one table row (or the stack definition) recognises."""

    purls: tuple[PurlPattern, ...] = ()
    images: tuple[ImagePattern, ...] = ()
    charts: tuple[ChartPattern, ...] = ()
    names: tuple[str, ...] = ()

    def matches(self, component: Component) -> str | None:
        """The pattern that recognised ``component``, or None."""
        ident = parse_purl(component.purl) if component.purl else None
        if ident is not None:
            for pattern in self.purls:
                if pattern.matches(ident):
                    return pattern.text
        return self.matches_identity(component, ident, image_of(component, ident))

    def matches_identity(
        self, component: Component, ident: PurlIdentity | None, image: ImageRef | None
    ) -> str | None:
        """Image, chart and bare-name patterns, given what was already parsed."""
        if image is not None:
            for image_pattern in self.images:
                if image_pattern.matches(image):
                    return image_pattern.repository
        if component.kind is Kind.CHART:
            for chart in self.charts:
                if chart.matches(component):
                    return f"chart {chart.name}"
        if ident is None and image is None and component.kind is not Kind.CHART and self.names:
            lowered = component.name.lower()
            for name in self.names:
                if fnmatch.fnmatchcase(lowered, name.lower()):
                    return f"name {name}"
        return None


def image_of(component: Component, ident: PurlIdentity | None = None) -> ImageRef | None:
    """The container image a component stands for, from its fields or its purl."""
    if component.image is not None:
        return component.image
    if ident is None and component.purl:
        ident = parse_purl(component.purl)
    if ident is not None and ident.type in IMAGE_PURL_TYPES:
        return image_from_purl(
            ident.type, ident.namespace or None, ident.name, ident.version, dict(ident.qualifiers)
        )
    return None


_GLOB_CHARS = frozenset("*?[")


def _is_glob(text: str | None) -> bool:
    return text is not None and any(c in _GLOB_CHARS for c in text)


#: How a pattern segment is compared: the same answers as ``fnmatchcase``,
#: without a regex where the pattern has no glob or only a trailing ``*``.
_EQUAL, _ANY, _PREFIX, _GLOB = 0, 1, 2, 3


def _segment(pattern: str) -> tuple[int, str]:
    if not _is_glob(pattern):
        return _EQUAL, pattern
    if pattern == "*":
        return _ANY, ""
    head = pattern[:-1]
    if pattern.endswith("*") and not _is_glob(head):
        return _PREFIX, head
    return _GLOB, pattern


def _segment_matches(how: int, pattern: str, text: str) -> bool:
    if how == _EQUAL:
        return text == pattern
    if how == _PREFIX:
        return text.startswith(pattern)
    return how == _ANY or fnmatch.fnmatchcase(text, pattern)


def _literal_prefix(pattern: str) -> str:
    """What every name a pattern matches starts with: the text before its first glob character."""
    for index, char in enumerate(pattern):
        if char in _GLOB_CHARS:
            return pattern[:index]
    return pattern


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A purl pattern compiled for :class:`MatchIndex`.

    ``matches`` gives :meth:`PurlPattern.matches`'s answer: a type, a
    namespace and a name that each match, and a version in range.
    """

    #: Place in the table: row, then the pattern's place in the row.
    order: int
    row: int
    pattern: PurlPattern
    namespace: tuple[int, str] | None
    name: tuple[int, str]

    @classmethod
    def of(cls, order: int, row: int, pattern: PurlPattern) -> _Compiled:
        namespace = None if pattern.namespace is None else _segment(pattern.namespace)
        return cls(order, row, pattern, namespace, _segment(pattern.name))

    def matches(self, ident: PurlIdentity, typed: bool) -> bool:
        pattern = self.pattern
        if not typed and not fnmatch.fnmatchcase(ident.type, pattern.type):
            return False
        if self.namespace is None:
            if ident.namespace:
                return False
        elif not _segment_matches(*self.namespace, ident.namespace):
            return False
        if not _segment_matches(*self.name, ident.name):
            return False
        return pattern.versions is None or pattern.versions.contains(ident.version)


class _TypedGlobs:
    """The glob patterns of one purl type, indexed by the literal start of their name.

    ``pkg:deb/*/postgresql*`` can only match a name that starts with
    ``postgresql``: a component is compared only with the patterns whose
    name's literal start its own name begins with (one dictionary lookup per
    distinct length of such starts), in row order.
    """

    def __init__(self, globs: list[_Compiled]) -> None:
        self._by_start: dict[int, dict[str, list[_Compiled]]] = {}
        for glob in globs:
            start = _literal_prefix(glob.pattern.name)
            self._by_start.setdefault(len(start), {}).setdefault(start, []).append(glob)
        self._lengths = sorted(self._by_start)

    def candidates(self, name: str) -> list[_Compiled]:
        found: list[_Compiled] = []
        for length in self._lengths:
            group = self._by_start[length].get(name[:length])
            if group:
                found.extend(group)
        if len(found) > 1:
            found.sort(key=_order)
        return found


def _order(glob: _Compiled) -> int:
    return glob.order


class MatchIndex:
    """Rows' matchers indexed so a component is compared with few patterns.

    Trying every pattern of every row for every component is what a naive
    gate does; on a 100,000-component SBOM that is millions of glob matches.
    Purl patterns without globs are looked up by (type, namespace, name);
    glob patterns are grouped by purl type and indexed by the literal start
    of their name (:class:`_TypedGlobs`), and a segment that is literal or
    ends in its only ``*`` is compared without a regex. The first pattern in
    file order that recognises a component still wins, as in
    :meth:`Matcher.matches`: the first row, and in it the first pattern,
    whichever of the three groups it is in.
    """

    def __init__(self, matchers: list[Matcher]) -> None:
        self._matchers = matchers
        self._exact: dict[tuple[str, str | None, str], list[_Compiled]] = {}
        typed: dict[str, list[_Compiled]] = {}
        self._any_type: list[_Compiled] = []
        self._other_rows = [i for i, m in enumerate(matchers) if m.images or m.charts or m.names]
        order = 0
        for row, matcher in enumerate(matchers):
            for pattern in matcher.purls:
                order += 1
                if _is_glob(pattern.type):
                    self._any_type.append(_Compiled.of(order, row, pattern))
                elif _is_glob(pattern.namespace) or _is_glob(pattern.name):
                    typed.setdefault(pattern.type, []).append(_Compiled.of(order, row, pattern))
                else:
                    key = (pattern.type, pattern.namespace, pattern.name)
                    self._exact.setdefault(key, []).append(_Compiled.of(order, row, pattern))
        self._typed = {purl_type: _TypedGlobs(globs) for purl_type, globs in typed.items()}

    def first(
        self, component: Component, ident: PurlIdentity | None = None
    ) -> tuple[int, str] | None:
        """(row index, the pattern that recognised ``component``), or None.

        ``ident`` is the component's parsed purl, when the caller has it.
        """
        found: _Compiled | None = None
        if ident is None and component.purl:
            ident = parse_purl(component.purl)
        if ident is not None:
            exact = self._exact.get((ident.type, ident.namespace or None, ident.name))
            if exact:
                found = _first_match(exact, ident, True, found)
            typed = self._typed.get(ident.type)
            if typed is not None:
                found = _first_match(typed.candidates(ident.name), ident, True, found)
            if self._any_type:
                found = _first_match(self._any_type, ident, False, found)
        best = None if found is None else (found.row, found.pattern.text)
        if not self._other_rows:
            return best
        if (
            ident is not None
            and component.image is None
            and ident.type not in IMAGE_PURL_TYPES
            and component.kind is not Kind.CHART
        ):
            return best  # only image, chart and no-purl name patterns remain
        image = image_of(component, ident)
        for row in self._other_rows:
            if best is not None and row >= best[0]:
                break
            hit = self._matchers[row].matches_identity(component, ident, image)
            if hit is not None:
                return row, hit
        return best


def _first_match(
    globs: list[_Compiled], ident: PurlIdentity, typed: bool, best: _Compiled | None
) -> _Compiled | None:
    """The first of ``globs`` (in table order) before ``best`` that matches, else ``best``."""
    for glob in globs:
        if best is not None and glob.order >= best.order:
            break
        if glob.matches(ident, typed):
            return glob
    return best
