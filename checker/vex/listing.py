"""``vex list``: every entry with what it covers, its reference and the days it has left."""

from __future__ import annotations

from datetime import date

from checker.vex.loader import VexSet
from checker.vex.model import Entry, LicenseException, VulnerabilityEntry


def days_text(left: int) -> str:
    """``12 days left``, ``last day``, ``EXPIRED 3 days ago``."""
    if left < 0:
        return f"EXPIRED {-left} day{'s' if left != -1 else ''} ago"
    if left == 0:
        return "last day"
    return f"{left} day{'s' if left != 1 else ''} left"


def _row(entry: Entry, today: date) -> list[str]:
    if isinstance(entry, LicenseException):
        subject = entry.subject.describe()
        what = entry.waives
    else:
        assert isinstance(entry, VulnerabilityEntry)
        names = ", ".join((entry.vulnerability, *entry.aliases))
        products = ", ".join(p.describe() for p in entry.products)
        subject = f"{names} in {products}"
        what = f"{entry.status}" + (f" ({entry.justification})" if entry.justification else "")
        if entry.cvss is not None:
            what += f", CVSS {entry.cvss:g}"
    return [
        entry.id,
        entry.kind,
        subject,
        what,
        entry.reference,
        entry.approver,
        entry.expires.isoformat(),
        days_text(entry.days_left(today)),
    ]


def render_list(vex: VexSet, today: date) -> str:
    """A table of the register's entries, then the OpenVEX documents' statements."""
    header = ["ID", "KIND", "COMPONENT / VULNERABILITY", "WAIVES / STATUS", "REFERENCE"]
    header += ["APPROVER", "EXPIRES", "DAYS LEFT"]
    rows = [_row(e, today) for e in vex.register.entries]
    lines: list[str] = []
    if rows:
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    else:
        lines.append(f"no entries in {', '.join(vex.register.files) or ', '.join(vex.sources)}")
    expired = sum(1 for e in vex.register.entries if e.expired(today))
    lines.append("")
    lines.append(
        f"{len(rows)} entr{'ies' if len(rows) != 1 else 'y'}"
        + (f", {expired} expired" if expired else "")
        + f" (as of {today.isoformat()})"
    )
    for document in vex.documents:
        lines.append("")
        upgraded = f", upgraded from {document.upgraded_from}" if document.upgraded_from else ""
        lines.append(
            f"OpenVEX {document.path} (author {document.author or 'not given'}, "
            f"{len(document.statements)} statements{upgraded})"
        )
        for statement in document.statements:
            products = ", ".join(
                p.id + (f" [{', '.join(p.subcomponents)}]" if p.subcomponents else "")
                for p in statement.products
            )
            extra = f" ({statement.justification})" if statement.justification else ""
            lines.append(f"  {statement.vulnerability}: {statement.status}{extra} in {products}")
    return "\n".join(lines) + "\n"
