"""OpenVEX: reading others' documents, and exporting the register's vulnerability entries.

Reading. ``--vex`` accepts OpenVEX JSON documents beside the register.
v0.2.0 (``@context: https://openvex.dev/ns/v0.2.0``) is read the way go-vex
(and so Trivy and Grype) reads it, leniently on form and strictly on meaning:
a statement without a status, a vulnerability or a product, with an unknown
status or justification, ``not_affected`` without a justification or impact
statement, or ``affected`` without an action statement is an error (the spec
says a document with incomplete statements is not valid); what go-vex
tolerates and drops (a missing document ``@id`` or timestamp, unknown keys,
a vulnerability named only by ``@id``) is a warning. A legacy v0.0.1 document
(``@context: https://openvex.dev/ns``, vulnerabilities and products as
plain strings) is upgraded in memory, as go-vex does, with a warning; any
other ``@context`` is refused with the versions this gate reads.

Exporting. OpenVEX describes vulnerabilities only, so license exceptions are
left out (and said so). Each current vulnerability entry becomes one
statement; entries that overlap are refused when the register is loaded, so
every (vulnerability, product) pair has exactly one current statement and
Trivy (newest statement wins) and Grype (oldest wins) read the file alike.
The schema forbids unknown keys: the entry id, reference (ADR or issue),
approver, dates, CVSS and patch SLA go into ``status_notes``. OpenVEX has no
version ranges (go-vex matches a version-less purl to every version), so a
product limited by ``versions`` is left out rather than widened. Output is
deterministic: keys sorted, statements ordered by vulnerability and product,
the timestamp is the newest ``created`` date of what is exported, and
``@id`` is derived from the content, so the same register gives the same
bytes and a changed register a new document (its ``version`` is 1).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from checker.errors import InputError, Problem
from checker.inputs import DEFAULT_MAX_BYTES, load_json, read_bytes
from checker.model import Origin
from checker.vex.export import Export
from checker.vex.model import Subject, VulnerabilityEntry
from checker.vex.vocabulary import Justification, Status, choices, member

CONTEXT = "https://openvex.dev/ns/v0.2.0"
LEGACY_CONTEXTS = frozenset({"https://openvex.dev/ns", "https://openvex.dev/ns/v0.0.1"})
_CONTEXT_PREFIX = "https://openvex.dev/ns"
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")
_DOCUMENT_KEYS = frozenset(
    {
        "@context",
        "@id",
        "author",
        "role",
        "timestamp",
        "last_updated",
        "version",
        "tooling",
        "statements",
    }
)
_STATEMENT_KEYS = frozenset(
    {
        "@id",
        "version",
        "vulnerability",
        "timestamp",
        "last_updated",
        "products",
        "status",
        "supplier",
        "status_notes",
        "justification",
        "impact_statement",
        "action_statement",
        "action_statement_timestamp",
    }
)
#: Keys of v0.0.1 that have no v0.2.0 place and are dropped on upgrade.
_LEGACY_ONLY = frozenset({"format", "supplier"})


@dataclass(frozen=True, slots=True)
class VexProduct:
    """A product of a statement: its identifier (a purl or IRI) and subcomponents."""

    id: str
    subcomponents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VexStatement:
    vulnerability: str
    products: tuple[VexProduct, ...]
    status: Status
    origin: Origin
    aliases: tuple[str, ...] = ()
    justification: Justification | None = None
    impact_statement: str | None = None
    action_statement: str | None = None
    status_notes: str | None = None
    timestamp: str | None = None


@dataclass(slots=True)
class VexDocument:
    """One OpenVEX document as read (legacy ones already upgraded)."""

    path: str
    id: str | None
    author: str | None
    timestamp: str | None
    version: int | None
    statements: list[VexStatement] = field(default_factory=list)
    upgraded_from: str | None = None


@dataclass(slots=True)
class ReadOutcome:
    document: VexDocument | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def read_openvex(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> ReadOutcome:
    """Read one OpenVEX JSON file; never raises for bad content."""
    try:
        data = load_json(read_bytes(path, max_bytes), str(path))
    except InputError as exc:
        return ReadOutcome(None, [exc.problem])
    return parse_openvex(data, str(path))


def _upgrade_legacy(data: dict[str, Any]) -> dict[str, Any]:
    """v0.0.1 to v0.2.0, as go-vex does: strings become objects, dropped keys go."""
    upgraded = {k: v for k, v in data.items() if k not in _LEGACY_ONLY}
    upgraded["@context"] = CONTEXT
    version = upgraded.get("version")
    if isinstance(version, str) and version.isdigit():
        upgraded["version"] = int(version)
    statements = []
    for raw in data.get("statements") or []:
        if not isinstance(raw, dict):
            statements.append(raw)
            continue
        statement = {
            k: v
            for k, v in raw.items()
            if k not in ("subcomponents", "vuln_description", "supplier")
        }
        vulnerability = raw.get("vulnerability")
        if isinstance(vulnerability, str):
            statement["vulnerability"] = {"name": vulnerability}
            if isinstance(raw.get("vuln_description"), str):
                statement["vulnerability"]["description"] = raw["vuln_description"]
        subcomponents = [
            {"@id": s} for s in raw.get("subcomponents") or [] if isinstance(s, str) and s
        ]
        products = raw.get("products")
        if isinstance(products, list):
            statement["products"] = [
                (
                    {"@id": p, **({"subcomponents": subcomponents} if subcomponents else {})}
                    if isinstance(p, str)
                    else p
                )
                for p in products
            ]
        if statement.get("status_notes") == "":
            del statement["status_notes"]
        statements.append(statement)
    upgraded["statements"] = statements
    return upgraded


def parse_openvex(data: Any, path: str) -> ReadOutcome:
    """Validate and read a parsed OpenVEX document."""
    out = ReadOutcome(None)

    def error(location: str, message: str) -> None:
        out.errors.append(Problem(path, location, message))

    def warn(location: str, message: str) -> None:
        out.warnings.append(Problem(path, location, message))

    if not isinstance(data, dict):
        error("$", "is not an OpenVEX document (a JSON object with @context and statements)")
        return out
    context = data.get("@context")
    upgraded_from: str | None = None
    if not isinstance(context, str) or not context.startswith(_CONTEXT_PREFIX):
        what = "no @context" if context is None else f"@context {context!r}"
        error(
            "$.@context",
            f"is not an OpenVEX document ({what}); --vex reads register YAML files and "
            f"OpenVEX JSON ({CONTEXT})",
        )
        return out
    context = context.rstrip("/")
    if context in LEGACY_CONTEXTS:
        upgraded_from = "v0.0.1"
        warn(
            "$.@context",
            f"legacy OpenVEX v0.0.1 document ({context}); read by upgrading it to v0.2.0 "
            "(plain-string vulnerabilities and products became objects); re-issue it as "
            "v0.2.0 (vexctl does that when it edits a document)",
        )
        data = _upgrade_legacy(data)
    elif context != CONTEXT:
        error(
            "$.@context",
            f"OpenVEX version {context.removeprefix(_CONTEXT_PREFIX + '/')!r} is not read by "
            "this gate: it reads v0.2.0 and upgrades v0.0.1",
        )
        return out
    for key in sorted(set(data) - _DOCUMENT_KEYS):
        warn(f"$.{key}", f"unknown key {key!r} is not OpenVEX v0.2.0 and is ignored")
    doc_id = data.get("@id") if isinstance(data.get("@id"), str) else None
    if doc_id is None:
        warn("$", "has no @id (required by the OpenVEX schema)")
    author = data.get("author") if isinstance(data.get("author"), str) else None
    if author is None:
        warn("$", "has no author (required by the OpenVEX schema)")
    timestamp = data.get("timestamp") if isinstance(data.get("timestamp"), str) else None
    if timestamp is None:
        warn("$", "has no timestamp; statements without their own have no time either")
    elif not _DATETIME.fullmatch(timestamp):
        warn("$.timestamp", f"timestamp {timestamp!r} is not an RFC 3339 date-time")
    version = data.get("version")
    if not (isinstance(version, int) and not isinstance(version, bool) and version >= 1):
        if version is not None or upgraded_from is None:
            warn("$.version", "has no integer version >= 1 (required by the OpenVEX schema)")
        version = None
    document = VexDocument(path, doc_id, author, timestamp, version, upgraded_from=upgraded_from)
    statements = data.get("statements")
    if not isinstance(statements, list) or not statements:
        error("$.statements", "must be a non-empty list of statements")
        return out
    for i, raw in enumerate(statements):
        statement = _statement(raw, f"$.statements[{i}]", path, timestamp, error, warn)
        if statement is not None:
            document.statements.append(statement)
    if not out.errors:
        out.document = document
    return out


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _statement(
    raw: Any,
    at: str,
    path: str,
    document_timestamp: str | None,
    error: Any,
    warn: Any,
) -> VexStatement | None:
    if not isinstance(raw, dict):
        error(at, "a statement must be a JSON object")
        return None
    for key in sorted(set(raw) - _STATEMENT_KEYS):
        warn(f"{at}.{key}", f"unknown key {key!r} is not OpenVEX v0.2.0 and is ignored")
    ok = True
    vulnerability = raw.get("vulnerability")
    name: str | None = None
    aliases: tuple[str, ...] = ()
    if isinstance(vulnerability, dict):
        name = _text(vulnerability.get("name"))
        if name is None:
            name = _text(vulnerability.get("@id"))
            if name is not None:
                warn(f"{at}.vulnerability", "has only an @id; the schema requires a name")
        raw_aliases = vulnerability.get("aliases") or []
        if isinstance(raw_aliases, list):
            aliases = tuple(a for a in raw_aliases if isinstance(a, str) and a)
    if name is None:
        error(f"{at}.vulnerability", "a statement needs a vulnerability with a name")
        ok = False
    written_status = raw.get("status")
    status = member(Status, written_status)
    if status is None:
        if written_status is None:
            error(f"{at}.status", f"a statement needs a status: one of {choices(Status)}")
        else:
            error(f"{at}.status", f"status {written_status!r} must be one of {choices(Status)}")
        ok = False
    written_justification = _text(raw.get("justification"))
    justification = member(Justification, written_justification)
    if written_justification is not None and justification is None:
        error(
            f"{at}.justification",
            f"justification {written_justification!r} must be one of {choices(Justification)}",
        )
        ok = False
    impact = _text(raw.get("impact_statement"))
    action = _text(raw.get("action_statement"))
    if status is Status.NOT_AFFECTED and written_justification is None and impact is None:
        error(at, "status not_affected needs a justification or an impact_statement")
        ok = False
    if status is Status.AFFECTED and action is None:
        error(at, "status affected needs an action_statement")
        ok = False
    if (
        status is not None
        and status is not Status.NOT_AFFECTED
        and (written_justification or impact)
    ):
        warn(at, f"justification/impact_statement on status {status} (go-vex refuses it)")
    products: list[VexProduct] = []
    raw_products = raw.get("products")
    if not isinstance(raw_products, list) or not raw_products:
        error(f"{at}.products", "a statement needs a non-empty list of products")
        ok = False
    else:
        for j, product in enumerate(raw_products):
            parsed = _product(product)
            if parsed is None:
                error(
                    f"{at}.products[{j}]",
                    "a product needs an @id or identifiers.purl (a purl is what Trivy and "
                    "Grype match)",
                )
                ok = False
            else:
                products.append(parsed)
    timestamp = _text(raw.get("timestamp"))
    if timestamp is not None and not _DATETIME.fullmatch(timestamp):
        warn(f"{at}.timestamp", f"timestamp {timestamp!r} is not an RFC 3339 date-time")
    if not ok or name is None or status is None:
        return None
    return VexStatement(
        vulnerability=name,
        products=tuple(products),
        status=status,
        origin=Origin(path, at),
        aliases=aliases,
        justification=justification,
        impact_statement=impact,
        action_statement=action,
        status_notes=_text(raw.get("status_notes")),
        timestamp=timestamp or document_timestamp,
    )


def _product(raw: Any) -> VexProduct | None:
    if not isinstance(raw, dict):
        return None
    identifier = _text(raw.get("@id"))
    identifiers = raw.get("identifiers")
    if identifier is None and isinstance(identifiers, dict):
        identifier = _text(identifiers.get("purl"))
    if identifier is None:
        return None
    subcomponents: list[str] = []
    for sub in raw.get("subcomponents") or []:
        if isinstance(sub, dict):
            sub_id = _text(sub.get("@id"))
            if sub_id is None and isinstance(sub.get("identifiers"), dict):
                sub_id = _text(sub["identifiers"].get("purl"))
            if sub_id is not None:
                subcomponents.append(sub_id)
    return VexProduct(identifier, tuple(subcomponents))


# --------------------------------------------------------------------------- export


def canonical_purl(subject: Subject) -> str:
    return str(PackageURL.from_string(subject.text))


def status_notes(entry: VulnerabilityEntry) -> str:
    """The governance the OpenVEX schema has no field for."""
    parts = [
        f"RUNE VEX register entry {entry.id}",
        f"reference {entry.reference}",
        f"approved by {entry.approver} on {entry.created.isoformat()}",
        f"expires {entry.expires.isoformat()}",
    ]
    if entry.cvss is not None:
        parts.append(f"CVSS {entry.cvss:g}")
    if entry.patch_sla is not None:
        parts.append(f"patch SLA {entry.patch_sla.isoformat()}")
    return "; ".join(parts)


def _timestamp(entries: Sequence[VulnerabilityEntry]) -> str:
    return f"{max(e.created for e in entries).isoformat()}T00:00:00Z"


def export_openvex(
    entries: Sequence[VulnerabilityEntry], *, author: str, notes: Sequence[str] = ()
) -> Export:
    """An OpenVEX 0.2.0 document for current vulnerability entries (see the module doc)."""
    out = Export("", list(notes))
    statements: list[dict[str, Any]] = []
    used: list[VulnerabilityEntry] = []
    for entry in entries:
        products = []
        for product in entry.products:
            if product.versions is not None:
                out.notes.append(
                    f"{entry.id}: product {product.describe()} left out: OpenVEX has no "
                    "version ranges and a version-less purl would cover every version"
                )
                continue
            products.append({"@id": canonical_purl(product)})
        if not products:
            out.notes.append(f"{entry.id}: no product OpenVEX can express; statement left out")
            continue
        vulnerability: dict[str, Any] = {"name": entry.vulnerability}
        if entry.aliases:
            vulnerability["aliases"] = list(entry.aliases)
        statement: dict[str, Any] = {
            "vulnerability": vulnerability,
            "timestamp": f"{entry.created.isoformat()}T00:00:00Z",
            "products": sorted(products, key=lambda p: str(p["@id"])),
            "status": entry.status,
            "status_notes": status_notes(entry),
        }
        for name, value in (
            ("justification", entry.justification),
            ("impact_statement", entry.impact_statement),
            ("action_statement", entry.action_statement),
        ):
            if value is not None:
                statement[name] = value
        statements.append(statement)
        used.append(entry)
    if not statements:
        out.refused = (
            "nothing to export as OpenVEX: the register has no current vulnerability entry "
            "with a product OpenVEX can express, and an OpenVEX document needs at least one "
            "statement"
        )
        return out
    statements.sort(
        key=lambda s: (s["vulnerability"]["name"], s["products"][0]["@id"], s["status_notes"])
    )
    digest = hashlib.sha256(
        json.dumps({"author": author, "statements": statements}, sort_keys=True).encode("utf-8")
    ).hexdigest()
    document = {
        "@context": CONTEXT,
        "@id": f"https://openvex.dev/docs/public/vex-{digest}",
        "author": author,
        "timestamp": _timestamp(used),
        "version": 1,
        "tooling": "rune-policy vex export",
        "statements": statements,
    }
    out.text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return out
