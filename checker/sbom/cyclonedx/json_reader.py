"""The CycloneDX JSON reader (``bomFormat``/``specVersion``), spec versions 1.2 to 1.7.

See :mod:`checker.sbom.cyclonedx` for what is read and why. Locations are
JSON paths (``$.components[3].components[0]``).
"""

from __future__ import annotations

import re
from typing import Any

from checker.images import image_from_component
from checker.inputs import MAX_DEPTH, TOO_DEEP, excerpt, gc_paused, json_type, only_input_errors
from checker.model import Component, EvidenceForm, Kind, LicenseEvidence, Origin, ReadResult
from checker.readers import Source
from checker.sbom.cyclonedx._common import _KINDS, FORMAT_JSON, BomReader, _is_os_purl, name_form

#: Keys of a nameless JSON component that say nothing the policy judges:
#: a nameless entry with only these is skipped with a warning (its nested
#: components are still read); anything else makes it an error.
_NAMELESS_IGNORABLE = frozenset({"type", "name", "bom-ref", "components", "services"})

#: Marks a key that is absent, as opposed to present with ``null``.
_ABSENT: Any = object()

_SPEC_VERSION = re.compile(r"^\s*(\d+)\.(\d+)(?:\.\d+)?\s*$")


def claims(source: Source) -> bool:
    """A JSON object that says it is CycloneDX, or has its ``specVersion`` and ``components``."""
    doc = source.json()
    return isinstance(doc, dict) and (
        doc.get("bomFormat") == "CycloneDX" or ("specVersion" in doc and "components" in doc)
    )


def read_source(source: Source) -> ReadResult:
    return read_json(source.json(), source.name)


def read_json(doc: dict[str, Any], path: str) -> ReadResult:
    """Read a parsed CycloneDX JSON document (``bomFormat``/``specVersion``)."""

    def read() -> ReadResult:
        with gc_paused():
            return _JsonReader(path).read(doc)

    return only_input_errors(path, "CycloneDX JSON", read, where="$", too_deep=TOO_DEEP)


class _JsonReader(BomReader):
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
            self.notes.error(
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
            self.notes.warn(
                "$", 'has no "bomFormat"; read as CycloneDX because of its "specVersion"'
            )
        elif bom_format != "CycloneDX":
            if isinstance(bom_format, str) and bom_format.strip().lower() == "cyclonedx":
                self.notes.warn("$.bomFormat", f'is {bom_format!r}, expected exactly "CycloneDX"')
            else:
                self.fail("$.bomFormat", f'is {bom_format!r}, expected "CycloneDX"')

        spec = doc.get("specVersion")
        shown = str(spec)
        match = _SPEC_VERSION.match(spec) if isinstance(spec, str) else None
        if match is None and isinstance(spec, (int, float)) and not isinstance(spec, bool):
            # 1.4 written as a number; str() keeps what was written for such values.
            match = _SPEC_VERSION.match(shown)
            if match is not None:
                self.notes.warn(
                    "$.specVersion", f"is the number {shown}, expected the string {shown!r}"
                )
        if match is None:
            if bom_format is None:
                self.fail(
                    "$.specVersion",
                    f"is {spec!r}; without a valid specVersion or bomFormat this is not "
                    "recognisably CycloneDX",
                )
            self.notes.warn(
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
                self.notes.once(
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
        self.notes.error(
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
                                EvidenceForm.ID if field == "id" else name_form(text),
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
            self.notes.warn(
                location, "is an object, expected an array of licenses; read as one entry"
            )
            found: list[LicenseEvidence] = []
            self._odd_license(entries, f"{location}", found, single=True)
            return found
        if type(entries) is str and entries.strip():
            self.notes.warn(
                location, "is a string, expected an array of licenses; read as a license name"
            )
            return [LicenseEvidence(entries, Origin(self.path, location), name_form(entries))]
        self.notes.warn(location, f"is {json_type(entries)}, expected an array; ignored")
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
                self.notes.warn(
                    here,
                    'is a bare string, expected {"license": ...} or {"expression": ...}; '
                    "read as a license name",
                )
                found.append(LicenseEvidence(entry, Origin(path, here), name_form(entry)))
            else:
                self.notes.warn(here, f"is {json_type(entry)}, expected a license object; ignored")
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
                        name, Origin(path, f"{here}.license.name"), name_form(name), ack
                    )
                )
            else:
                self.notes.warn(
                    f"{here}.license",
                    'has neither an "id" nor a "name"; this entry states no license',
                )
        elif license_ is not None:
            self.notes.warn(
                f"{here}.license", f"is {json_type(license_)}, expected an object; ignored"
            )
        if expression is None:
            if license_ is None:
                self.notes.warn(
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
            self.notes.warn(
                f"{here}.expression",
                f"is {json_type(expression)} {expression!r}, expected an SPDX expression; ignored",
            )
        if license_ is not None:
            self.notes.warn(here, 'has both "license" and "expression"; both are read')
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
            self.notes.warn(
                location,
                f"{field} is the JSON number {text}, read as the string {text!r} "
                "(a number can lose digits such as trailing zeros; quote it)",
            )
            return text
        self.notes.warn(location, f"{field} is {json_type(value)}, expected a string; ignored")
        return None


_TRIVY_TARGET_TYPES = frozenset({"application", "operating-system"})


def _is_trivy_target(properties: Any) -> bool:
    """Trivy marks the lockfile or OS it scanned with an ``aquasecurity:trivy:Class``."""
    if type(properties) is not list:
        return False
    return any(type(p) is dict and p.get("name") == "aquasecurity:trivy:Class" for p in properties)
