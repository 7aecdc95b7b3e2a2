"""The VEX register page: every exception with its governance and the days it has left.

Readers need to see what is currently waived and what lapsed, in the same
terms ``rune-policy vex list`` uses, so this reuses the gate's loader and
its day arithmetic. ``today`` is a parameter so the page (and its tests) can
be rendered for any date; a register the gate would refuse returns its
problems, which fail a strict build.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from checker.docs.mdtables import code, escape, table
from checker.errors import Problem
from checker.vex.listing import days_text
from checker.vex.loader import VexSet, load_vex
from checker.vex.register import Entry, LicenseException, VulnerabilityEntry

LinkFor = Callable[[str], str | None]


@dataclass(slots=True)
class LoadedVex:
    vex: VexSet
    today: date
    problems: list[Problem] = field(default_factory=list)


def load(vex_dir: Path, adr_ids: set[str], today: date, adr_dir: str = "adr") -> LoadedVex:
    """Load the register as ``rune-policy check`` would; never raises.

    ``adr_dir`` names the ADR folder in messages, as the repository's reader knows it.
    """
    vex = load_vex([vex_dir], adr_ids=adr_ids, today=today, adr_dir=adr_dir)
    # Expired entries are shown as expired, not treated as broken: the page
    # exists to make them visible, and a build must not fail because a day passed.
    return LoadedVex(vex, today, list(vex.errors))


def _reference(reference: str, link_for: LinkFor) -> str:
    target = link_for(reference) if reference.startswith("ADR-") else None
    if target:
        return f"[{reference}]({target})"
    if reference.startswith("https://"):
        return f"<{reference}>"
    return escape(reference)


def _row(entry: Entry, today: date, link_for: LinkFor) -> list[str]:
    if isinstance(entry, LicenseException):
        subject = code(entry.subject.describe())
        what = escape(entry.waives) + "<br>" + escape(entry.reason)
    else:
        assert isinstance(entry, VulnerabilityEntry)
        names = ", ".join(code(n) for n in (entry.vulnerability, *entry.aliases))
        products = ", ".join(code(p.describe()) for p in entry.products)
        subject = f"{names} in {products}"
        what = escape(entry.status + (f" ({entry.justification})" if entry.justification else ""))
    return [
        code(entry.id),
        entry.kind,
        subject,
        what,
        _reference(entry.reference, link_for),
        escape(entry.approver),
        entry.expires.isoformat(),
        days_text(entry.days_left(today)),
    ]


HEADER = ["ID", "Kind", "Component or vulnerability", "Waives or status", "Reference"]
HEADER += ["Approver", "Expires", "Days left"]


def render_register(loaded: LoadedVex, link_for: LinkFor) -> str:
    """Active entries, then expired ones, each with days left as of ``loaded.today``."""
    vex, today = loaded.vex, loaded.today
    out: list[str] = []
    if loaded.problems:
        out += ['!!! failure "The register has problems the gate would refuse"', ""]
        out += [f"    - {escape(str(p))}" for p in loaded.problems]
        out.append("")
    entries = vex.register.entries
    active = [e for e in entries if not e.expired(today)]
    expired = [e for e in entries if e.expired(today)]
    files = ", ".join(code(_shown(f)) for f in vex.register.files) or "no register file"
    out.append(
        f"As of {today.isoformat()}: {len(active)} active and {len(expired)} expired "
        f"entr{'y' if len(entries) == 1 else 'ies'} in {files}.\n"
    )
    out += ["### Active entries", ""]
    if active:
        out.append(table(HEADER, [_row(e, today, link_for) for e in active]))
    else:
        out.append("No exception is in force: every finding the gate reports counts.\n")
    out += ["", "### Expired entries", ""]
    if expired:
        out.append(table(HEADER, [_row(e, today, link_for) for e in expired]))
    else:
        out.append("None. An expired entry stops accepting findings the day after it expires.\n")
    return "\n".join(out)


def _shown(path: object) -> str:
    """A register file as the reader knows it (``vex/register.yaml``), not the
    absolute path of the machine that built the site."""
    text = str(path)
    parts = text.replace("\\", "/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else text
