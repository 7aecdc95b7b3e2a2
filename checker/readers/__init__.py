"""The input formats the gate reads: one registry, one record per format.

Every input format is one :class:`Format` in :data:`FORMATS`: its name (the
``ReadResult.format`` every report shows), its family, whether it states its
components' licenses, how a file is recognised as it, and the function that
reads it into the model. Readers are loaded only when a file of their format
is read, so a run over one SBOM never imports the Helm or lockfile readers.

How a file is recognised:

* **By name** (lockfiles and deployment artifacts): the first record whose
  :class:`Names` match the file name decides. A record with ``sniff`` set (a
  Kubernetes manifest is "some YAML", a packaged chart "some .tgz") then
  confirms it from the first bytes; if the sniff says no, the file is not
  recognised by name at all.
* **By content** (SBOMs and license reports), for every other file: JSON,
  XML or text by the first non-blank byte, then the first record of that
  syntax that claims the input. The format is never taken from the name: a
  ``.spdx`` file may hold JSON, a ``.txt`` file SPDX tag-value. The JSON
  document is parsed once, for the claims and the reader both. A JSON
  document no format claims that is a JSON Schema (:func:`json_schema_of`)
  is refused as one, not as unknown JSON.

A format's module provides ``read_source(source)`` (a :class:`Reader`), and
``claims(source)`` for a content format or ``sniff(path, head)`` for one
with ``sniff`` set. Adding a format is that module, its tests and one record
in :data:`FORMATS`. The walk (:mod:`checker.sources`) asks
:mod:`checker.readers.sniff` which files to read, and that module takes the
file endings and content markers from these records too; every reader says
what it could not read through :class:`checker.readers.notes.Notes`.
"""

from __future__ import annotations

from pathlib import Path

from checker.errors import InputError
from checker.inputs import DEFAULT_MAX_BYTES, gc_paused, is_blank
from checker.model import ReadResult
from checker.readers.base import Family, Format, Names, Reader, Source, Syntax
from checker.scope import Scope

__all__ = [
    "FORMATS",
    "SNIFF_BYTES",
    "Family",
    "Format",
    "Names",
    "Reader",
    "Source",
    "Syntax",
    "by_name",
    "carries_licenses",
    "detect",
    "family_formats",
    "json_schema_of",
    "read",
    "read_content",
]


#: How much of a file decides its format (by name and first bytes, or by
#: content markers) before any streaming search.
SNIFF_BYTES = 64 * 1024

SBOM, LOCKFILE, ARTIFACT = Family.SBOM, Family.LOCKFILE, Family.ARTIFACT
JSON, XML, TEXT = Syntax.JSON, Syntax.XML, Syntax.TEXT
_YAML = (".yaml", ".yml")
_BOMS = (".cdx", ".bom", ".sbom")

