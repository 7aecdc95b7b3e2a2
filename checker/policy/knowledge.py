"""The knowledge base: what an image is, and which license each of its releases carries.

An image reference (``mongo:7.0``) states no license, and the decision
table only decides the PostgreSQL stack. ``policy/images.yaml`` records,
per project, the normalized repositories its images are published under and
its license history as ordered version ranges (the range language of the
decision table's ``versions``), each with the date it took effect and the
public source that says so. The evidence chain
(:mod:`checker.evidence.knowledge`) reads it, so MongoDB is judged as
SSPL-1.0 instead of merely unknown.

The file is optional (absent: an empty knowledge base) and validated like
the rest of the policy: every problem at once, each with its file and line
(exit 2). A license must parse through the policy's normalizer and name
only ids license-expression knows or ``LicenseRef-`` ids, since an id nobody
can look up would be judged as unknown without anyone noticing the typo.

A tag names a version: ``7.4.2`` and ``8.0-alpine`` are judged by the
version they name. Tags float, though: ``redis:7`` pulls the newest 7.x,
``8.0-alpine`` the newest 8.0.x, and ``latest`` (or no tag, or a tag naming
no version) the newest release. So a tag with fewer than three numbers is
judged by the newest range any version under it falls in, and a tag with
none by the newest range of all: that is the license the tag pulls now,
which fails closed when a license changed within the line.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from checker.errors import Problem
from checker.licenses import Normalizer, _known
from checker.model import ImageRef
from checker.policy.reading import PolicyReader
from checker.versions import VersionRange
from checker.yamlio import Key, Located, describe

#: The file's name in the policy directory.
FILE_NAME = "images.yaml"

_PROJECT_KEYS = ("project", "images", "licenses")
_SPAN_KEYS = ("versions", "license", "since", "source")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URL = re.compile(r"^https://\S+$")
_TAG_RELEASE = re.compile(r"[vV]?(\d+(?:\.\d+)*)")
#: A tag with this many numbers or more names one release; fewer float.
_EXACT_PARTS = 3


@dataclass(frozen=True, slots=True)
class LicenseSpan:
    """One stretch of a project's license history."""

    versions: VersionRange
    #: The SPDX expression, as the normalizer canonicalized it.
    license: str
    #: When it was announced or took effect (YYYY-MM-DD); None only for the first span.
    since: str | None
    #: The public page that says so.
    source: str
    line: int


@dataclass(frozen=True, slots=True)
class Project:
    """A project's images and license history, oldest release first."""

    project: str
    images: tuple[str, ...]
    licenses: tuple[LicenseSpan, ...]
    path: str
    line: int


class Judged(NamedTuple):
    """The span a tag is judged by, and why when the tag does not name one release."""

    span: LicenseSpan
    #: None when the tag names the release; else how it was judged.
    floating: str | None


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """Every project of ``images.yaml`` (empty when the file is absent)."""

    projects: tuple[Project, ...] = ()
    path: str = ""
    _by_image: dict[str, Project] = field(default_factory=dict, compare=False, repr=False)

    def project_of(self, image: ImageRef) -> Project | None:
        """The project whose image patterns match ``image``'s normalized repository."""
        name = image.name.lower()
        exact = self._by_image.get(name)
        if exact is not None:
            return exact
        for project in self.projects:
            if any(fnmatch.fnmatchcase(name, p.lower()) for p in project.images):
                return project
        return None


def judge(project: Project, tag: str | None) -> Judged | None:
    """The license span an image of ``project`` tagged ``tag`` carries, or None.

    None: the tag names a version no span covers (an older release the file
    says nothing about), which stays unknown.
    """
    match = _TAG_RELEASE.match(tag) if tag else None
    if match is None:
        shown = f"tag {tag!r}" if tag else "no tag"
        return Judged(project.licenses[-1], f"{shown}: judged as the newest release's license")
    written = tuple(int(p) for p in match.group(1).split("."))
    if len(written) >= _EXACT_PARTS:
        for span in project.licenses:
            if span.versions.contains(match.group(1)):
                return Judged(span, None)
        return None
    for span in reversed(project.licenses):
        if _admits_under(span.versions, written):
            if len(project.licenses) == 1:
                return Judged(span, None)
            line = ".".join(str(p) for p in written)
            return Judged(
                span, f"tag {tag!r} pulls the newest {line}.x: judged as that release's license"
            )
    return None


def _strip(key: tuple[int, ...]) -> tuple[int, ...]:
    parts = list(key)
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _admits_under(versions: VersionRange, prefix: tuple[int, ...]) -> bool:
    """Whether ``versions`` admits some release whose numbers start with ``prefix``.

    A range is an interval, so it admits a release under the prefix if it
    admits the prefix itself, or one of its bounds under the prefix, or the
    release just above such a bound.
    """
    points = [prefix]
    for clause in versions.clauses:
        bound = clause.bound + (0,) * max(0, len(prefix) - len(clause.bound))
        if bound[: len(prefix)] == prefix:
            points.extend((bound, (*bound, 1)))
    return any(
        all(c.op.admits(_strip(point), c.bound) for c in versions.clauses) for point in points
    )


class _Reader(PolicyReader):
    def key_hint(self, name: str) -> str:
        return " in a knowledge-base entry"


