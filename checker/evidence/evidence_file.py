"""The evidence file: registry license metadata, resolved once, reviewed, read offline.

``rune-policy evidence resolve`` asks the package registries for the license
fields of every release the lockfiles pin (:mod:`checker.registry`) and
writes them here; ``check`` reads the file and never touches the network.
The file is the reviewable record of what the registry said, so:

* it is deterministic: packages sorted by ecosystem, normalized name and
  version, keys in a fixed order, two-space indent, a trailing newline. A
  pull request that refreshes it shows exactly which release changed;
* it holds no host names. Each index is recorded by the ecosystem and by
  where it was configured (``--index-url``, ``PIP_INDEX_URL``, pip's
  configuration, pip's built-in default, ``npm config``), and each URL by its
  path alone. A committed file then leaks neither a company mirror's address
  nor a token, and it does not change when the same index is reached through
  another mirror; the artifact digest, not the URL, says what was read;
* reading it is strict: a hand-edited or corrupt file is refused with the
  file, the line and what was expected for every problem at once (exit 2),
  and an unknown or misspelt field is an error, because a typo must not
  silently drop evidence. Duplicate keys are refused (JSON leaves to each
  tool which one counts).

:class:`EvidenceFileSource` offers a record as license evidence for the lock
entry of the same release (:func:`checker.evidence.records.release_key`),
in PEP 639's order within the one source: ``License-Expression``, else
``License`` when it is an SPDX expression, else the license classifiers,
else the free-text ``License``. A lock entry that pins artifact hashes none
of which is the record's is an ``evidence-mismatch``: the artifact is not the
one reviewed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from checker.errors import InputError, PolicyError, Problem, UsageError
from checker.evidence import Found
from checker.evidence.records import (
    Ecosystem,
    LicenseFields,
    PackageRecord,
    ReleaseKey,
    Wanted,
    release_key,
)
from checker.inputs import decode_text, display_path, excerpt, json_type, read_bytes
from checker.matching import purl_parts
from checker.model import Component, EvidenceForm, LicenseEvidence, Origin, ReadResult
from checker.readers import Family, by_name

if TYPE_CHECKING:
    from checker.policy import Decision

#: The marker that says what the file is, and the format version this code writes.
FORMAT = "rune-policy-evidence"
FORMAT_VERSION = 1
#: The file's name in the policy directory, where ``check`` looks by default.
DEFAULT_NAME = "evidence.json"
#: The largest evidence file read: far above any real lock's (about 1 KB a release).
MAX_BYTES = 64 * 1024 * 1024

#: Classifiers that say a license is approved by someone, not which license it
#: is: read as a statement they would only add an unknown term to the AND.
_BARE_CLASSIFIERS = frozenset({"License :: OSI Approved", "License :: DFSG approved"})
#: A ``License`` value this long, or spanning lines, is a pasted license body.
_MAX_NAME = 200
#: Hex digits of each digest algorithm a lock or registry may pin.
_DIGEST_HEX = {"sha1": 40, "sha256": 64, "sha384": 96, "sha512": 128}
_DIGEST = re.compile(r"^([a-z0-9]+):([0-9a-f]+)$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_TOP_KEYS = ("format", "format_version", "generated", "index", "packages")
_INDEX_KEYS = ("ecosystem", "configured_by")
_RECORD_KEYS = (
    "ecosystem",
    "name",
    "version",
    "artifact",
    "digest",
    "license_expression",
    "license",
    "classifiers",
    "license_files",
    "url",
    "retrieved",
)
_REQUIRED_RECORD_KEYS = frozenset({"ecosystem", "name", "version", "url", "retrieved"})
_ECOSYSTEMS = ", ".join(e.value for e in Ecosystem)


@dataclass(frozen=True, slots=True)
class IndexUsed:
    """One index the resolver asked: its ecosystem and where it was configured."""

    ecosystem: Ecosystem
    #: Where the index came from, as the user would look it up:
    #: ``--index-url``, ``PIP_INDEX_URL``, pip's configuration file, pip's
    #: built-in default, ``npm config get registry``.
    configured_by: str


@dataclass(slots=True)
class EvidenceFile:
    """The records of one evidence file, joined to lock entries by release key."""

    generated: str
    index: tuple[IndexUsed, ...]
    records: tuple[PackageRecord, ...]
    #: Where the file was read from, as reports print it ("" for one not yet written).
    path: str = ""
    #: The line of each record's object in the file it was read from.
    lines: dict[ReleaseKey, int] = field(default_factory=dict)
    _by_key: dict[ReleaseKey, PackageRecord] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.records = tuple(sorted(self.records, key=_sort_key))
        self._by_key = {record.key: record for record in self.records}

    def get(self, key: ReleaseKey) -> PackageRecord | None:
        return self._by_key.get(key)

    def origin(self, key: ReleaseKey) -> Origin:
        """Where the record of ``key`` is: the file and its line (the file alone if unknown)."""
        line = self.lines.get(key)
        return Origin(self.path, f"line {line}" if line else "")

    def index_for(self, ecosystem: Ecosystem) -> IndexUsed | None:
        return next((i for i in self.index if i.ecosystem is ecosystem), None)


def _sort_key(record: PackageRecord) -> tuple[str, str, str]:
    ecosystem, name, version = record.key
    return ecosystem.value, name, version


# --------------------------------------------------------------------------- writing


def url_path(url: str) -> str:
    """The path of ``url``, without scheme, credentials, host, query or fragment.

    What the file records of a URL (see the module docstring): a path
    already host-free is kept as it is.
    """
    if "://" not in url and not url.startswith("//"):
        return url.split("?", 1)[0].split("#", 1)[0] or "/"
    return urlsplit(url).path or "/"


def render_evidence(evidence: EvidenceFile) -> str:
    """The file's text: deterministic, sorted, two-space indent, trailing newline."""
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generated": evidence.generated,
        "index": [
            {"ecosystem": i.ecosystem.value, "configured_by": i.configured_by}
            for i in sorted(evidence.index, key=lambda i: i.ecosystem.value)
        ],
        "packages": [_record_object(r) for r in sorted(evidence.records, key=_sort_key)],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"


