"""Which components of a run are the same release: one component, one verdict.

A run reads a lockfile, an SBOM of the same environment and the installed
metadata; each names ``jinja2 3.1.6`` (one spells it ``Jinja2``). Judged
entry by entry, one package becomes three components and its warning is
printed three times, and the summary counts entries, not packages. Here
the components of every input are grouped by identity before the rules run:

* an image by its digest, else by registry, repository and tag;
* a chart by its name and version;
* anything with a purl by purl type, namespace, name and version, the name
  normalized as its ecosystem does (PEP 503 for PyPI: ``Jinja2``,
  ``jinja2`` and ``jinja_2`` are one project); qualifiers and subpath are
  left out (``?arch=amd64`` is the same release's license);
* anything else by kind, group, case-folded name and version.

Each group is judged once, on the member with the best license evidence
(:func:`rank`): a statement in an SBOM, then installed metadata, then an
entry of a format that states no licenses (whose evidence then comes from
:mod:`checker.evidence`). A member whose statements differ from the judged
one's is judged too, so contradicting evidence is never dropped; findings
that repeat are reported once, listing every place the release appears.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from urllib.parse import unquote

from checker.model import Component, Kind, Origin, ReadResult
from checker.readers import carries_licenses
from checker.sbom.piplicenses import normalize_pypi_name

#: The format name of the installed-environment reader (ranked below SBOMs).
_ENVIRONMENT = "environment"


def _purl_identity(purl: str) -> tuple[str, ...]:
    """A purl's identity without parsing it fully: this runs once per component.

    Written for the common case (a canonical purl without qualifiers,
    percent-escapes or a PyPI name needing normalization), which costs a few
    string operations; the rest is handled on the way.
    """
    cut = purl.find("?")
    hash_at = purl.find("#")
    if hash_at != -1 and (cut == -1 or hash_at < cut):
        cut = hash_at
    base = purl if cut == -1 else purl[:cut]
    body = base[4:] if base[:4].lower() == "pkg:" else base
    kind, _, rest = body.lstrip("/").partition("/")
    kind = kind.lower()
    path, _, version = rest.rpartition("@")
    if not path or "/" in version:  # no version: ``pkg:npm/@scope/name``
        path, version = rest, ""
    if "%" in path:
        path = unquote(path)
    if "%" in version:
        version = unquote(version)
    if kind == "pypi":
        path = path.lower()
        if "_" in path or "." in path or "--" in path:
            path = normalize_pypi_name(path)
    return kind, path, version


def identity(component: Component) -> Hashable:
    """The key two components of the same release share (see the module docstring)."""
    image = component.image
    if image is not None and component.kind is Kind.IMAGE:
        if image.digest:
            return ("image", image.digest)
        return ("image", image.name, image.tag or "")
    if component.kind is Kind.CHART:
        return ("chart", component.name.casefold(), component.version or "")
    if component.purl:
        return _purl_identity(component.purl)
    return (
        component.kind.value,
        (component.group or "").casefold(),
        component.name.casefold(),
        component.version or "",
    )


def rank(fmt: str, component: Component) -> int:
    """How good a member's license evidence is: lower is better.

    0: an SBOM (or license report) states licenses for it; 1: the installed
    metadata does; 2: its input states none, but it pins artifact hashes (a
    lock entry the evidence file can be checked against); 3: anything else.
    """
    if component.licenses and carries_licenses(fmt):
        return 1 if fmt == _ENVIRONMENT else 0
    return 2 if component.digests else 3


class Group:
    """Every appearance of one release in a run, and which of them are judged.

    A plain slotted class: a large SBOM makes one per component.
    """

    __slots__ = ("members",)

    def __init__(self, first: tuple[str, Component]) -> None:
        #: (format, component) in input order.
        self.members = [first]

    @property
    def judged(self) -> list[Component]:
        """The best-evidenced member first, then each member whose statements differ."""
        if len(self.members) == 1:
            return [self.members[0][1]]
        order = sorted(range(len(self.members)), key=lambda i: rank(*self.members[i]))
        first = self.members[order[0]][1]
        chosen = [first]
        seen = {_statements(first)}
        for index in order[1:]:
            component = self.members[index][1]
            said = _statements(component)
            if component.licenses and said not in seen:
                seen.add(said)
                chosen.append(component)
        return chosen

    def elsewhere(self, component: Component) -> tuple[Origin, ...]:
        """Where else the release appears, each place once, in input order."""
        places: list[Origin] = []
        seen = {str(component.origin)}
        for _, other in self.members:
            shown = str(other.origin)
            if shown not in seen:
                seen.add(shown)
                places.append(other.origin)
        return tuple(places)


def _statements(component: Component) -> tuple[str, ...]:
    return tuple(sorted(item.text for item in component.licenses))


def group(results: Sequence[ReadResult]) -> list[Group]:
    """The run's components grouped by :func:`identity`, in order of first appearance."""
    groups: dict[Hashable, Group] = {}
    get = groups.get
    for result in results:
        fmt = result.format
        for component in result.components:
            key = identity(component)
            found = get(key)
            if found is None:
                groups[key] = Group((fmt, component))
            else:
                found.members.append((fmt, component))
    return list(groups.values())
