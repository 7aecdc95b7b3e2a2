"""Architecture decision records: MADR 4 front matter, the lifecycle, index, nav and pages.

The records in ``adr/`` are the source; the site shows them, it does not keep
copies. The index and the nav are generated from the front matter because a
hand-kept list drifts (Backstage's nav points two titles at the wrong
records). The status lifecycle is validated because a record that says
"superseded by ADR-0012" while ADR-0012 does not say what it supersedes sends
readers in a circle:

``proposed`` → ``accepted`` | ``rejected``; ``accepted`` → ``deprecated`` |
``superseded by ADR-NNNN``, and the superseding record names the one it
replaces ("Supersedes ADR-NNNN" in its text, or a ``supersedes:`` key).
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.docs.mdtables import escape, table
from checker.errors import Problem
from checker.yamlio import load_yaml

STATUSES = ("proposed", "accepted", "rejected", "deprecated")
SUPERSEDED = re.compile(r"^superseded by (ADR-\d{4})$")
FILE_NAME = re.compile(r"^(\d{4})-[a-z0-9]+(?:-[a-z0-9]+)*\.md$")
REQUIRED = ("status", "date", "decision-makers")
OPTIONAL = ("consulted", "informed", "supersedes")
ADR_ID = re.compile(r"\bADR-(\d{4})\b")
_SUPERSEDES_TEXT = re.compile(r"supersedes\s+\[?(ADR-\d{4})", re.IGNORECASE)
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(slots=True)
class Adr:
    """One record: its identity, its front matter as validated, and its body."""

    id: str
    path: Path
    title: str
    status: str
    date: dt.date | None
    decision_makers: list[str]
    consulted: list[str]
    informed: list[str]
    supersedes: list[str]
    body: str

    @property
    def number(self) -> str:
        return self.id.removeprefix("ADR-")

    @property
    def superseded_by(self) -> str | None:
        match = SUPERSEDED.match(self.status)
        return match.group(1) if match else None

    @property
    def lifecycle(self) -> str:
        """The status word alone (``superseded`` for ``superseded by ADR-NNNN``)."""
        return "superseded" if self.superseded_by else self.status

    def src_uri(self, folder: str) -> str:
        return posixpath.join(folder, self.path.name)


@dataclass(slots=True)
class AdrSet:
    """Every record that could be read, and every problem found, in file order."""

    records: list[Adr] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def get(self, adr_id: str) -> Adr | None:
        return next((r for r in self.records if r.id == adr_id), None)


def _split_front_matter(text: str) -> tuple[str | None, str]:
    if not text.startswith("---\n"):
        return None, text
    end = text.find("\n---\n", 4)
    if end == -1:
        return None, text
    return text[4:end], text[end + 5 :]


def _names(value: Any, key: str, path: str, problems: list[Problem]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(Problem(path, key, "must be a list of names"))
        return []
    return [v.strip() for v in value]


def _date(value: object) -> object:
    """A front-matter date: the loader keeps ``2026-11-25`` as written; read it here."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def parse_adr(path: Path, text: str | None = None) -> tuple[Adr | None, list[Problem]]:
    """Read one record; an unusable one gives ``None`` and says why."""
    where = str(path)
    problems: list[Problem] = []
    name = FILE_NAME.match(path.name)
    if name is None:
        return None, [Problem(where, "", "ADR files are named NNNN-title-with-dashes.md")]
    raw = path.read_text(encoding="utf-8") if text is None else text
    front, body = _split_front_matter(raw)
    if front is None:
        return None, [Problem(where, "", "has no YAML front matter (MADR 4: status, date, ...)")]
    doc, yaml_problems = load_yaml(front, f"{where} front matter")
    if doc is None or yaml_problems:
        return None, [Problem(where, "front matter", p.message) for p in yaml_problems]
    meta = doc.data
    if not isinstance(meta, dict):
        return None, [Problem(where, "front matter", "must be a mapping")]
    for key in REQUIRED:
        if key not in meta:
            problems.append(Problem(where, key, "is missing (MADR 4 front matter)"))
    for key in meta:
        if key not in REQUIRED + OPTIONAL:
            hint = " (MADR 4 renamed it decision-makers)" if key == "deciders" else ""
            problems.append(Problem(where, str(key), f"is not a MADR 4 front matter key{hint}"))
    status = meta.get("status")
    if "status" in meta and (
        not isinstance(status, str) or not (status in STATUSES or SUPERSEDED.match(status))
    ):
        problems.append(
            Problem(
                where,
                "status",
                f"{status!r} is not one of {', '.join(STATUSES)} or 'superseded by ADR-NNNN'",
            )
        )
    date = _date(meta.get("date"))
    if "date" in meta and not isinstance(date, dt.date):
        problems.append(Problem(where, "date", f"{date!r} is not a date written YYYY-MM-DD"))
    makers = _names(meta.get("decision-makers"), "decision-makers", where, problems)
    if "decision-makers" in meta and not makers:
        problems.append(Problem(where, "decision-makers", "must name at least one person or team"))
    consulted = _names(meta.get("consulted"), "consulted", where, problems)
    informed = _names(meta.get("informed"), "informed", where, problems)
    supersedes = _names(meta.get("supersedes"), "supersedes", where, problems)
    for ref in supersedes:
        if not re.fullmatch(r"ADR-\d{4}", ref):
            problems.append(Problem(where, "supersedes", f"{ref!r} is not written ADR-NNNN"))
    title_match = re.search(r"^# (.+)$", body, re.MULTILINE)
    if title_match is None:
        problems.append(Problem(where, "", "has no '# title' heading"))
    if problems:
        return None, problems
    assert title_match is not None
    body_rest = (body[: title_match.start()] + body[title_match.end() :]).strip("\n")
    supersedes += [m for m in _SUPERSEDES_TEXT.findall(body_rest) if m not in supersedes]
    return (
        Adr(
            id=f"ADR-{name.group(1)}",
            path=path,
            title=title_match.group(1).strip(),
            status=str(status),
            date=date if isinstance(date, dt.date) else None,
            decision_makers=makers,
            consulted=consulted,
            informed=informed,
            supersedes=supersedes,
            body=body_rest + "\n",
        ),
        [],
    )