def _record_object(record: PackageRecord) -> dict[str, Any]:
    fields = record.fields
    return {
        "ecosystem": record.ecosystem.value,
        "name": record.name,
        "version": record.version,
        "artifact": record.artifact,
        "digest": record.digest,
        "license_expression": fields.license_expression,
        "license": fields.license,
        "classifiers": list(fields.classifiers),
        "license_files": list(fields.license_files),
        "url": url_path(record.url),
        "retrieved": record.retrieved,
    }


@dataclass(frozen=True, slots=True)
class Changes:
    """What a refresh changed, by release: the summary ``resolve`` prints."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def __str__(self) -> str:
        return (
            f"{self.added} added, {self.changed} changed, {self.removed} removed, "
            f"{self.unchanged} unchanged"
        )


def _same_evidence(old: PackageRecord, new: PackageRecord) -> bool:
    """Whether two records say the same about the same artifact (URL and date aside)."""
    return (old.fields, old.artifact, old.digest) == (new.fields, new.artifact, new.digest)


def refresh(previous: EvidenceFile | None, fresh: EvidenceFile) -> tuple[EvidenceFile, Changes]:
    """The file to write after a resolve: ``fresh``, keeping the records that did not change.

    A record whose license fields, artifact and digest are what the
    previous file says keeps its old URL and retrieval date, and when no
    record changed the previous file is returned as it was: a refresh
    then shows in a pull request only as the releases that really changed,
    not as a new date on every line.
    """
    if previous is None:
        return fresh, Changes(added=len(fresh.records))
    kept: list[PackageRecord] = []
    added = changed = unchanged = 0
    for record in fresh.records:
        old = previous.get(record.key)
        if old is None:
            added += 1
            kept.append(record)
        elif _same_evidence(old, record):
            unchanged += 1
            kept.append(old)
        else:
            changed += 1
            kept.append(record)
    fresh_keys = {r.key for r in fresh.records}
    removed = sum(1 for r in previous.records if r.key not in fresh_keys)
    changes = Changes(added, changed, removed, unchanged)
    if not changes.any:
        return previous, changes
    return EvidenceFile(fresh.generated, fresh.index, tuple(kept)), changes


def write_evidence(path: Path, evidence: EvidenceFile) -> None:
    """Write ``evidence`` to ``path`` atomically: a failed write leaves the old file whole."""
    from checker.output import write_atomic

    write_atomic(path, render_evidence(evidence))


# --------------------------------------------------------------------------- reading


def load_evidence(path: Path) -> EvidenceFile:
    """Read and validate the evidence file at ``path``.

    A missing or unreadable file is a usage error; a file that is not a valid
    evidence file is a policy error listing every problem with its line
    (both exit 2), so a hand edit is fixed in one pass.
    """
    name = display_path(path)
    try:
        data = read_bytes(path, MAX_BYTES, what="an evidence file (rune-policy evidence resolve)")
    except InputError as exc:
        raise UsageError(
            f"the evidence file cannot be read: {exc.problem}; "
            "write it with rune-policy evidence resolve LOCKFILE..."
        ) from None
    return parse_evidence(data, name)


def parse_evidence(data: bytes, path: str) -> EvidenceFile:
    """Validate the bytes of an evidence file named ``path`` (see :func:`load_evidence`)."""
    try:
        text = decode_text(data, path)
    except InputError as exc:
        raise _invalid(path, [exc.problem]) from None
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        problem = Problem(path, f"line {exc.lineno} column {exc.colno}", f"not JSON: {exc.msg}")
        raise _invalid(path, [problem]) from None
    fast = _canonical_lines(text, doc)
    if fast is not None:
        reader = _Reader(path, fast)
        evidence = reader.document(doc)
        if not reader.problems and evidence is not None:
            evidence.path = path
            return evidence
    scan = _scan(text)
    reader = _Reader(path, scan.lines)
    for where, key, line in scan.duplicates:
        reader.problems.append(
            Problem(
                path,
                f"line {line}",
                f"{where}: the key {excerpt(key, 60)} appears more than once in one object; "
                "JSON leaves which one counts to each tool: keep one",
            )
        )
    evidence = reader.document(doc)
    if reader.problems or evidence is None:
        raise _invalid(path, reader.problems)
    evidence.path = path
    return evidence


def _invalid(path: str, problems: list[Problem]) -> PolicyError:
    count = len(problems)
    return PolicyError(
        f"{path} is not a valid evidence file ({count} problem{'s' if count != 1 else ''}); "
        "fix the lines below, or write it anew with rune-policy evidence resolve LOCKFILE...",
        sorted(problems, key=lambda p: (p.line or 0, p.message)),
    )


_RECORD_START = re.compile(r"^    \{$", re.MULTILINE)


def _canonical_lines(text: str, doc: Any) -> dict[str, int] | None:
    """The line of each package record when ``text`` is exactly as this module writes it.

    The common case (a file ``resolve`` wrote) needs no token scan: if
    re-serialising the parsed document gives the text back, the layout is
    known (no duplicate key can hide in it either: the parsed object would
    have lost one), and each record starts at a line holding only ``{`` at
    four spaces. None for any other text, which then takes :func:`_scan`.
    """
    if type(doc) is not dict or type(doc.get("packages")) is not list:
        return None
    try:
        canonical = orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"
    except (orjson.JSONEncodeError, TypeError):
        return None
    if canonical != text:
        return None
    marker = text.find('\n  "packages": [')
    if marker < 0:
        return None
    lines: dict[str, int] = {"$": 1}
    line, last = 1, 0
    for i, match in enumerate(_RECORD_START.finditer(text, marker)):
        start = match.start()
        line += text.count("\n", last, start)
        last = start
        lines[f"$.packages[{i}]"] = line
    if len(lines) - 1 != len(doc["packages"]):
        return None
    return lines


@dataclass(slots=True)
class _Scan:
    #: JSON path (``$.packages[3].license``) -> the line its key or value starts on.
    lines: dict[str, int]
    #: (object path, key, line) of every key seen twice in one object.
    duplicates: list[tuple[str, str, int]]


#: The tokens of JSON that a location needs: strings (keys when a colon
#: follows), the other scalars, and the brackets.
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"(\s*:)?|[{}\[\]]|-?\d[\d.eE+-]*|true|false|null')


def _scan(text: str) -> _Scan:
    """Where each member and element of a valid JSON text starts, and its duplicate keys.

    orjson gives no positions for a valid document, and a hand-edited file
    needs its problems by line. One regex pass over the text, tracking the
    containers and counting newlines as it goes, maps every JSON path to a
    line; it is only run on text orjson has already parsed, so the tokens
    are well formed.
    """
    lines: dict[str, int] = {}
    duplicates: list[tuple[str, str, int]] = []
    #: Open containers: (path, the keys seen for an object or None for an array, [next index]).
    stack: list[tuple[str, set[str] | None, list[int]]] = []
    pending = "$"
    line, last = 1, 0
    for match in _TOKEN.finditer(text):
        start = match.start()
        line += text.count("\n", last, start)
        last = start
        token = match.group(0)
        if match.group(2) is not None:  # an object key
            where, keys, _ = stack[-1]
            raw = match.group(1)
            key = orjson.loads(f'"{raw}"') if "\\" in raw else raw
            if keys is not None:
                if key in keys:
                    duplicates.append((where, key, line))
                keys.add(key)
            pending = _member(where, key)
            lines[pending] = line
            continue
        if token == "}" or token == "]":
            stack.pop()
            continue
        if stack and stack[-1][1] is None:  # an element of an array
            where, _, counter = stack[-1]
            pending = f"{where}[{counter[0]}]"
            counter[0] += 1
        lines.setdefault(pending, line)
        if token == "{":
            stack.append((pending, set(), [0]))
        elif token == "[":
            stack.append((pending, None, [0]))
    return _Scan(lines, duplicates)


_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _member(where: str, key: str) -> str:
    if _SIMPLE_KEY.match(key):
        return f"{where}.{key}"
    return f"{where}[{orjson.dumps(key).decode()}]"


class _Reader:
    """Validates a parsed evidence document, collecting every problem with its line."""

    def __init__(self, path: str, lines: dict[str, int]) -> None:
        self.path = path
        self.lines = lines
        self.problems: list[Problem] = []

    def at(self, where: str, message: str) -> None:
        """A problem at JSON path ``where``, located by the line of the nearest known path."""
        probe = where
        line = self.lines.get(probe)
        while line is None and probe != "$":
            probe = re.sub(r"(\.[A-Za-z_][A-Za-z0-9_]*|\[[^\]]*\])$", "", probe) or "$"
            line = self.lines.get(probe)
        self.problems.append(Problem(self.path, f"line {line or 1}", f"{where}: {message}"))

    def document(self, doc: Any) -> EvidenceFile | None:
        if type(doc) is not dict:
            self.at("$", f"is a JSON {json_type(doc)}, expected an evidence file object")
            return None
        marker = doc.get("format")
        if marker != FORMAT:
            shown = excerpt(marker, 60) if isinstance(marker, str) else json_type(marker)
            self.at(
                "$.format",
                f"is {shown}, expected {FORMAT!r}: this is not a rune-policy evidence file",
            )
            return None
        version = doc.get("format_version")
        if type(version) is not int or version != FORMAT_VERSION:
            newer = type(version) is int and version > FORMAT_VERSION
            hint = " (written by a newer rune-policy: upgrade it)" if newer else ""
            self.at(
                "$.format_version",
                f"is {excerpt(str(version), 20)}, expected {FORMAT_VERSION}{hint}",
            )
            return None
        self.unknown_keys("$", doc, _TOP_KEYS)
        generated = self.day("$.generated", doc.get("generated"))
        index = self.index_list(doc.get("index"))
        records = self.record_list(doc.get("packages"))
        if generated is None:
            return None
        evidence = EvidenceFile(generated, tuple(index), tuple(r for r, _ in records))
        evidence.lines = {r.key: line for r, line in records}
        return evidence

    def unknown_keys(self, where: str, obj: dict[str, Any], known: Sequence[str]) -> None:
        for key in obj:
            if key in known:
                continue
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.at(
                _member(where, key),
                f"unknown field {excerpt(key, 60)}{hint}; expected one of {', '.join(known)}",
            )

    def day(self, where: str, value: Any) -> str | None:
        if type(value) is not str or not _DAY.match(value):
            self.at(where, f"is {_shown(value)}, expected a date written YYYY-MM-DD")
            return None
        try:
            date.fromisoformat(value)
        except ValueError:
            self.at(where, f"is {excerpt(value, 20)}, which is not a calendar date")
            return None
        return value

    def ecosystem(self, where: str, value: Any) -> Ecosystem | None:
        found = _PURL_ECOSYSTEMS.get(value) if type(value) is str else None
        if found is None:
            self.at(where, f"is {_shown(value)}, expected one of {_ECOSYSTEMS}")
        return found

    def text(self, where: str, value: Any, *, optional: bool) -> str | None:
        if value is None and optional:
            return None
        if type(value) is not str or not value.strip():
            expected = "a non-empty string or null" if optional else "a non-empty string"
            self.at(where, f"is {_shown(value)}, expected {expected}")
            return None
        return value

    def strings(self, where: str, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if type(value) is not list:
            self.at(where, f"is {_shown(value)}, expected an array of strings")
            return ()
        out: list[str] = []
        for i, item in enumerate(value):
            if type(item) is not str or not item.strip():
                self.at(f"{where}[{i}]", f"is {_shown(item)}, expected a non-empty string")
            else:
                out.append(item)
        return tuple(out)

    def index_list(self, value: Any) -> list[IndexUsed]:
        if type(value) is not list:
            self.at("$.index", f"is {_shown(value)}, expected an array of index objects")
            return []
        found: list[IndexUsed] = []
        seen: set[Ecosystem] = set()
        for i, item in enumerate(value):
            where = f"$.index[{i}]"
            if type(item) is not dict:
                self.at(where, f"is {_shown(item)}, expected an object")
                continue
            self.unknown_keys(where, item, _INDEX_KEYS)
            ecosystem = self.ecosystem(f"{where}.ecosystem", item.get("ecosystem"))
            configured = self.text(
                f"{where}.configured_by", item.get("configured_by"), optional=False
            )
            if ecosystem is None or configured is None:
                continue
            if ecosystem in seen:
                self.at(where, f"names the {ecosystem.value} index a second time")
                continue
            seen.add(ecosystem)
            found.append(IndexUsed(ecosystem, configured))
        return found

    def record_list(self, value: Any) -> list[tuple[PackageRecord, int]]:
        if type(value) is not list:
            self.at("$.packages", f"is {_shown(value)}, expected an array of package records")
            return []
        found: list[tuple[PackageRecord, int]] = []
        first: dict[ReleaseKey, int] = {}
        for i, item in enumerate(value):
            where = f"$.packages[{i}]"
            record = self.record(where, item)
            if record is None:
                continue
            line = self.lines.get(where, 0)
            if record.key in first:
                self.at(
                    where,
                    f"{record.ecosystem.value} {record.name} {record.version} has a second "
                    f"record (the first is at line {first[record.key]}); keep one",
                )
                continue
            first[record.key] = line
            found.append((record, line))
        return found

    def record(self, where: str, item: Any) -> PackageRecord | None:
        if type(item) is not dict:
            self.at(where, f"is {_shown(item)}, expected a package record object")
            return None
        before = len(self.problems)
        self.unknown_keys(where, item, _RECORD_KEYS)
        missing = _REQUIRED_RECORD_KEYS - set(item)
        for key in sorted(missing, key=_RECORD_KEYS.index):
            self.at(where, f"has no {key!r}; every record names {', '.join(_REQUIRED)}")
        # An absent field is reported once, above; the others are still checked.
        ecosystem = (
            self.ecosystem(f"{where}.ecosystem", item["ecosystem"]) if "ecosystem" in item else None
        )
        name = self.text(f"{where}.name", item["name"], optional=False) if "name" in item else None
        version = (
            self.text(f"{where}.version", item["version"], optional=False)
            if "version" in item
            else None
        )
        artifact = self.text(f"{where}.artifact", item.get("artifact"), optional=True)
        digest = self.digest(f"{where}.digest", item.get("digest"))
        expression = self.text(
            f"{where}.license_expression", item.get("license_expression"), optional=True
        )
        license_text = self.text(f"{where}.license", item.get("license"), optional=True)
        classifiers = self.strings(f"{where}.classifiers", item.get("classifiers"))
        license_files = self.strings(f"{where}.license_files", item.get("license_files"))
        url = self.text(f"{where}.url", item["url"], optional=False) if "url" in item else None
        retrieved = (
            self.day(f"{where}.retrieved", item["retrieved"]) if "retrieved" in item else None
        )
        if len(self.problems) > before:
            return None
        assert ecosystem and name and version and url and retrieved  # no problem: all read
        return PackageRecord(
            ecosystem=ecosystem,
            name=name,
            version=version,
            fields=LicenseFields(expression, license_text, classifiers, license_files),
            url=url,
            retrieved=retrieved,
            artifact=artifact,
            digest=digest,
        )

    def digest(self, where: str, value: Any) -> str | None:
        if value is None:
            return None
        match = _DIGEST.match(value) if type(value) is str else None
        length = _DIGEST_HEX.get(match.group(1)) if match else None
        if match is None or length is None or len(match.group(2)) != length:
            algorithms = ", ".join(_DIGEST_HEX)
            self.at(
                where,
                f"is {_shown(value)}, expected null or ALGORITHM:HEX in lower case "
                f"({algorithms}; sha256 has 64 hex digits)",
            )
            return None
        return str(value)


_REQUIRED = [k for k in _RECORD_KEYS if k in _REQUIRED_RECORD_KEYS]


def _shown(value: Any) -> str:
    """A value as a message quotes it: strings excerpted, others by JSON type."""
    if isinstance(value, str):
        return excerpt(value, 60)
    if value is None:
        return "null"
    return f"a {json_type(value)}"


# --------------------------------------------------------------------------- staleness


@dataclass(frozen=True, slots=True)
class Stale:
    """One way the evidence file no longer matches the locks (``resolve --check``)."""

    origin: Origin
    message: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


def staleness(evidence: EvidenceFile, wanted: Sequence[Wanted]) -> list[Stale]:
    """Every lock entry without a record, record without a lock entry, and moved digest.

    No network: the locks and the file are compared as they are. A record
    whose digest a lock entry pins for the same release is current; a lock
    that pins hashes, none of them the record's, has moved to another
    artifact (of one the lock pins no hash of that algorithm, nothing can be
    told, and it is not reported).
    """
    found: list[Stale] = []
    by_key: dict[ReleaseKey, list[Wanted]] = {}
    for entry in wanted:
        by_key.setdefault(entry.key, []).append(entry)
    for key, entries in by_key.items():
        record = evidence.get(key)
        first = entries[0]
        label = f"{first.ecosystem.value} {first.name} {first.version}"
        if record is None:
            found.append(Stale(first.origin, f"{label} has no record in {evidence.path}"))
            continue
        for entry in entries:
            if digest_moved(record, entry.digests):
                found.append(
                    Stale(
                        entry.origin,
                        f"{label}: the lock no longer pins {record.digest} "
                        f"({record.artifact or 'the artifact reviewed'}), the artifact the "
                        f"record at {evidence.origin(key)} describes",
                    )
                )
    for record in evidence.records:
        if record.key not in by_key:
            found.append(
                Stale(
                    evidence.origin(record.key),
                    f"{record.ecosystem.value} {record.name} {record.version} is in no lock "
                    "any more",
                )
            )
    return found


def digest_moved(record: PackageRecord, pinned: Iterable[str]) -> bool:
    """Whether a lock pinning ``pinned`` holds another artifact than the one ``record`` read.

    Only comparable when the lock pins hashes of the record digest's
    algorithm; a lock pinning none (or only other algorithms) cannot tell.
    """
    if record.digest is None:
        return False
    algorithm = record.digest.split(":", 1)[0] + ":"
    comparable = [d for d in pinned if d.startswith(algorithm)]
    return bool(comparable) and record.digest not in comparable


# --------------------------------------------------------------------------- the source


#: Purl types the resolver fetches, and the registry each is read from.
_PURL_ECOSYSTEMS = {e.value: e for e in Ecosystem}


def component_key(component: Component) -> ReleaseKey | None:
    """The release key of a component with a pypi or npm purl naming an exact version."""
    parts = purl_parts(component.purl) if component.purl else None
    if parts is None:
        return None
    purl_type, namespace, name, version = parts
    ecosystem = _PURL_ECOSYSTEMS.get(purl_type)
    if ecosystem is None or not version:
        return None
    full = f"{namespace}/{name}" if namespace else name
    return release_key(ecosystem, full, version)


def record_licenses(record: PackageRecord, origin: Origin) -> list[LicenseEvidence]:
    """The one coherent set of statements a record makes, best field first (PEP 639).

    ``License-Expression``; else ``License`` when it parses as an SPDX
    expression; else the license classifiers (each a statement, read
    together as AND like every other source of several); else the free-text
    ``License`` as a name, unless it is a pasted license body. npm's
    ``license`` is an SPDX expression by npm's own rule.
    """
    from checker.licenses import is_spdx_expression  # loads license-expression: only here

    fields = record.fields
    if fields.license_expression:
        return [LicenseEvidence(fields.license_expression, origin, EvidenceForm.EXPRESSION)]
    text = (fields.license or "").strip()
    if record.ecosystem is Ecosystem.NPM:
        return [LicenseEvidence(text, origin, EvidenceForm.EXPRESSION)] if text else []
    if text and is_spdx_expression(text):
        return [LicenseEvidence(text, origin, EvidenceForm.EXPRESSION)]
    classifiers = [c for c in dict.fromkeys(fields.classifiers) if c.startswith("License ::")]
    classifiers = [c for c in classifiers if c not in _BARE_CLASSIFIERS]
    if classifiers:
        return [LicenseEvidence(c, origin, EvidenceForm.CLASSIFIER) for c in classifiers]
    if text and text.upper() != "UNKNOWN" and len(text) < _MAX_NAME and "\n" not in text:
        return [LicenseEvidence(text, origin, EvidenceForm.NAME)]
    return []


def resolve_command(lockfile: str) -> str:
    """The command that refreshes the evidence for ``lockfile``, as messages print it."""
    return f"rune-policy evidence resolve {lockfile}"


def _is_lockfile(fmt: str) -> bool:
    """Whether ``fmt`` is a lockfile format: its entries are what ``resolve`` records."""
    found = by_name(fmt)
    return found is not None and found.family is Family.LOCKFILE


class EvidenceFileSource:
    """Registry license metadata from the evidence file, for lock entries only.

    Only lockfile entries are served (a lock entry that states a license
    itself, as a package-lock.json may, is judged on that and never asks):
    an SBOM's own silence is never papered over. Without an evidence file
    the source finds nothing, but it still tells the user what to run
    (:meth:`next_step`).
    """

    name = "evidence-file"

    def __init__(self, results: Sequence[ReadResult], evidence: EvidenceFile | None) -> None:
        self.evidence = evidence
        self._lockfile: dict[int, str] = {
            id(c): r.path for r in results if _is_lockfile(r.format) for c in r.components
        }

    def _key(self, component: Component) -> ReleaseKey | None:
        if id(component) not in self._lockfile:
            return None
        return component_key(component)

    def lookup(self, component: Component, decision: Decision | None) -> Found | None:
        evidence = self.evidence
        if evidence is None:
            return None
        key = self._key(component)
        record = evidence.get(key) if key is not None else None
        if key is None or record is None:
            return None
        where = evidence.origin(key)
        licenses = record_licenses(record, where)
        if not licenses:
            return None
        return Found(licenses, f"{where} ({self.describe(record)})")

    @staticmethod
    def describe(record: PackageRecord) -> str:
        """How a report names where the record's licenses came from."""
        return f"registry metadata from {record.url}, retrieved {record.retrieved}"

    def problem(self, component: Component) -> str | None:
        """The ``evidence-mismatch`` message when the lock pins another artifact, else None."""
        evidence = self.evidence
        key = self._key(component) if evidence is not None else None
        record = evidence.get(key) if evidence is not None and key is not None else None
        if evidence is None or key is None or record is None:
            return None
        if not digest_moved(record, component.digests):
            return None
        lockfile = self._lockfile[id(component)]
        return (
            f"{component.display}: the lock pins other artifacts than the one whose license "
            f"metadata was reviewed ({record.artifact or 'an artifact'}, {record.digest}, "
            f"{evidence.origin(key)}): the artifact is not the one reviewed; run "
            f"`{resolve_command(lockfile)}` and review the change"
        )

    def next_step(self, component: Component) -> str | None:
        """What to do about a lock entry no source gave a license for; None for others."""
        key = self._key(component)
        if key is None:
            return None
        lockfile = self._lockfile[id(component)]
        fetch = (
            f"run `{resolve_command(lockfile)}` to fetch its license from the registry "
            "(or give an SBOM of the same environment)"
        )
        evidence = self.evidence
        if evidence is None:
            return fetch
        record = evidence.get(key)
        if record is None:
            return f"{evidence.path} has no record of it (the file is stale): {fetch}"
        files = record.fields.license_files
        named = f" (it names the license files {', '.join(files)}: read them)" if files else ""
        return (
            f"the registry metadata at {evidence.origin(key)} states no license{named}; find "
            "the license upstream and record it in a decision-table row"
        )
