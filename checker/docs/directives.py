"""The site's data, loaded once per build, and the ``<!-- rune:NAME -->`` markers.

Pages are written by people and include generated content through HTML
comment markers, which stay invisible on GitHub and in editors. A marker the
renderer does not know is a problem, not silently dropped text (a typo would
otherwise publish a page without its table). Markers inside fenced code are
left alone, as are markers in inline code, so pages can show the convention
itself.

Two marker names belong to the test suite, not to rendering: ``rune:run``
marks a code block that ``tests/docs/test_commands.py`` executes, and
``rune:output`` marks the sample output it checks.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from checker.adr_folder import adr_folder
from checker.cli import build_parser
from checker.docs import adrs, decisions, imagespage, licensecategories, vexpage
from checker.docs.clireference import render_cli
from checker.docs.rulereference import render_rules
from checker.errors import Problem

#: Where the ADR pages appear in the site (``adr/NNNN-x.md`` -> this folder).
ADR_FOLDER = "architecture/adr"
#: The nav placeholder the ADR entries replace.
ADR_NAV_PLACEHOLDER = "rune:adr-records"
#: Markers the test suite reads; rendering leaves them in place (they are comments).
TEST_MARKERS = frozenset({"run", "output"})

MARKER = re.compile(r"<!--\s*rune:([A-Za-z0-9_-]+)\b[^>]*?-->")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(slots=True)
class SiteData:
    """Everything generated pages are rendered from, read from one repository root."""

    root: Path
    today: date
    adrs: adrs.AdrSet
    policy: decisions.LoadedPolicy
    vex: vexpage.LoadedVex
    problems: list[Problem] = field(default_factory=list)


def load_site(root: Path, today: date) -> SiteData:
    """Read ``adr/``, ``policy/`` and ``vex/`` under ``root``; collect every problem."""
    policy_dir = root / "policy"
    adr_dir = adr_folder(policy_dir)
    adr_set = adrs.load_adrs(adr_dir)
    policy = decisions.load(policy_dir, adr_dir)
    adr_ids = {r.id for r in adr_set.records}
    vex = vexpage.load(root / "vex", adr_ids, today, adr_dir.relative_to(root).as_posix())
    problems = [*adr_set.problems, *policy.problems, *vex.problems]
    return SiteData(root, today, adr_set, policy, vex, _relative(problems, root))


def _relative(problems: list[Problem], root: Path) -> list[Problem]:
    """Problems name files relative to the repository, as a reviewer reads them."""
    out = []
    for p in problems:
        path = Path(p.path)
        if path.is_absolute() and path.is_relative_to(root):
            path = path.relative_to(root)
        out.append(Problem(str(path), p.location, p.message))
    return out


def adr_linker(data: SiteData, page_uri: str) -> Callable[[str], str | None]:
    """ADR-NNNN -> a link relative to ``page_uri``, or None for an unknown record."""
    base = posixpath.dirname(page_uri)

    def link_for(adr_id: str) -> str | None:
        record = data.adrs.get(adr_id)
        if record is None:
            return None
        return posixpath.relpath(record.src_uri(ADR_FOLDER), base or ".")

    return link_for


def adr_pages(data: SiteData) -> dict[str, str]:
    """src_uri -> Markdown for every readable ADR."""
    pages = {}
    for record in data.adrs.records:
        uri = record.src_uri(ADR_FOLDER)
        source = record.path.relative_to(data.root).as_posix()
        pages[uri] = adrs.render_page(record, adr_linker(data, uri), source)
    return pages


def adr_nav(data: SiteData) -> list[dict[str, str]]:
    return adrs.nav_entries(data.adrs, ADR_FOLDER)


def render_directive(name: str, data: SiteData, page_uri: str) -> str | None:
    """The Markdown a marker stands for, or None if the name is unknown."""
    link_for = adr_linker(data, page_uri)
    if name == "decision-table":
        return decisions.render_decision_table(data.policy, link_for)
    if name == "license-policy":
        return decisions.render_license_policy(data.policy)
    if name == "license-categories":
        return licensecategories.render_categories(data.policy)
    if name == "license-scopes":
        return licensecategories.render_scopes(data.policy)
    if name == "license-free-text":
        return licensecategories.render_free_text(data.policy)
    if name == "image-knowledge":
        return imagespage.render_images(data.policy)
    if name == "vex-register":
        return vexpage.render_register(data.vex, link_for)
    if name == "adr-index":
        return adrs.render_index(data.adrs, link_for)
    if name == "cli-reference":
        return render_cli(build_parser())
    if name == "rule-reference":
        return render_rules()
    return None


def expand(markdown: str, data: SiteData, page_uri: str) -> tuple[str, list[Problem]]:
    """Replace every marker outside fenced code; unknown markers are problems."""
    problems: list[Problem] = []
    out: list[str] = []
    fenced = False
    for number, line in enumerate(markdown.splitlines(keepends=True), start=1):
        if _FENCE.match(line):
            fenced = not fenced
        if fenced or "rune:" not in line:
            out.append(line)
            continue

        def replace(match: re.Match[str], number: int = number) -> str:
            name = match.group(1)
            if name in TEST_MARKERS:
                return match.group(0)
            rendered = render_directive(name, data, page_uri)
            if rendered is None:
                problems.append(
                    Problem(page_uri, f"line {number}", f"unknown marker <!-- rune:{name} -->")
                )
                return match.group(0)
            return rendered

        parts = line.split("`")
        for i in range(0, len(parts), 2):  # even parts are outside inline code
            parts[i] = MARKER.sub(replace, parts[i])
        out.append("`".join(parts))
    return "".join(out), problems
