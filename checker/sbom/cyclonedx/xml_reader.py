"""The CycloneDX XML reader, spec versions 1.2 to 1.7 (the version from the namespace).

See :mod:`checker.sbom.cyclonedx` for what is read and why. Locations are
1-based XML paths (``/bom/components/component[4]``). XML is parsed by
:func:`~checker.sbom.cyclonedx.xml_parse.parse_xml`, with DTDs, entity
declarations and external references all forbidden.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from checker.images import image_from_component
from checker.inputs import MAX_DEPTH, TOO_DEEP, excerpt, gc_paused, only_input_errors
from checker.model import Component, EvidenceForm, Kind, LicenseEvidence, Origin, ReadResult
from checker.readers import Source
from checker.sbom.cyclonedx._common import _KINDS, FORMAT_XML, BomReader, _is_os_purl, name_form
from checker.sbom.cyclonedx.xml_parse import parse_xml

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

#: Attributes of a nameless element that say nothing the policy judges.
_NAMELESS_ATTRIBUTES = frozenset({"type", "bom-ref"})

_XML_NAMESPACE = re.compile(r"^https?://cyclonedx\.org/schema/bom/(\d+)\.(\d+)$")

#: name, version, purl, group, scope, licenses and nested list of an XML element.
_Fields = tuple[
    str | None, str | None, str | None, str | None, str | None, Element | None, Element | None
]


def claims(source: Source) -> bool:
    """Every XML input: CycloneDX is the one XML format read (others are refused by the reader)."""
    return True


def read_source(source: Source) -> ReadResult:
    return read_xml(source.data, source.name)


def read_xml(data: bytes, path: str) -> ReadResult:
    """Read CycloneDX XML bytes; the spec version comes from the namespace."""

    def read() -> ReadResult:
        root = parse_xml(data, path)
        with gc_paused():
            return _XmlReader(path).read(root)

    return only_input_errors(path, "CycloneDX XML", read, where="/", too_deep=TOO_DEEP)


class _XmlReader(BomReader):
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
            self.notes.warn(
                "/bom", "has no CycloneDX namespace, so its version is unknown; read as 1.x"
            )
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
                    self.notes.error(
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
            self.notes.error(
                location,
                f"<{local}> element in {where}, not the document's CycloneDX namespace "
                f"{ours}; it cannot be placed, so what it holds is not checked",
            )
        else:
            self.notes.error(
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
            self.notes.error(
                f"{location}/{local}",
                f"<{local}> is stated twice, as {excerpt(first, 40)} and "
                f"{excerpt(second or '', 40)}; CycloneDX allows one, the last is used and the "
                "component may be misidentified",
            )

    def merged(self, first: Element, second: Element, location: str) -> Element:
        """Both of two <licenses> elements, so that no license statement is lost."""
        self.notes.warn(
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
                        LicenseEvidence(name, Origin(path, f"{here}/name"), name_form(name), ack)
                    )
                else:
                    self.notes.warn(
                        here, "has neither <id> nor <name>; this entry states no license"
                    )
            elif tag == self.t_expression:
                entries += 1
                counts["expression"] += 1
                here = f"{location}/expression[{counts['expression']}]"
                text = _text(entry)
                if text is None:
                    self.notes.warn(here, "is empty, expected an SPDX expression; ignored")
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
                    self.notes.warn(here, "has no expression attribute; ignored")
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
            self.notes.warn(
                f"{location}/{local}",
                f"unexpected element <{local}>, expected <{expected}>; skipped",
            )


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
