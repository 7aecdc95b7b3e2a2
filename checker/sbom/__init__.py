"""SBOM and license-report readers, and format detection by content.

The format is decided from what the file holds, never its name: a ``.spdx``
file may hold JSON and a ``.txt`` file may hold SPDX tag-value.
"""

from __future__ import annotations

from pathlib import Path

from checker.errors import InputError
from checker.inputs import (
    DEFAULT_MAX_BYTES,
    decode_text,
    gc_paused,
    is_blank,
    load_json,
    read_bytes,
)
from checker.model import ReadResult


def read_input(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> ReadResult:
    """Read one input file into components, detecting its format from content."""
    return parse_input(read_bytes(path, max_bytes), str(path))


def parse_input(data: bytes, name: str) -> ReadResult:
    """Parse bytes already read, with the cyclic garbage collector paused.

    Parsing a large SBOM allocates millions of objects and none of them form
    cycles; letting the collector scan them repeatedly more than doubles the
    time of the bare JSON parse.
    """
    with gc_paused():
        return _parse_input(data, name)


def _parse_input(data: bytes, name: str) -> ReadResult:
    """Parse bytes already read; ``name`` is used in every message and origin.

    Any failure is an :class:`InputError`: a reader that lets another
    exception escape is a bug, and the fuzz tests look for exactly that.
    """
    from checker.sbom import cyclonedx, piplicenses, spdx

    if is_blank(data):
        raise InputError(name, "", "is empty; expected an SBOM, lockfile or manifest")
    head = data[:4096].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    if head.startswith((b"{", b"[")):
        doc = load_json(data, name)
        if isinstance(doc, dict):
            if doc.get("bomFormat") == "CycloneDX" or (
                "specVersion" in doc and "components" in doc
            ):
                return cyclonedx.read_json(doc, name)
            if "spdxVersion" in doc or "SPDXID" in doc:
                return spdx.read_json(doc, name)
            if "@graph" in doc or "spdxId" in str(doc.get("@context", "")):
                raise InputError(
                    name,
                    "$",
                    "is SPDX 3 JSON-LD, which is not supported yet; "
                    "export SPDX 2.3 JSON or CycloneDX instead",
                )
        if isinstance(doc, list) and piplicenses.looks_like(doc):
            return piplicenses.read_json(doc, name)
        raise InputError(
            name,
            "$",
            "is JSON but not a recognised format (expected a CycloneDX BOM with "
            '"bomFormat", an SPDX document with "spdxVersion", or pip-licenses '
            "--format=json output)",
        )
    if head.startswith(b"<"):
        return cyclonedx.read_xml(data, name)
    text = decode_text(data, name)
    if spdx.looks_like_tag_value(text):
        return spdx.read_tag_value(text, name)
    raise InputError(
        name,
        "line 1",
        "is not a recognised format (expected CycloneDX JSON or XML, SPDX JSON or "
        "tag-value, or pip-licenses JSON)",
    )