#: Every input format, in the order detection tries them.
FORMATS: tuple[Format, ...] = (
    # SBOMs and license reports: by content; JSON, XML or text by the first byte.
    Format(
        "cyclonedx-json",
        SBOM,
        "checker.sbom.cyclonedx.json_reader",
        syntax=JSON,
        markers=(b'"bomFormat"',),
        endings=(".json", *_BOMS),
    ),
    Format(
        "spdx-json",
        SBOM,
        "checker.sbom.spdx.json_reader",
        syntax=JSON,
        markers=(b'"spdxVersion"', b'"SPDXID"'),
        endings=(".json", ".spdx"),
    ),
    Format("pip-licenses", SBOM, "checker.sbom.piplicenses", syntax=JSON, endings=(".json",)),
    Format(
        "cyclonedx-xml",
        SBOM,
        "checker.sbom.cyclonedx.xml_reader",
        syntax=XML,
        markers=(b"cyclonedx.org/schema/bom",),
        endings=(".xml", *_BOMS),
    ),
    Format(
        "spdx-tag-value",
        SBOM,
        "checker.sbom.spdx.tag_value",
        syntax=TEXT,
        markers=(b"SPDXVersion:",),
        endings=(".spdx", ".txt"),
    ),
    # The installed Python environment (--env): not a file, never detected.
    Format("environment", SBOM, None),
    # Lockfiles: by name. Only npm's lock states licenses.
    Format(
        "requirements",
        LOCKFILE,
        "checker.lockfiles.requirements",
        licenses=False,
        names=Names(
            patterns=(
                "*requirements*.txt",
                "*requirements*.lock",
                "constraints*.txt",
                "constraints*.lock",
                "requirements/*.txt",
                "requirements/*.in",
            )
        ),
        endings=(".txt", ".lock", ".in"),
        # a project without dependencies: a requirements file with no lines
        empty=True,
    ),
    Format(
        "poetry-lock",
        LOCKFILE,
        "checker.lockfiles.poetry",
        licenses=False,
        names=Names(exact=("poetry.lock",)),
        endings=(".lock",),
    ),
    Format(
        "uv-lock",
        LOCKFILE,
        "checker.lockfiles.uv",
        licenses=False,
        names=Names(exact=("uv.lock",)),
        endings=(".lock",),
    ),
    Format(
        "pipfile-lock",
        LOCKFILE,
        "checker.lockfiles.pipfile",
        licenses=False,
        names=Names(exact=("Pipfile.lock",)),
        endings=(".lock",),
    ),
    Format(
        "pylock",
        LOCKFILE,
        "checker.lockfiles.pylock",
        licenses=False,
        # PEP 751 names a lock for a named purpose pylock.<name>.toml
        names=Names(exact=("pylock.toml",), regex=r"^pylock\.[^.]+\.toml$"),
        endings=(".toml",),
    ),
    Format(
        "npm-lock",
        LOCKFILE,
        "checker.lockfiles.npm",
        names=Names(exact=("package-lock.json", "npm-shrinkwrap.json")),
        endings=(".json",),
    ),
    # Deployment artifacts: by name; a package and a manifest confirmed by their first bytes.
    Format(
        "helm-chart",
        ARTIFACT,
        "checker.artifacts.helm.chart",
        names=Names(exact=("Chart.yaml",)),
        endings=(".yaml",),
    ),
    Format(
        "helm-chart-lock",
        ARTIFACT,
        "checker.artifacts.helm.lock",
        names=Names(exact=("Chart.lock",)),
        endings=(".lock",),
    ),
    Format(
        "helm-package",
        ARTIFACT,
        "checker.artifacts.helm.package",
        names=Names(patterns=("*.tgz",)),
        sniff=True,
        endings=(".tgz",),
    ),
    Format(
        "dockerfile",
        ARTIFACT,
        "checker.artifacts.dockerfile",
        names=Names(
            patterns=(
                "dockerfile",
                "containerfile",
                "dockerfile.*",
                "containerfile.*",
                "*.dockerfile",
            ),
            unless=("*.dockerignore",),
        ),
        endings=(".dockerfile", ".containerfile"),
    ),
    Format(
        "compose",
        ARTIFACT,
        "checker.artifacts.compose",
        names=Names(
            patterns=(
                "compose.yaml",
                "compose.yml",
                "compose.*.yaml",
                "compose.*.yml",
                "docker-compose*.yaml",
                "docker-compose*.yml",
            )
        ),
        endings=_YAML,
    ),
    Format(
        "helm-values",
        ARTIFACT,
        "checker.artifacts.values",
        names=Names(patterns=("values*.yaml", "values*.yml")),
        endings=_YAML,
    ),
    Format(
        "kubernetes",
        ARTIFACT,
        "checker.artifacts.kubernetes",
        names=Names(patterns=("*.yaml", "*.yml")),
        sniff=True,
        endings=_YAML,
    ),
)

_BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}
_NAMED = tuple(f for f in FORMATS if f.names is not None)
_CONTENT: dict[Syntax, tuple[Format, ...]] = {
    syntax: tuple(f for f in FORMATS if f.syntax is syntax) for syntax in Syntax
}

#: What a file of each syntax that no format claims is told.
_UNRECOGNISED = {
    Syntax.JSON: (
        "$",
        "is JSON but not a recognised format (expected a CycloneDX BOM with "
        '"bomFormat", an SPDX document with "spdxVersion", or pip-licenses '
        "--format=json output)",
    ),
    Syntax.TEXT: (
        "line 1",
        "is not a recognised format (expected CycloneDX JSON or XML, SPDX JSON or "
        "tag-value, or pip-licenses JSON)",
    ),
}