def validate_lifecycle(records: list[Adr]) -> list[Problem]:
    """Supersession must point at a record that exists and points back."""
    by_id = {r.id: r for r in records}
    problems: list[Problem] = []
    for record in records:
        newer_id = record.superseded_by
        if newer_id is not None:
            newer = by_id.get(newer_id)
            if newer_id == record.id:
                problems.append(Problem(str(record.path), "status", "cannot supersede itself"))
            elif newer is None:
                problems.append(
                    Problem(
                        str(record.path),
                        "status",
                        f"is superseded by {newer_id}, which does not exist",
                    )
                )
            elif record.id not in newer.supersedes:
                problems.append(
                    Problem(
                        str(newer.path),
                        "",
                        f"{record.id} says it is superseded by {newer.id}, but {newer.id} does "
                        f"not say 'Supersedes {record.id}' (the reverse link)",
                    )
                )
        for older_id in record.supersedes:
            older = by_id.get(older_id)
            if older is None:
                problems.append(
                    Problem(str(record.path), "", f"supersedes {older_id}, which does not exist")
                )
            elif older.superseded_by != record.id:
                problems.append(
                    Problem(
                        str(older.path),
                        "status",
                        f"{record.id} supersedes it, so its status must be "
                        f"'superseded by {record.id}', not {older.status!r}",
                    )
                )
    return problems


def load_adrs(directory: Path) -> AdrSet:
    """Every ``*.md`` record in ``directory`` (README/index/template files aside)."""
    found = AdrSet()
    if not directory.is_dir():
        found.problems.append(Problem(str(directory), "", "ADR directory not found"))
        return found
    for path in sorted(directory.glob("*.md")):
        if path.name.lower() in {"readme.md", "index.md"} or "template" in path.name:
            continue
        record, problems = parse_adr(path)
        found.problems.extend(problems)
        if record is None:
            continue
        if found.get(record.id) is not None:
            found.problems.append(Problem(str(path), "", f"{record.id} is used by two files"))
            continue
        found.records.append(record)
    found.problems.extend(validate_lifecycle(found.records))
    return found


# --------------------------------------------------------------------------- rendering

LinkFor = Callable[[str], str | None]


def linkify(text: str, link_for: LinkFor) -> str:
    """Turn ``ADR-NNNN`` in prose into links; code spans, fences and links stay as they are."""

    def sub(match: re.Match[str]) -> str:
        start, end, part = match.start(), match.end(), match.string
        if part[:start].endswith("[") or part[end : end + 2] == "](":
            return match.group(0)  # already a link
        target = link_for(match.group(0))
        return f"[{match.group(0)}]({target})" if target else match.group(0)

    out: list[str] = []
    fenced = False
    for line in text.splitlines(keepends=True):
        if _FENCE.match(line):
            fenced = not fenced
            out.append(line)
            continue
        if fenced:
            out.append(line)
            continue
        parts = line.split("`")
        for i in range(0, len(parts), 2):  # even parts are outside code spans
            parts[i] = ADR_ID.sub(sub, parts[i])
        out.append("`".join(parts))
    return "".join(out)


def _status_cell(record: Adr, link_for: LinkFor) -> str:
    newer = record.superseded_by
    if newer is None:
        return record.status
    target = link_for(newer)
    return f"superseded by [{newer}]({target})" if target else record.status


def render_page(record: Adr, link_for: LinkFor, source: str) -> str:
    """The site page for one record: title, a metadata table, then the record's text."""
    rows = [
        ["Record", record.id],
        ["Status", _status_cell(record, link_for)],
        ["Date", record.date.isoformat() if record.date else "not given"],
        ["Decision-makers", escape("; ".join(record.decision_makers))],
        ["Consulted", escape("; ".join(record.consulted)) or "nobody recorded"],
        ["Informed", escape("; ".join(record.informed)) or "nobody recorded"],
    ]
    if record.supersedes:
        links = [f"[{s}]({link_for(s)})" if link_for(s) else s for s in record.supersedes]
        rows.append(["Supersedes", ", ".join(links)])
    rows.append(["Source", f"`{source}`"])
    head = f"# {record.title}\n\n" + table(["Field", "Value"], rows)
    return head + "\n" + linkify(record.body, link_for)


def render_index(adrs: AdrSet, link_for: LinkFor) -> str:
    """The ADR index: one row per record with its status and date."""
    if not adrs.records:
        return '!!! warning "No decision records"\n    No ADR could be read from `adr/`.\n'
    rows = []
    for record in adrs.records:
        target = link_for(record.id)
        title = escape(record.title)
        rows.append(
            [
                f"[{record.id}]({target})" if target else record.id,
                title,
                _status_cell(record, link_for),
                record.date.isoformat() if record.date else "",
            ]
        )
    return table(["ADR", "Decision", "Status", "Date"], rows)


def nav_title(record: Adr) -> str:
    suffix = "" if record.status == "accepted" else f" ({record.lifecycle})"
    return f"{record.id}: {record.title}{suffix}"


def nav_entries(adrs: AdrSet, folder: str) -> list[dict[str, str]]:
    """MkDocs nav items for the records, in number order."""
    return [{nav_title(r): r.src_uri(folder)} for r in adrs.records]
