"""CycloneDX readers for JSON and XML, spec versions 1.2 to 1.7.

Both readers turn a BOM into :class:`~checker.model.Component` objects: every
entry of ``components`` (nested ones included), every ``services`` entry (as
``Kind.SERVICE``, because a SaaSBOM lists its database as a service) and the
document subject ``metadata.component`` (``is_subject=True``). Each origin is
the JSON path (``$.components[3].components[0]``) or 1-based XML path
(``/bom/components/component[4]``) of what was read, down to the license
field, so a finding can be traced to the byte that caused it. A nested
component's ``path`` names the components it is nested in, outermost first.

Design choices, and why:

* **A license list means AND.** Each entry of a ``licenses`` list becomes one
  :class:`~checker.model.LicenseEvidence` and the gate requires all of them.
  The specification leaves the meaning of several entries open (1.2-1.4 and
  1.7 even allow an expression beside named licenses), so the conservative
  reading is that every statement applies; a producer that means "either"
  can say so with one ``expression`` using ``OR``. Observed licenses
  (``evidence.licenses``) are what a scanner saw in files, not what the
  component is offered under, so they are not read.
* **Lenient, but never silent, and never open.** Real third-party files are
  sloppy: Trivy mixes ``expression`` and ``license`` entries where 1.5/1.6
  forbid it and puts SPDX ids into ``license.name``; other tools write numbers
  as versions. Such files are read, and every repair or skipped element
  becomes a :class:`~checker.model.Note` naming the JSON or XML path: a
  warning when nothing the policy judges is lost, an error (the run fails)
  when something that may be a component or a license statement could not be
  read: a nameless component without a usable purl, a ``<component>`` in
  another namespace, a distribution purl on a component whose ``type`` says
  otherwise. A document whose component lists are not lists (``"components":
  "x"``) is not what it claims and is an :class:`~checker.errors.InputError`,
  as is one that is not CycloneDX at all or cannot be parsed; ``null`` there
  is an error note, because "none" and "lost" cannot be told apart. No other
  exception leaves this module, whatever the input bytes.
* **Fast on big BOMs.** Container-image BOMs reach 100,000 components, so the
  per-component path does dictionary lookups, exact type checks and f-string
  locations only; anything unusual (coercions, notes, image references) is
  handled in functions that run only when needed, and the cyclic garbage
  collector is paused while components are built. Schema validation and
  cyclonedx-python-lib are not used for reading: both are orders of magnitude
  slower than the parse itself.
* **Safe XML.** XML goes through defusedxml with DTDs, entity declarations and
  external references all forbidden, so entity-expansion ("billion laughs")
  and external-entity attacks fail before anything is expanded. CycloneDX XML
  never needs a DTD.
* **Bounded nesting.** Nested ``components`` (and ``services``) are walked
  with an explicit depth limit (:data:`checker.inputs.MAX_DEPTH`) so a hostile
  file cannot exhaust the stack.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn
from xml.etree.ElementTree import Element, ParseError, TreeBuilder
from xml.parsers.expat import ErrorString

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from checker.errors import InputError
from checker.images import image_from_component
from checker.inputs import MAX_DEPTH, TOO_DEEP, excerpt, gc_paused, json_type, only_input_errors
from checker.matching import purl_parts
from checker.model import (
    Component,
    EvidenceForm,
    Kind,
    LicenseEvidence,
    Note,
    Origin,
    ReadResult,
    Severity,
)

FORMAT_JSON = "cyclonedx-json"
FORMAT_XML = "cyclonedx-xml"

#: Minor versions of CycloneDX 1.x this reader was written against.
SUPPORTED_MINORS = range(2, 8)

#: purl types of operating-system distribution packages. A ``library`` with
#: such a purl was installed by the distribution's package manager (Trivy and
#: Syft label dpkg/apk/rpm packages ``library``), which matters to the gate
#: because a distribution inside an image is aggregation, not linking.
OS_PURL_TYPES = frozenset({"deb", "apk", "rpm", "alpm"})

_KINDS: dict[str, Kind] = {
    "library": Kind.LIBRARY,
    "framework": Kind.LIBRARY,
    "application": Kind.APPLICATION,
    "container": Kind.IMAGE,
    "operating-system": Kind.OS_PACKAGE,
    "platform": Kind.OTHER,
    "device": Kind.OTHER,
    "device-driver": Kind.OTHER,
    "firmware": Kind.OTHER,
    "file": Kind.OTHER,
    "machine-learning-model": Kind.OTHER,
    "data": Kind.OTHER,
    "cryptographic-asset": Kind.OTHER,
}

#: The one declared ``type`` a distribution purl turns into an OS package:
#: ``library`` is how Trivy and Syft label every dpkg/apk/rpm package. Any
#: other type (``application``, ``framework``, ``container``, ``firmware``...)
#: contradicts the purl; such a component is judged by its declared type and
#: the contradiction is an error. A missing type is read as ``library``.
_OS_PURL_TYPE_AGREES = "library"
#: The canonical spelling of those purls, checked before the full parse.
_OS_PURL_PREFIXES = tuple(f"pkg:{t}/" for t in sorted(OS_PURL_TYPES))

#: Local names of the XML elements that are or hold components or services,
#: and of license entries and their fields. One of these that cannot be read
#: where it stands (in another namespace, ``xmlns=""`` or another CycloneDX
#: version's included, or in the wrong place) may hide a component or a
#: license, so it is an error rather than an extension skipped in silence. No
#: CycloneDX 1.x element has a child of these names other than the ones this
#: reader reads. Tuples, so that ``str.endswith`` can screen a tag first.
_HOLDERS = ("component", "components", "service", "services")
_LICENSE_ENTRIES = ("license", "expression", "expression-detailed")
_LICENSE_FIELDS = ("id", "name")

#: Keys of a nameless JSON component that say nothing the policy judges:
#: a nameless entry with only these is skipped with a warning (its nested
#: components are still read); anything else makes it an error.
_NAMELESS_IGNORABLE = frozenset({"type", "name", "bom-ref", "components", "services"})
#: The same for the attributes of an XML element.
_NAMELESS_ATTRIBUTES = frozenset({"type", "bom-ref"})

#: Marks a key that is absent, as opposed to present with ``null``.
_ABSENT: Any = object()


#: name, version, purl, group, scope, licenses and nested list of an XML element.
_Fields = tuple[
    str | None, str | None, str | None, str | None, str | None, Element | None, Element | None
]

_SPEC_VERSION = re.compile(r"^\s*(\d+)\.(\d+)(?:\.\d+)?\s*$")
_XML_NAMESPACE = re.compile(r"^https?://cyclonedx\.org/schema/bom/(\d+)\.(\d+)$")


class _Reader:
    """State shared while one document is read: its path, version and results.

    One object per document keeps the hot loops free of closures and lets the
    rare paths (notes, coercions) live in methods the common path never calls.
    """

    def __init__(self, path: str, fmt: str) -> None:
        self.path = path
        self.result = ReadResult(path=path, format=fmt)
        self.components = self.result.components
        self.notes = self.result.notes
        #: Minor version of CycloneDX 1.x, or None when it is not known.
        self.minor: int | None = None
        self._noted: set[str] = set()

    def note(self, location: str, message: str) -> None:
        self.notes.append(Note(Origin(self.path, location), message))

    def error(self, location: str, message: str) -> None:
        """A note that fails the run: something that may be a component was not read."""
        self.notes.append(Note(Origin(self.path, location), message, Severity.ERROR))

    def note_once(self, key: str, location: str, message: str) -> None:
        """A note for the first occurrence only: one finding, not one per entry."""
        if key not in self._noted:
            self._noted.add(key)
            self.note(location, message)

    def fail(self, location: str, message: str) -> NoReturn:
        raise InputError(self.path, location, message)

    def check_version(self, major: int, minor: int, location: str, shown: str) -> None:
        """Accept 1.2-1.7, warn on other 1.x, refuse any other major version.

        CycloneDX keeps minor versions backwards compatible, so a newer 1.x is
        read rather than failing a gate run; a 2.x BOM is a different schema,
        and reading it as 1.x could silently miss components.
        """
        if major != 1:
            self.fail(
                location,
                f"is CycloneDX {shown}, which is not supported (expected 1.2 to 1.7); "
                "export CycloneDX 1.6 instead",
            )
        self.minor = minor
        if minor > SUPPORTED_MINORS[-1]:
            self.note(
                location,
                f"CycloneDX {shown} is newer than the supported 1.2-1.7; read as 1.7, "
                "fields added later are ignored",
            )
        elif minor < SUPPORTED_MINORS[0]:
            self.note(
                location,
                f"CycloneDX {shown} is older than the supported 1.2-1.7; "
                "read on a best-effort basis",
            )

    def too_deep(self, location: str, what: str = "components") -> NoReturn:
        self.fail(
            location,
            f"nests {what} more than {MAX_DEPTH} levels deep; refusing to read further "
            "(real BOMs nest a few levels; this looks broken or hostile)",
        )

    def unknown_type(self, value: Any, location: str) -> Kind:
        """Kind for a missing or unrecognised component type (``location`` is the type's)."""
        if value is None:
            self.note(location, "component has no type; read as a library")
            return Kind.LIBRARY
        self.note(
            location,
            f'is {value!r}, not a component type of CycloneDX 1.2-1.7; read as kind "other"',
        )
        return Kind.OTHER

    def os_kind(self, ctype: Any, kind: Kind, purl: str, location: str) -> Kind:
        """The kind of a component whose purl looks like a distribution package's.

        Runs only for ``pkg:deb/``-like purls, so the full check can afford to
        parse. OS-package status relaxes the policy (GPL is aggregation there),
        so it needs a purl that parses and a declared type that agrees; in any
        other case the component keeps its declared kind, the stricter reading.
        ``location`` is the purl's.
        """
        if purl_parts(purl) is None:
            self.note(
                location,
                f"{excerpt(purl, 60)} is not a valid package URL, so it does not make the "
                f"component an OS package; judged as {kind.value}",
            )
            return kind
        if ctype is None or ctype == _OS_PURL_TYPE_AGREES:
            return Kind.OS_PACKAGE
        shown = excerpt(ctype, 40) if type(ctype) is str else json_type(ctype)
        self.error(
            location,
            f"is an operating-system package URL ({excerpt(purl, 60)}), but the component's "
            f"type is {shown}; judged as {kind.value}, not as an OS package",
        )
        return kind

    def nameless(self, purl: str | None, stated: bool, location: str, what: str) -> str | None:
        """Name for a component without one: from its purl, else None (noted).

        ``stated`` says whether the entry holds anything beyond what
        :data:`_NAMELESS_IGNORABLE` lists: an entry that states a license,
        version or anything else cannot simply be skipped.
        """
        if purl is not None:
            parts = purl_parts(purl)
            if parts is not None:
                self.note(
                    location, f"{what} has no name; named {excerpt(parts[2], 60)} after its purl"
                )
                return parts[2]
            self.error(
                location,
                f"{what} has no name, and its purl {excerpt(purl, 60)} does not parse; "
                "it cannot be checked",
            )
            return None
        if stated:
            also = " and no purl" if what == "component" else ""
            self.error(location, f"{what} has no name{also}; it cannot be checked")
        else:
            self.note(location, f"{what} has no name and states nothing else; skipped")
        return None

    def check_mixed(self, location: str, count: int) -> None:
        """Warn about an expression beside other entries where 1.5/1.6 forbid it.

        Trivy writes such lists. All entries are read (and combined with AND):
        dropping any would hide a license statement the producer made.
        """
        if self.minor in (5, 6) and count > 1:
            self.note(
                location,
                f"mixes a license expression with {count - 1} other entr"
                f"{'y' if count == 2 else 'ies'}, which CycloneDX 1.{self.minor} forbids; "
                "all are read and must all be satisfied",
            )


# --------------------------------------------------------------------------- JSON


def read_json(doc: dict[str, Any], path: str) -> ReadResult:
    """Read a parsed CycloneDX JSON document (``bomFormat``/``specVersion``)."""

    def read() -> ReadResult:
        with gc_paused():
            return _JsonReader(path).read(doc)

    return only_input_errors(path, "CycloneDX JSON", read, where="$", too_deep=TOO_DEEP)


class _JsonReader(_Reader):
    def __init__(self, path: str) -> None:
        super().__init__(path, FORMAT_JSON)

    def read(self, doc: Any) -> ReadResult:
        if not isinstance(doc, dict):
            self.fail("$", f"is a JSON {json_type(doc)}, expected a CycloneDX BOM object")
        self._check_header(doc)

        metadata = doc.get("metadata", _ABSENT)
        if type(metadata) is dict:
            subject = metadata.get("component", _ABSENT)
            if type(subject) is dict:
                self._components([subject], "$.metadata.component", 1, (), True)
            elif subject is not _ABSENT:
                self.wrong_type(subject, "$.metadata.component", "a component object")
        elif metadata is not _ABSENT:
            self.wrong_type(metadata, "$.metadata", "an object (which holds the subject)")

        components = doc.get("components", _ABSENT)
        if components is not _ABSENT:
            self._components(components, "$.components", 1, (), False)
        services = doc.get("services", _ABSENT)
        if services is not _ABSENT:
            self._services(services, "$.services", 1)
        return self.result

    def wrong_type(self, value: Any, location: str, expected: str) -> None:
        """A section that holds components has the wrong JSON type (the rare path).

        ``null`` is an error note: a producer that lost its list writes it,
        and so does one that meant "none", and the reader cannot tell which.
        Any other type means the document is not the CycloneDX it claims to
        be, so it is refused rather than judged as if it held nothing.
        """
        if value is None:
            self.error(
                location,
                f"is null, expected {expected}; the components it should hold may be lost "
                "(omit the key, or write [], when there are none)",
            )
            return
        self.fail(
            location,
            f"is {json_type(value)}, expected {expected}; not the shape of a CycloneDX BOM, "
            "so its components cannot be read",
        )

    def _check_header(self, doc: dict[str, Any]) -> None:
        bom_format = doc.get("bomFormat")
        if bom_format is None:
            self.note("$", 'has no "bomFormat"; read as CycloneDX because of its "specVersion"')
        elif bom_format != "CycloneDX":
            if isinstance(bom_format, str) and bom_format.strip().lower() == "cyclonedx":
                self.note("$.bomFormat", f'is {bom_format!r}, expected exactly "CycloneDX"')
            else:
                self.fail("$.bomFormat", f'is {bom_format!r}, expected "CycloneDX"')

        spec = doc.get("specVersion")
        shown = str(spec)
        match = _SPEC_VERSION.match(spec) if isinstance(spec, str) else None
        if match is None and isinstance(spec, (int, float)) and not isinstance(spec, bool):
            # 1.4 written as a number; str() keeps what was written for such values.
            match = _SPEC_VERSION.match(shown)
            if match is not None:
                self.note("$.specVersion", f"is the number {shown}, expected the string {shown!r}")
        if match is None:
            if bom_format is None:
                self.fail(
                    "$.specVersion",
                    f"is {spec!r}; without a valid specVersion or bomFormat this is not "
                    "recognisably CycloneDX",
                )
            self.note(
                "$.specVersion",
                f'is {spec!r}, expected a version such as "1.6"; read as CycloneDX 1.x',
            )
            return
        self.check_version(int(match[1]), int(match[2]), "$.specVersion", shown.strip())

    def _components(
        self, items: Any, base: str, depth: int, parents: tuple[str, ...], subject: bool
    ) -> None:
        """Read an array of components (or, with ``subject``, the one subject).

        This loop is the hot path of the whole reader, so the common shape is
        handled inline with exact type checks and everything unusual goes to
        methods that a clean BOM never calls.
        """
        if depth > MAX_DEPTH:
            self.too_deep(base)
        if type(items) is not list:
            self.wrong_type(items, base, "an array of components")
            return
        path = self.path
        append = self.components.append
        licenses_of = self._licenses
        scalar = self._scalar
        kinds_get = _KINDS.get
        os_package = Kind.OS_PACKAGE
        for index, item in enumerate(items):
            location = base if subject else f"{base}[{index}]"
            if type(item) is not dict:
                self.not_an_object(item, location, "component")
                continue
            get = item.get
            name = get("name")
            if type(name) is not str or not name or name.isspace():
                name = scalar(name, f"{location}.name", "name")
            version = get("version")
            if version is not None and (type(version) is not str or not version):
                version = scalar(version, f"{location}.version", "version")
            purl = get("purl")
            if purl is not None and (type(purl) is not str or not purl):
                purl = scalar(purl, f"{location}.purl", "purl")
            group = get("group")
            if group is not None and (type(group) is not str or not group):
                group = scalar(group, f"{location}.group", "group")
            scope = get("scope")
            if scope is not None and type(scope) is not str:
                scope = scalar(scope, f"{location}.scope", "scope")

            ctype = get("type")
            kind = kinds_get(ctype) if type(ctype) is str else None
            if kind is None:
                kind = self.unknown_type(ctype, f"{location}.type")
            if purl is not None and kind is not os_package and _is_os_purl(purl):
                kind = self.os_kind(ctype, kind, purl, f"{location}.purl")

            children = get("components", _ABSENT)
            if (
                not subject
                and purl is None
                and type(ctype) is str
                and ctype in _TRIVY_TARGET_TYPES
                and not get("licenses")
                and _is_trivy_target(get("properties"))
            ):
                self.note_once(
                    "trivy-target",
                    location,
                    "Trivy's target entries (aquasecurity:trivy:Class) name what was scanned, "
                    "not a package; they are not checked as components",
                )
                if children is not _ABSENT:
                    self._components(children, f"{location}.components", depth + 1, parents, False)
                continue
            if name is None:
                name = self.nameless(
                    purl, not _NAMELESS_IGNORABLE.issuperset(item), location, "component"
                )
            if name is not None:
                licenses = get("licenses")
                component = Component(
                    name,
                    Origin(path, location),
                    version,
                    purl,
                    kind,
                    group,
                    licenses_of(licenses, location) if licenses else [],
                    None,
                    image_from_component(name, version, purl) if kind is Kind.IMAGE else None,
                    None,
                    subject,
                    scope,
                    parents,
                )
                append(component)
            if children is not _ABSENT and children != []:
                inner = (*parents, component.display) if name is not None else parents
                self._components(children, f"{location}.components", depth + 1, inner, False)

    def not_an_object(self, item: Any, location: str, what: str) -> None:
        """An entry of a component (or service) list that is not an object."""
        shown = f" {excerpt(item, 40)}" if type(item) is str else ""
        self.error(
            location, f"is {json_type(item)}{shown}, expected a {what} object; it cannot be read"
        )

    def _services(self, items: Any, location: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.too_deep(location, "services")
        if type(items) is not list:
            self.wrong_type(items, location, "an array of services")
            return
        for index, item in enumerate(items):
            here = f"{location}[{index}]"
            if type(item) is not dict:
                self.not_an_object(item, here, "service")
                continue
            name = self._scalar(item.get("name"), f"{here}.name", "name")
            if name is None:
                self.nameless(None, not _NAMELESS_IGNORABLE.issuperset(item), here, "service")
            else:
                licenses = item.get("licenses")
                self.components.append(
                    Component(
                        name=name,
                        origin=Origin(self.path, here),
                        version=self._scalar(item.get("version"), f"{here}.version", "version"),
                        group=self._scalar(item.get("group"), f"{here}.group", "group"),
                        kind=Kind.SERVICE,
                        licenses=self._licenses(licenses, here) if licenses else [],
                    )
                )
            nested = item.get("services", _ABSENT)
            if nested is not _ABSENT and nested != []:
                self._services(nested, f"{here}.services", depth + 1)

    def _licenses(self, entries: Any, owner: str) -> list[LicenseEvidence]:
        """Read a ``licenses`` list: one evidence per entry, combined with AND.

        ``{"license": {...}}`` and a lone ``{"expression": ...}`` are read
        inline; every other shape goes to :meth:`_odd_license`.
        """
        if type(entries) is not list:
            return self._odd_licenses(entries, f"{owner}.licenses")
        path = self.path
        found: list[LicenseEvidence] = []
        expressions = 0
        for index, entry in enumerate(entries):
            if type(entry) is dict:
                license_ = entry.get("license")
                if type(license_) is dict and "expression" not in entry:
                    get = license_.get
                    text = get("id")
                    if type(text) is str and text:
                        field = "id"
                    else:
                        text = get("name")
                        field = "name"
                    if type(text) is str and text.strip():
                        ack = get("acknowledgement")
                        found.append(
                            LicenseEvidence(
                                text,
                                Origin(path, f"{owner}.licenses[{index}].license.{field}"),
                                EvidenceForm(field),
                                ack if type(ack) is str else None,
                            )
                        )
                        continue
                elif license_ is None:
                    text = entry.get("expression")
                    if type(text) is str and text.strip():
                        expressions += 1
                        ack = entry.get("acknowledgement")
                        found.append(
                            LicenseEvidence(
                                text,
                                Origin(path, f"{owner}.licenses[{index}].expression"),
                                EvidenceForm.EXPRESSION,
                                ack if type(ack) is str else None,
                            )
                        )
                        continue
            expressions += self._odd_license(entry, f"{owner}.licenses[{index}]", found)
        if expressions:
            self.check_mixed(f"{owner}.licenses", len(entries))
        return found

    def _odd_licenses(self, entries: Any, location: str) -> list[LicenseEvidence]:
        """A ``licenses`` value that is not an array (the rare path)."""
        if type(entries) is dict:
            self.note(location, "is an object, expected an array of licenses; read as one entry")
            found: list[LicenseEvidence] = []
            self._odd_license(entries, f"{location}", found, single=True)
            return found
        if type(entries) is str and entries.strip():
            self.note(
                location, "is a string, expected an array of licenses; read as a license name"
            )
            return [LicenseEvidence(entries, Origin(self.path, location), EvidenceForm.NAME)]
        self.note(location, f"is {json_type(entries)}, expected an array; ignored")
        return []

    def _odd_license(
        self, entry: Any, here: str, found: list[LicenseEvidence], single: bool = False
    ) -> int:
        """Read one license entry of an unusual shape; returns 1 if it had an expression.

        Whatever can be read is kept (so the gate still sees the statement) and
        every repair is noted. ``single`` marks an entry that stood alone in
        place of the array, which has no index of its own.
        """
        path = self.path
        if type(entry) is not dict:
            if type(entry) is str and entry.strip():
                self.note(
                    here,
                    'is a bare string, expected {"license": ...} or {"expression": ...}; '
                    "read as a license name",
                )
                found.append(LicenseEvidence(entry, Origin(path, here), EvidenceForm.NAME))
            else:
                self.note(here, f"is {json_type(entry)}, expected a license object; ignored")
            return 0
        license_ = entry.get("license")
        expression = entry.get("expression")
        if type(license_) is dict:
            ack = license_.get("acknowledgement")
            ack = ack if type(ack) is str else None
            spdx_id = license_.get("id")
            name = license_.get("name")
            if type(spdx_id) is str and spdx_id.strip():
                found.append(
                    LicenseEvidence(
                        spdx_id, Origin(path, f"{here}.license.id"), EvidenceForm.ID, ack
                    )
                )
            elif type(name) is str and name.strip():
                found.append(
                    LicenseEvidence(
                        name, Origin(path, f"{here}.license.name"), EvidenceForm.NAME, ack
                    )
                )
            else:
                self.note(
                    f"{here}.license",
                    'has neither an "id" nor a "name"; this entry states no license',
                )
        elif license_ is not None:
            self.note(f"{here}.license", f"is {json_type(license_)}, expected an object; ignored")
        if expression is None:
            if license_ is None:
                self.note(
                    here, 'has neither "license" nor "expression"; this entry states no license'
                )
            return 0
        if type(expression) is str and expression.strip():
            ack = entry.get("acknowledgement")
            found.append(
                LicenseEvidence(
                    expression,
                    Origin(path, f"{here}.expression"),
                    EvidenceForm.EXPRESSION,
                    ack if type(ack) is str else None,
                )
            )
        else:
            self.note(
                f"{here}.expression",
                f"is {json_type(expression)} {expression!r}, expected an SPDX expression; ignored",
            )
        if license_ is not None:
            self.note(here, 'has both "license" and "expression"; both are read')
        return 0 if single else 1

    def _scalar(self, value: Any, location: str, field: str) -> str | None:
        """Coerce a field that should be a non-empty string (the rare path)."""
        if value is None:
            return None
        if type(value) is str:
            # An empty string is how some producers say "absent"; for a name the
            # caller notes the skipped component.
            return value if value.strip() else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            text = str(value)
            self.note(
                location,
                f"{field} is the JSON number {text}, read as the string {text!r} "
                "(a number can lose digits such as trailing zeros; quote it)",
            )
            return text
        self.note(location, f"{field} is {json_type(value)}, expected a string; ignored")
        return None


# --------------------------------------------------------------------------- XML


def read_xml(data: bytes, path: str) -> ReadResult:
    """Read CycloneDX XML bytes; the spec version comes from the namespace."""

    def read() -> ReadResult:
        root = _parse_xml(data, path)
        with gc_paused():
            return _XmlReader(path).read(root)

    return only_input_errors(path, "CycloneDX XML", read, where="/", too_deep=TOO_DEEP)


def _parse_xml(data: bytes, path: str) -> Element:
    """Parse with every DTD, entity and external reference refused, with positions.

    This is ``defusedxml.ElementTree.fromstring(data, forbid_dtd=True,
    forbid_entities=True, forbid_external=True)`` spelt out, so that a refused
    construct can be reported with the line and column where expat stopped.
    """
    skipped_lines = 0
    if data[:1].isspace():  # detection allows whitespace before "<"; expat does not
        stripped = data.lstrip()
        skipped_lines = data.count(b"\n", 0, len(data) - len(stripped))
        data = stripped
    parser = DefusedXMLParser(
        target=TreeBuilder(), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )

    def where() -> str:
        expat = parser.parser
        return (
            f"line {expat.CurrentLineNumber + skipped_lines} column {expat.CurrentColumnNumber + 1}"
        )

    try:
        parser.feed(data)
        root: Element = parser.close()
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        reason = ErrorString(exc.code) if isinstance(getattr(exc, "code", None), int) else str(exc)
        raise InputError(
            path,
            f"line {line + skipped_lines} column {column + 1}",
            f"is not well-formed XML: {reason}",
        ) from None
    except DTDForbidden:
        raise InputError(
            path,
            where(),
            "contains a document type declaration (<!DOCTYPE>), which is refused: CycloneDX "
            "XML never needs one, and DTDs enable entity-expansion and external-entity attacks",
        ) from None
    except EntitiesForbidden as exc:
        raise InputError(
            path,
            where(),
            f"declares the XML entity {exc.name!r}, which is refused (entity "
            "expansion can exhaust memory)",
        ) from None
    except ExternalReferenceForbidden as exc:
        raise InputError(
            path,
            where(),
            f"references the external resource {exc.sysid!r}, which is refused "
            "(an SBOM must not make the reader fetch or open other files)",
        ) from None
    except (ValueError, TypeError, LookupError, RecursionError, AttributeError) as exc:
        # e.g. LookupError for an unknown declared encoding
        raise InputError(path, "line 1", f"could not be parsed as XML: {exc}") from None
    return root


class _XmlReader(_Reader):
    def __init__(self, path: str) -> None:
        super().__init__(path, FORMAT_XML)
        self.ns = ""
        self.namespace = ""

    def read(self, root: Element) -> ReadResult:
        tag = root.tag if isinstance(root.tag, str) else ""
        namespace, local = _split_tag(tag)
        if local != "bom":
            self.fail("/", f"is XML with root element <{local or tag}>, not a CycloneDX <bom>")
        match = _XML_NAMESPACE.match(namespace)
        if match is not None:
            major, minor = int(match[1]), int(match[2])
            self.check_version(major, minor, "/bom", f"{major}.{minor}")
        elif namespace:
            self.fail(
                "/bom",
                f"has the namespace {excerpt(namespace, 80)}, not a CycloneDX one "
                "(http://cyclonedx.org/schema/bom/1.N)",
            )
        else:
            self.note("/bom", "has no CycloneDX namespace, so its version is unknown; read as 1.x")
        prefix = f"{{{namespace}}}" if namespace else ""
        self.ns = prefix
        self.namespace = namespace
        self.t_metadata = f"{prefix}metadata"
        self.t_component = f"{prefix}component"
        self.t_components = f"{prefix}components"
        self.t_service = f"{prefix}service"
        self.t_services = f"{prefix}services"
        self.t_name = f"{prefix}name"
        self.t_version = f"{prefix}version"
        self.t_group = f"{prefix}group"
        self.t_purl = f"{prefix}purl"
        self.t_scope = f"{prefix}scope"
        self.t_licenses = f"{prefix}licenses"
        self.t_license = f"{prefix}license"
        self.t_expression = f"{prefix}expression"
        self.t_expression_detailed = f"{prefix}expression-detailed"
        self.t_id = f"{prefix}id"

        for child in root:
            if child.tag == self.t_metadata:
                self._metadata(child)
        for position, child in enumerate(root, 1):
            tag = child.tag
            if tag == self.t_components:
                self._components(child, "/bom/components", 1, ())
            elif tag == self.t_services:
                self._services(child, "/bom/services", 1)
            elif tag != self.t_metadata and type(tag) is str:
                local = _split_tag(tag)[1]
                # a foreign <metadata> matters only if it holds a <component>
                if local in _HOLDERS or (
                    local == "metadata"
                    and any(
                        type(item.tag) is str and _split_tag(item.tag)[1] == "component"
                        for item in child
                    )
                ):
                    self.unplaced(child, f"/bom/*[{position}]", "<bom>")
        return self.result

    def _metadata(self, element: Element) -> None:
        """The subject: the one <component> of <metadata>."""
        seen = False
        for position, item in enumerate(element, 1):
            tag = item.tag
            if tag == self.t_component:
                if seen:
                    self.error(
                        f"/bom/metadata/*[{position}]",
                        "is a second <component> in <metadata>, which holds one (the "
                        "subject); it cannot be placed",
                    )
                    continue
                seen = True
                self._component(item, "/bom/metadata/component", 1, (), True)
            elif type(tag) is str and _split_tag(tag)[1] == "component":
                self.unplaced(item, f"/bom/metadata/*[{position}]", "<metadata>")

    def unplaced(self, element: Element, location: str, parent: str) -> None:
        """An element that may hold components, but not where this reader reads them.

        In another namespace (including ``xmlns=""`` or another CycloneDX
        version's) it could be an extension's own element that merely shares
        the name, so it is not read with CycloneDX meaning; in the document's
        namespace it stands where CycloneDX does not put it. Either way what it
        holds would vanish, so it is an error, not a skipped extension.
        """
        namespace, local = _split_tag(element.tag)
        if namespace != self.namespace:
            where = (
                f"namespace {excerpt(namespace, 60)}" if namespace else 'no namespace (xmlns="")'
            )
            ours = excerpt(self.namespace, 60) if self.namespace else "(none)"
            self.error(
                location,
                f"<{local}> element in {where}, not the document's CycloneDX namespace "
                f"{ours}; it cannot be placed, so what it holds is not checked",
            )
        else:
            self.error(
                location,
                f"<{local}> is not allowed directly in {parent}; it cannot be placed, so "
                "what it holds is not checked",
            )

    def _components(
        self, element: Element, location: str, depth: int, parents: tuple[str, ...]
    ) -> None:
        if depth > MAX_DEPTH:
            self.too_deep(location)
        t_component = self.t_component
        index = 0
        for position, child in enumerate(element, 1):
            if child.tag == t_component:
                index += 1
                self._component(child, f"{location}/component[{index}]", depth, parents, False)
            else:
                self._stray(child, location, position, "component", _HOLDERS)

    def _fields(
        self, element: Element, location: str, nested_tag: str, holders: tuple[str, ...]
    ) -> _Fields:
        """What a <component> or <service> states, with the list nested in it.

        Each field is read where it stands. A name, version or purl stated
        twice with different values is an error (the last one is used); the
        entries of a repeated <licenses> are all read.
        """
        name = version = purl = group = scope = None
        licenses: Element | None = None
        nested: Element | None = None
        for position, child in enumerate(element, 1):
            tag = child.tag
            if tag == self.t_name:
                if name is not None:
                    self.repeated(child, name, location)
                name = _text(child)
            elif tag == self.t_version:
                if version is not None:
                    self.repeated(child, version, location)
                version = _text(child)
            elif tag == self.t_purl:
                if purl is not None:
                    self.repeated(child, purl, location)
                purl = _text(child)
            elif tag == self.t_group:
                group = _text(child)
            elif tag == self.t_licenses:
                licenses = child if licenses is None else self.merged(licenses, child, location)
            elif tag == self.t_scope:
                scope = _text(child)
            elif tag == nested_tag:
                nested = child
            elif type(tag) is str and tag.endswith(holders) and _split_tag(tag)[1] in holders:
                self.unplaced(child, f"{location}/*[{position}]", f"<{_split_tag(element.tag)[1]}>")
        return name, version, purl, group, scope, licenses, nested

    def repeated(self, element: Element, first: str, location: str) -> None:
        """A second <name>, <version> or <purl> in one component (the rare path)."""
        second = _text(element)
        if second != first:
            local = _split_tag(element.tag)[1]
            self.error(
                f"{location}/{local}",
                f"<{local}> is stated twice, as {excerpt(first, 40)} and "
                f"{excerpt(second or '', 40)}; CycloneDX allows one, the last is used and the "
                "component may be misidentified",
            )

    def merged(self, first: Element, second: Element, location: str) -> Element:
        """Both of two <licenses> elements, so that no license statement is lost."""
        self.note(
            f"{location}/licenses",
            "<licenses> is stated more than once, which CycloneDX does not allow; the entries "
            "of all are read (and numbered across them)",
        )
        both = Element(first.tag)
        both.extend(list(first))
        both.extend(list(second))
        return both

    def _component(
        self, element: Element, location: str, depth: int, parents: tuple[str, ...], subject: bool
    ) -> None:
        name, version, purl, group, scope, licenses, children = self._fields(
            element, location, self.t_components, _HOLDERS
        )

        ctype = element.get("type")
        kind = _KINDS.get(ctype) if ctype is not None else None
        if kind is None:
            kind = self.unknown_type(ctype, f"{location}/@type")
        if purl is not None and kind is not Kind.OS_PACKAGE and _is_os_purl(purl):
            kind = self.os_kind(ctype, kind, purl, f"{location}/purl")

        if name is None:
            name = self.nameless(
                purl, self.states_more(element, self.t_components), location, "component"
            )
        if name is not None:
            component = Component(
                name,
                Origin(self.path, location),
                version,
                purl,
                kind,
                group,
                self._licenses(licenses, location) if licenses is not None else [],
                None,
                image_from_component(name, version, purl) if kind is Kind.IMAGE else None,
                None,
                subject,
                scope,
                parents,
            )
            self.components.append(component)
            parents = (*parents, component.display) if children is not None else parents
        if children is not None:
            self._components(children, f"{location}/components", depth + 1, parents)

    def states_more(self, element: Element, nested_tag: str) -> bool:
        """Whether a nameless element holds more than an empty name and nested ones."""
        if any(key not in _NAMELESS_ATTRIBUTES for key in element.attrib):
            return True
        return any(child.tag not in (self.t_name, nested_tag) for child in element)

    def _services(self, element: Element, location: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.too_deep(location, "services")
        index = 0
        for position, service in enumerate(element, 1):
            if service.tag != self.t_service:
                self._stray(service, location, position, "service", _HOLDERS)
                continue
            index += 1
            here = f"{location}/service[{index}]"
            # a service has no purl or scope: CycloneDX does not define them there
            name, version, _, group, _, licenses, nested = self._fields(
                service, here, self.t_services, _HOLDERS
            )
            if name is None:
                self.nameless(None, self.states_more(service, self.t_services), here, "service")
            else:
                self.components.append(
                    Component(
                        name=name,
                        origin=Origin(self.path, here),
                        version=version,
                        group=group,
                        kind=Kind.SERVICE,
                        licenses=self._licenses(licenses, here) if licenses is not None else [],
                    )
                )
            if nested is not None:
                self._services(nested, f"{here}/services", depth + 1)

    def _licenses(self, element: Element, owner: str) -> list[LicenseEvidence]:
        location = f"{owner}/licenses"
        path = self.path
        found: list[LicenseEvidence] = []
        counts = {"license": 0, "expression": 0, "expression-detailed": 0}
        entries = 0
        for position, entry in enumerate(element, 1):
            tag = entry.tag
            if tag == self.t_license:
                entries += 1
                counts["license"] += 1
                here = f"{location}/license[{counts['license']}]"
                spdx_id = name = None
                for field_position, child in enumerate(entry, 1):
                    if child.tag == self.t_id:
                        spdx_id = _text(child)
                    elif child.tag == self.t_name:
                        name = _text(child)
                    elif type(child.tag) is str and _split_tag(child.tag)[1] in _LICENSE_FIELDS:
                        self.unplaced(child, f"{here}/*[{field_position}]", "<license>")
                ack = entry.get("acknowledgement")
                if spdx_id is not None:
                    found.append(
                        LicenseEvidence(spdx_id, Origin(path, f"{here}/id"), EvidenceForm.ID, ack)
                    )
                elif name is not None:
                    found.append(
                        LicenseEvidence(name, Origin(path, f"{here}/name"), EvidenceForm.NAME, ack)
                    )
                else:
                    self.note(here, "has neither <id> nor <name>; this entry states no license")
            elif tag == self.t_expression:
                entries += 1
                counts["expression"] += 1
                here = f"{location}/expression[{counts['expression']}]"
                text = _text(entry)
                if text is None:
                    self.note(here, "is empty, expected an SPDX expression; ignored")
                else:
                    found.append(
                        LicenseEvidence(
                            text,
                            Origin(path, here),
                            EvidenceForm.EXPRESSION,
                            entry.get("acknowledgement"),
                        )
                    )
            elif tag == self.t_expression_detailed:  # CycloneDX 1.7
                entries += 1
                counts["expression-detailed"] += 1
                here = f"{location}/expression-detailed[{counts['expression-detailed']}]"
                text = (entry.get("expression") or "").strip()
                if not text:
                    self.note(here, "has no expression attribute; ignored")
                else:
                    found.append(
                        LicenseEvidence(
                            text,
                            Origin(path, f"{here}/@expression"),
                            EvidenceForm.EXPRESSION,
                            entry.get("acknowledgement"),
                        )
                    )
            else:
                self._stray(entry, location, position, "license", _LICENSE_ENTRIES)
        if counts["expression"] or counts["expression-detailed"]:
            self.check_mixed(location, entries)
        return found

    def _stray(
        self,
        element: Element,
        location: str,
        position: int,
        expected: str,
        holders: tuple[str, ...],
    ) -> None:
        """An element where a <component>, <service> or license entry was expected.

        One whose local name is such an entry (or a list of them) but which is
        not in the document's namespace, or not in its place, is an error
        (:meth:`unplaced`). Other elements of the document's namespace are
        noted; elements of other namespaces are extensions the schema allows
        and are skipped silently.
        """
        tag = element.tag
        if not isinstance(tag, str):  # comments and processing instructions
            return
        namespace, local = _split_tag(tag)
        if local in holders:
            self.unplaced(element, f"{location}/*[{position}]", f"<{location.rsplit('/', 1)[-1]}>")
        elif f"{{{namespace}}}" == self.ns or (not namespace and not self.ns):
            self.note(
                f"{location}/{local}",
                f"unexpected element <{local}>, expected <{expected}>; skipped",
            )


_TRIVY_TARGET_TYPES = frozenset({"application", "operating-system"})


def _is_trivy_target(properties: Any) -> bool:
    """Trivy marks the lockfile or OS it scanned with an ``aquasecurity:trivy:Class``."""
    if type(properties) is not list:
        return False
    return any(type(p) is dict and p.get("name") == "aquasecurity:trivy:Class" for p in properties)


def _split_tag(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _text(element: Element) -> str | None:
    text = element.text
    if text is None:
        return None
    text = text.strip()
    return text or None


# --------------------------------------------------------------------------- purls


def _is_os_purl(purl: str) -> bool:
    """Whether a purl names a distribution package (``pkg:deb/...`` and kin).

    Runs for every component, so it looks at the first nine characters only
    (``pkg:alpm/`` is the longest prefix); purl schemes and types are
    case-insensitive. The rare ``pkg:/deb/...`` spelling is split properly.
    """
    head = purl[:9].lower()
    if head.startswith(_OS_PURL_PREFIXES):
        return True
    return head.startswith("pkg:/") and _purl_type(purl) in OS_PURL_TYPES


def _purl_type(purl: str) -> str:
    """The purl type (``deb`` in ``pkg:deb/debian/bash@5.2``), lower-cased.

    Written by hand because packageurl-python validates and decodes the whole
    purl, which would dominate the reading time of a large BOM.
    """
    if purl[:4].lower() != "pkg:":
        return ""
    rest = purl[4:].lstrip("/")
    end = rest.find("/")
    return rest[:end].lower() if end > 0 else ""
