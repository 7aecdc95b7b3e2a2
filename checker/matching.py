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

from packageurl import PackageURL

from checker.images import image_from_purl
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


@lru_cache(maxsize=200_000)
def parse_purl(text: str) -> PurlIdentity | None:
    """Parse a purl with packageurl-python; None when it is not a valid purl."""
    try:
        purl = PackageURL.from_string(text)
    except (ValueError, TypeError):
        return None
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    return PurlIdentity(
        type=purl.type.lower(),
        namespace=(purl.namespace or "").lower(),
        name=_normalize_name(purl.type.lower(), purl.name),
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
        image = image_of(component, ident)
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
    if ident is not None and ident.type in ("oci", "docker"):
        return image_from_purl(
            ident.type, ident.namespace or None, ident.name, ident.version, dict(ident.qualifiers)
        )
    return None
