"""A ``match`` specification: how a decision-table row (or ``stack``) recognises components.

``purls``, ``images``, ``charts`` and ``names``, each a list of patterns
written as a string or as a mapping with the pattern and, for rows, a
``versions`` range (:mod:`checker.matching` does the matching).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from checker.matching import ChartPattern, ImagePattern, Matcher, PurlPattern
from checker.policy.reading import PolicyReader
from checker.versions import VersionRange
from checker.yamlio import Key, describe


class _Pattern(NamedTuple):
    """One usable item of a pattern list: where it is, as written, its text and range."""

    key: Key
    item: Any
    text: str
    versions: VersionRange | None


def read_matcher(c: PolicyReader, value: Any, key: Key, *, with_versions: bool) -> Matcher:
    """A ``match`` mapping (a row's, or ``stack``); ``versions`` only where rows allow it."""
    spec = c.mapping(value, key, "'match'")
    if spec is None:
        return Matcher()
    c.unknown_keys(spec, ("purls", "images", "charts", "names"), key)

    def patterns(kind: str, main: str, *extra: str) -> Iterator[_Pattern]:
        allowed = (main, *extra, "versions") if with_versions else (main, *extra)
        for i, item in enumerate(c.sequence(spec.get(kind), (*key, kind), f"'{kind}'")):
            found = _pattern(c, item, (*key, kind, i), main, allowed)
            if found is not None:
                yield found

    purls: list[PurlPattern] = []
    for here, _, text, versions in patterns("purls", "pattern"):
        try:
            purls.append(PurlPattern.parse(text, versions))
        except ValueError as exc:
            c.add(here, str(exc))
    images: list[ImagePattern] = []
    for here, item, text, versions in patterns("images", "repository", "tags"):
        if "/" not in text:
            c.add(
                here,
                f"image repository {text!r} must be normalized as REGISTRY/REPOSITORY "
                "(e.g. docker.io/library/postgres)",
            )
            continue
        tags: tuple[str, ...] = ()
        if isinstance(item, dict) and "tags" in item:
            raw = c.sequence(item["tags"], (*here, "tags"), "'tags'")
            if all(isinstance(t, str) for t in raw):
                tags = tuple(raw)
            else:
                c.add((*here, "tags"), "'tags' must be a list of strings")
        images.append(ImagePattern(text, tags, versions))
    charts: list[ChartPattern] = []
    for here, item, text, versions in patterns("charts", "name", "repository"):
        repository = None
        if isinstance(item, dict) and item.get("repository") is not None:
            repository = c.string(item, "repository", here, required=False)
        charts.append(ChartPattern(text, repository, versions))
    names: list[str] = []
    for i, item in enumerate(c.sequence(spec.get("names"), (*key, "names"), "'names'")):
        if isinstance(item, str) and item.strip():
            names.append(item.strip())
        else:
            c.add((*key, "names", i), f"a name pattern must be a string, found {describe(item)}")
    return Matcher(tuple(purls), tuple(images), tuple(charts), tuple(names))


def _pattern(
    c: PolicyReader, item: Any, key: Key, main: str, allowed: tuple[str, ...]
) -> _Pattern | None:
    """A pattern written as a string or as a mapping with ``main``; None if unusable."""
    if isinstance(item, str):
        if not item.strip():
            c.add(key, "pattern must not be empty")
            return None
        return _Pattern(key, item, item.strip(), None)
    if isinstance(item, dict):
        c.unknown_keys(item, allowed, key)
        text = c.string(item, main, key, required=True)
        versions = c.version_range(item.get("versions"), (*key, "versions"))
        return _Pattern(key, item, text, versions) if text is not None else None
    c.add(key, f"pattern must be a string or a mapping with {main!r}, found {describe(item)}")
    return None
