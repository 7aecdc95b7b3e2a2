"""Parsing XML safely: no DTD, no entity, no external reference, and where it stopped.

XML goes through defusedxml with DTDs, entity declarations and external
references all forbidden, so entity-expansion ("billion laughs") and
external-entity attacks fail before anything is expanded. CycloneDX XML
never needs a DTD.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError, TreeBuilder
from xml.parsers.expat import ErrorString

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from checker.errors import InputError


def parse_xml(data: bytes, path: str) -> Element:
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
