"""What a directory walk reads: a cheap look at each name, then at the first bytes.

A walk must not open every file of a large tree, nor pass over an input:

* :func:`may_be_input` looks at a name only. A file whose ending no format
  reads is passed over without being opened; plain ``.txt`` files are
  everywhere, so one is looked into only when its name or folder says
  requirements, constraints, SPDX or BOM (a tag-value SBOM with an
  uninformative ``.txt`` name is still read when given as a path).
* :func:`is_input` decides, for a file that may be one: lockfiles and
  artifacts by name (:func:`checker.readers.detect`), SBOMs by a name that
  says so or by a content marker. Content is sniffed from the first
  :data:`~checker.readers.SNIFF_BYTES`, and a JSON or XML file whose marker
  comes later (a JSON key order is free) is searched to the end, within the
  input limit.
* :func:`not_input_reason` says why a file is passed over; a JSON file that
  is a JSON Schema (a ``bom-1.6.schema.json`` vendored in site-packages) is
  passed over as one, though its name and the field names it describes look
  like an SBOM's (given as a path, it is refused with that reason).

The endings and markers come from the format records, so a new format is
looked at by the walk without a change here.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from checker.errors import InputError
from checker.inputs import READ_FLAGS, load_json, read_bytes
from checker.readers import FORMATS, JSON_SCHEMA_HOST, SNIFF_BYTES, Family, detect, json_schema_of

#: Endings of the files SBOMs are read from (their content decides the format).
SBOM_ENDINGS = tuple(dict.fromkeys(e for f in FORMATS if f.syntax is not None for e in f.endings))
#: Endings whose files are opened to decide what they are: SBOMs, and the
#: named formats confirmed by their first bytes.
SNIFFED = frozenset({*SBOM_ENDINGS, *(e for f in FORMATS if f.sniff for e in f.endings)})
#: Endings of every file name some reader may accept.
CANDIDATES = frozenset(e for f in FORMATS for e in f.endings)
#: Bytes that mark an SBOM whatever its name.
MARKERS = tuple(m for f in FORMATS if f.family is Family.SBOM for m in f.markers)
_OVERLAP = max(len(m) for m in MARKERS)

#: Words that make a ``.txt`` name worth a look.
_TXT_HINTS = ("requirement", "constraint", "spdx", "bom", "cdx")
#: Words that make a name worth a look whatever its ending (``Dockerfile.prod``).
_STEMS = ("dockerfile", "containerfile")


def may_be_input(name: str, folder: str) -> bool:
    """A cheap look at a name before anything is opened (``folder``: its folder, lower-cased)."""
    lowered = name.lower()
    dot = lowered.rfind(".")
    suffix = lowered[dot:] if dot >= 0 else ""
    if suffix == ".txt":
        return any(hint in lowered for hint in _TXT_HINTS) or folder == "requirements"
    if suffix in CANDIDATES:
        return True
    return any(stem in lowered for stem in _STEMS)


#: Why a walk passes over a file that may be an input but is not one.
NOT_INPUT = "not a recognised SBOM, lockfile or manifest"
#: Why a walk passes over a JSON Schema.
JSON_SCHEMA = "a JSON Schema (its $schema names the JSON Schema meta-schema), not an SBOM"


def is_input(path: Path, max_bytes: int) -> bool:
    """Whether a file that may be an input is one: by name, else by SBOM name or content."""
    return not_input_reason(path, max_bytes) is None


def not_input_reason(path: Path, max_bytes: int) -> str | None:
    """Why a walk passes over a file that may be an input, or None to read it."""
    head = read_head(path) if path.suffix.lower() in SNIFFED else b""
    if detect(path, head) is not None:
        return None
    if not looks_like_sbom(path, head, max_bytes):
        return NOT_INPUT
    return JSON_SCHEMA if is_json_schema(path, head, max_bytes) else None


def is_json_schema(path: Path, head: bytes, max_bytes: int) -> bool:
    """Whether a file a walk took for an SBOM is a JSON Schema (see :func:`json_schema_of`).

    Only a JSON object whose first bytes name the meta-schema's host is
    parsed. Anything that cannot be read or parsed is not one: it is read
    as an input and its problem reported, never quietly passed over.
    """
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start.startswith(b"{") or b'"$schema"' not in head:
        return False
    if JSON_SCHEMA_HOST.encode() not in head:
        return False
    try:
        doc = load_json(read_bytes(path, max_bytes), str(path))
    except (InputError, MemoryError, RecursionError):
        return False
    return json_schema_of(doc) is not None


def _named_like_sbom(name: str) -> bool:
    lowered = name.lower()
    return "sbom" in lowered or "bom." in lowered or ".spdx" in lowered or ".cdx" in lowered


def looks_like_sbom(path: Path, head: bytes, max_bytes: int) -> bool:
    """An SBOM by its name, or by a marker in ``head`` (its first bytes) or later."""
    if _named_like_sbom(path.name):
        return True
    if not path.name.lower().endswith(SBOM_ENDINGS):
        return False
    if any(m in head for m in MARKERS):
        return True
    if len(head) < SNIFF_BYTES or not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"<")):
        return False
    return _marker_later(path, max_bytes)


def open_regular(path: Path) -> int | None:
    """A descriptor on ``path`` if it is a regular file; never blocks on a FIFO."""
    try:
        fd = os.open(path, READ_FLAGS)
    except OSError:
        return None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def read_head(path: Path, size: int = SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes of a regular file; nothing for anything else."""
    fd = open_regular(path)
    if fd is None:
        return b""
    try:
        return os.read(fd, size)
    except OSError:
        return b""
    finally:
        os.close(fd)


def _marker_later(path: Path, max_bytes: int) -> bool:
    """Whether an SBOM marker appears past the head (a JSON key order is free).

    The head has been searched already; the search goes on from its end,
    overlapping by a marker's length, up to the input limit.
    """
    fd = open_regular(path)
    if fd is None:
        return False
    try:
        read = os.lseek(fd, SNIFF_BYTES - _OVERLAP, os.SEEK_SET)
        tail = b""
        while read <= max_bytes:
            chunk = os.read(fd, 1024 * 1024)
            if not chunk:
                return False
            window = tail + chunk
            if any(m in window for m in MARKERS):
                return True
            tail = window[-_OVERLAP:]
            read += len(chunk)
        return False
    except OSError:
        return False
    finally:
        os.close(fd)