#: Top-level keys that make a JSON document an SBOM, whatever else it says:
#: the JSON formats' markers, and what their ``claims`` look at besides.
_SBOM_KEYS = (
    *(m.strip(b'"').decode() for f in FORMATS if f.syntax is JSON for m in f.markers),
    "specVersion",
    "@graph",
    "@context",
)
#: What a JSON Schema's ``$schema`` names (the meta-schema's host).
JSON_SCHEMA_HOST = "json-schema.org"


def json_schema_of(doc: object) -> str | None:
    """The ``$schema`` of a JSON document that is a JSON Schema, else None.

    A vendored ``bom-1.6.schema.json`` (inside cyclonedx-python-lib, say)
    names SBOM fields such as ``bomFormat`` in its ``properties``, so a walk
    finds it by name and marker; it describes SBOMs and lists no component.
    Its top level says so: a ``$schema`` naming the JSON Schema meta-schema
    and none of the keys an SBOM has at its top (a CycloneDX BOM's own
    ``$schema`` names cyclonedx.org, and it has ``bomFormat`` beside it).
    """
    if not isinstance(doc, dict):
        return None
    schema = doc.get("$schema")
    if not isinstance(schema, str) or JSON_SCHEMA_HOST not in schema.lower():
        return None
    if any(key in doc for key in _SBOM_KEYS):
        return None
    return schema


def by_name(name: str) -> Format | None:
    """The record of format ``name`` (a ``ReadResult.format``), or None."""
    return _BY_NAME.get(name)


def family_formats(family: Family) -> tuple[str, ...]:
    """The names of a family's formats, in registry order."""
    return tuple(f.name for f in FORMATS if f.family is family)


def carries_licenses(fmt: str) -> bool:
    """Whether inputs of format ``fmt`` state their components' licenses.

    A format the registry does not know is taken to carry them: only the
    formats that are known to name packages without licenses are joined
    with licenses from other inputs.
    """
    found = _BY_NAME.get(fmt)
    return found is None or found.licenses


def detect(path: Path, head: bytes = b"") -> Format | None:
    """The format ``path``'s name says it is (confirmed by ``head`` where needed), or None."""
    name = path.name
    lower = name.lower()
    folder = path.parent.name
    for fmt in _NAMED:
        if fmt.names is not None and fmt.names.match(name, lower, folder):
            return fmt if fmt.sniffs(path, head) else None
    return None


def read(
    path: Path,
    data: bytes,
    scope: Scope | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    name: str | None = None,
) -> ReadResult:
    """Read ``data`` (the bytes of ``path``): by name for lockfiles and artifacts, else by content.

    ``name`` is how the file is named in origins and messages (default:
    ``str(path)``).
    """
    source = Source(path, str(path) if name is None else name, data, max_bytes, scope)
    fmt = detect(path, data[:SNIFF_BYTES])
    return read_content(source) if fmt is None else fmt.read(source)


def read_content(source: Source) -> ReadResult:
    """Read an SBOM or license report, its format recognised from what it holds.

    The cyclic garbage collector is paused: parsing a large SBOM allocates
    millions of objects and none of them form cycles, and letting the
    collector scan them repeatedly more than doubles the time of the bare
    JSON parse. Any failure is an :class:`InputError`.
    """
    with gc_paused():
        try:
            return _read_content(source)
        finally:
            # Freed while the collector is still paused: the first collection
            # after it would otherwise scan every object of a large document.
            source.release()


def _read_content(source: Source) -> ReadResult:
    data = source.data
    if is_blank(data):
        raise InputError(source.name, "", "is empty; expected an SBOM, lockfile or manifest")
    head = data[:4096].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    if head.startswith((b"{", b"[")):
        syntax = Syntax.JSON
    elif head.startswith(b"<"):
        syntax = Syntax.XML
    else:
        syntax = Syntax.TEXT
    for fmt in _CONTENT[syntax]:
        if fmt.claims(source):
            return fmt.read(source)
    if syntax is Syntax.JSON:
        schema = json_schema_of(source.json())
        if schema is not None:
            raise InputError(
                source.name,
                "$.$schema",
                f"is a JSON Schema ($schema {schema[:120]!r}), not an SBOM: it describes "
                "documents and lists no components; give the SBOM itself (a directory scan "
                "passes schema files over)",
            )
    location, message = _UNRECOGNISED[syntax]
    raise InputError(source.name, location, message)