def read_knowledge(doc: Located, normalizer: Normalizer) -> tuple[KnowledgeBase, list[Problem]]:
    """The knowledge base in ``doc`` (``images.yaml``) and every problem in it."""
    c = _Reader(doc)
    data: dict[str, Any] = doc.data
    c.unknown_keys(data, ("version", "projects"), ())
    if data.get("version") != 1:
        c.add(("version",), "'version' must be 1 (the only knowledge-base format this gate reads)")
    if "projects" not in data:
        c.add((), "missing key 'projects' (the list of projects and their license history)")
    projects: list[Project] = []
    seen: dict[str, int] = {}
    for key, entry in c.records(
        data.get("projects"), ("projects",), "'projects'", "a project", _PROJECT_KEYS
    ):
        project = _project(c, entry, key, normalizer, seen)
        if project is not None:
            projects.append(project)
    by_image = {p.lower(): proj for proj in projects for p in proj.images if "*" not in p}
    return KnowledgeBase(tuple(projects), doc.path, by_image), c.problems


def _project(
    c: PolicyReader, entry: dict[str, Any], key: Key, normalizer: Normalizer, seen: dict[str, int]
) -> Project | None:
    """One project, or None when a required part is missing or wrong (``seen``: image -> line)."""
    name = c.string(entry, "project", key, required=True)
    images: list[str] = []
    if "images" not in entry:
        c.add(key, "missing required key 'images' (the repositories the project publishes)")
    for i, item in enumerate(c.sequence(entry.get("images"), (*key, "images"), "'images'")):
        here = (*key, "images", i)
        if not isinstance(item, str) or "/" not in item or item != item.strip():
            c.add(
                here,
                f"an image must be a normalized REGISTRY/REPOSITORY such as "
                f"docker.io/library/mongo, found {describe(item)}",
            )
            continue
        lowered = item.lower()
        if lowered in seen:
            c.add(here, f"duplicate image {item!r} (first at line {seen[lowered]})")
            continue
        seen[lowered] = c.doc.line(here)
        images.append(item)
    spans: list[LicenseSpan] = []
    if "licenses" not in entry:
        c.add(key, "missing required key 'licenses' (the license history, oldest first)")
    raw = c.sequence(entry.get("licenses"), (*key, "licenses"), "'licenses'")
    for i, item in enumerate(raw):
        here = (*key, "licenses", i)
        span_entry = c.mapping(item, here, "a license span")
        if span_entry is not None:
            span = _span(c, span_entry, here, normalizer, first=i == 0)
            if span is not None:
                spans.append(span)
    if "licenses" in entry and isinstance(raw, list) and not raw:
        c.add((*key, "licenses"), "'licenses' must list at least one license span")
    if name is None or not images or len(spans) != len(raw) or not spans:
        return None
    _check_order(c, spans, (*key, "licenses"))
    return Project(name, tuple(images), tuple(spans), c.doc.path, c.doc.line(key))


def _check_order(c: PolicyReader, spans: list[LicenseSpan], key: Key) -> None:
    """Spans must not overlap and must run oldest first: :func:`judge` relies on both.

    Ranges are intervals, so probing every bound (and the release just above
    it) finds any overlap, and each span's lowest admitted probe orders them.
    """
    probes = sorted(
        {(0,)}
        | {
            point
            for span in spans
            for clause in span.versions.clauses
            for point in (clause.bound, (*clause.bound, 1))
        }
    )
    lowest: list[tuple[int, ...] | None] = []
    for span in spans:
        admitted = [p for p in probes if span.versions.contains(".".join(map(str, p)))]
        lowest.append(admitted[0] if admitted else None)
    for i, later in enumerate(spans[1:], start=1):
        here = (*key, i, "versions")
        for earlier in spans[:i]:
            if any(
                later.versions.contains(v) and earlier.versions.contains(v)
                for v in (".".join(map(str, p)) for p in probes)
            ):
                c.add(
                    here,
                    f"versions {later.versions.text!r} overlap {earlier.versions.text!r} "
                    f"(line {earlier.line}): a release must have one license",
                )
                return
        first, previous = lowest[i], lowest[i - 1]
        if first is not None and previous is not None and first < previous:
            c.add(here, "license spans must be ordered oldest release first")
            return


def _span(
    c: PolicyReader, entry: dict[str, Any], key: Key, normalizer: Normalizer, *, first: bool
) -> LicenseSpan | None:
    """One span; ``since`` may be left out only on the first (the project's original license)."""
    c.unknown_keys(entry, _SPAN_KEYS, key)
    if "versions" not in entry:
        c.add(key, "missing required key 'versions' (e.g. '>=7.4,<8')")
    versions = c.version_range(entry.get("versions"), (*key, "versions"))
    text = c.string(entry, "license", key, required=True)
    since = c.string(entry, "since", key, required=not first)
    dated = since is not None or first
    source = c.string(entry, "source", key, required=True)
    expression = None
    if text is not None:
        expression = _license(c, text, (*key, "license"), normalizer)
    if since is not None and not _DATE.match(since):
        c.add((*key, "since"), f"'since' must be a date YYYY-MM-DD, found {since!r}")
        dated = False
    if source is not None and not _URL.match(source):
        c.add((*key, "source"), f"'source' must be an https:// URL, found {source!r}")
        source = None
    if versions is None or expression is None or not dated or source is None:
        return None
    return LicenseSpan(versions, expression, since, source, c.doc.line(key))


def _license(c: PolicyReader, text: str, key: Key, normalizer: Normalizer) -> str | None:
    """The canonical expression of ``text``, or None with a problem recorded."""
    normalized = normalizer.normalize(text)
    if not normalized.ok or normalized.expression is None:
        c.add(key, f"license {text!r} is {normalized.error or 'not a license expression'}")
        return None
    unknown = [
        symbol.key
        for symbol in getattr(normalized.parsed, "symbols", ())
        if not _known(symbol.key) and not symbol.key.startswith("LicenseRef-")
    ]
    if unknown:
        c.add(
            key,
            f"license {text!r} names {', '.join(repr(u) for u in unknown)}: not an SPDX id "
            "license-expression knows, nor a LicenseRef- id",
        )
        return None
    return normalized.expression
