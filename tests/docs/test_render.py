"""Unit tests of the renderers in checker/docs: the site shows the data, all of it.

Why: the pages exist so that nobody copies a table by hand again; these tests
prove the rendered tables follow the files (a new policy row appears with no
other edit), that bad data is reported rather than rendered half, and that the
ADR lifecycle rules hold.
"""

from __future__ import annotations

import argparse
import logging
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from checker.cli import build_parser
from checker.docs import adrs, decisions, directives, vexpage
from checker.docs.clireference import render_cli
from checker.docs.mdtables import code, escape, table

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 25)


def no_links(_: str) -> str | None:
    return None


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for name in ("policy", "adr", "vex"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


# --------------------------------------------------------------------------- policy


def test_decision_table_has_one_row_per_policy_entry() -> None:
    loaded = decisions.load(ROOT / "policy", ROOT / "adr")
    assert loaded.policy is not None
    text = decisions.render_decision_table(loaded, no_links)
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]
    ids = [
        c["id"]
        for c in yaml.safe_load((ROOT / "policy/dependencies.yaml").read_text())["components"]
    ]
    assert len(rows) == len(ids)
    for row, row_id in zip(rows, ids, strict=True):
        assert f"`{row_id}`" in row


def test_adding_a_policy_row_changes_the_table_with_no_other_edit(repo: Path) -> None:
    deps = repo / "policy" / "dependencies.yaml"
    deps.write_text(
        deps.read_text()
        + """
  - id: pg8000
    name: pg8000 (pure-Python PostgreSQL driver)
    decision: rejected
    license: BSD-3-Clause
    rationale: One driver is enough | psycopg 3 is it.
    adr: ADR-0006
    match:
      purls:
        - "pkg:pypi/pg8000"
"""
    )
    data = directives.load_site(repo, TODAY)
    assert data.problems == []
    text, problems = directives.expand("<!-- rune:decision-table -->\n", data, "x/licensing.md")
    assert problems == []
    assert "`pg8000`" in text and "One driver is enough \\| psycopg 3 is it." in text


def test_decision_table_links_adrs_relative_to_the_page() -> None:
    data = directives.load_site(ROOT, TODAY)
    text, _ = directives.expand("<!-- rune:decision-table -->", data, "compliance/licensing.md")
    assert "[ADR-0006](../architecture/adr/0006-postgresql-storage-backend.md)" in text


def test_license_policy_shows_every_allowed_id_and_normalization_row() -> None:
    loaded = decisions.load(ROOT / "policy", ROOT / "adr")
    text = decisions.render_license_policy(loaded)
    raw = yaml.safe_load((ROOT / "policy/licenses.yaml").read_text())
    for spdx in raw["allowed"]:
        assert code(spdx) in text
    for entry in raw["normalize"]:
        assert code(str(entry["spdx"])) in text
    assert "unknown license, os-package | warning" in text


def test_a_bad_policy_renders_a_failure_and_returns_its_problems(repo: Path) -> None:
    (repo / "policy" / "licenses.yaml").write_text("version: 1\ndenied: [\n")
    data = directives.load_site(repo, TODAY)
    assert any(p.path == "policy/licenses.yaml" for p in data.problems)
    text, _ = directives.expand("<!-- rune:decision-table -->", data, "c.md")
    assert '!!! failure "The decision table could not be rendered"' in text


def test_a_bad_policy_is_logged_as_a_mkdocs_warning(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from mkdocs.config import load_config

    from checker.docs import mkdocs_hooks

    shutil.copytree(ROOT / "docs", repo / "docs")
    shutil.copy(ROOT / "mkdocs.yml", repo / "mkdocs.yml")
    (repo / "checker" / "docs").mkdir(parents=True)
    shutil.copy(ROOT / "checker/docs/mkdocs_hooks.py", repo / "checker/docs/mkdocs_hooks.py")
    deps = repo / "policy" / "dependencies.yaml"
    deps.write_text(deps.read_text().replace("decision: rejected", "decision: maybe", 1))
    config = load_config(str(repo / "mkdocs.yml"))
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.rune"):
        mkdocs_hooks.on_config(config)
    warnings = [r for r in caplog.records if r.name == "mkdocs.plugins.rune"]
    assert warnings and all(r.levelno == logging.WARNING for r in warnings)
    assert any("policy/dependencies.yaml" in r.getMessage() for r in warnings)
    assert any("maybe" in r.getMessage() for r in warnings)


# --------------------------------------------------------------------------- VEX

ENTRY = """
  - id: LIC-{n:04d}
    kind: license
    component: pkg:npm/fuzzball@1.4.{n}
    license: GPL-2.0-only
    reason: Used only by the offline fuzzing harness, never shipped.
    approver: Jane Doe
    reference: ADR-0007
    created: 2026-01-01
    expires: {expires}
"""


def test_vex_register_shows_active_and_expired_entries_with_days_left(repo: Path) -> None:
    register = repo / "vex" / "register.yaml"
    register.write_text(
        register.read_text()
        + ENTRY.format(n=1, expires="2026-12-05")
        + ENTRY.format(n=2, expires="2026-11-20")
    )
    data = directives.load_site(repo, TODAY)
    assert data.problems == []
    text = vexpage.render_register(data.vex, directives.adr_linker(data, "compliance/vex.md"))
    active, expired = text.split("### Expired entries")
    assert "LIC-0001" in active and "10 days left" in active
    assert "LIC-0002" in expired and "EXPIRED 5 days ago" in expired
    assert "[ADR-0007](../architecture/adr/0007-policy-as-data.md)" in active
    assert "1 active and 1 expired" in text


def test_the_empty_register_says_so() -> None:
    loaded = vexpage.load(ROOT / "vex", {"ADR-0006", "ADR-0007"}, TODAY)
    text = vexpage.render_register(loaded, no_links)
    assert "0 active and 0 expired" in text and "No exception is in force" in text


def test_a_broken_register_entry_is_a_problem(repo: Path) -> None:
    register = repo / "vex" / "register.yaml"
    register.write_text(register.read_text() + ENTRY.format(n=1, expires="someday"))
    data = directives.load_site(repo, TODAY)
    assert any(p.path.endswith("register.yaml") for p in data.problems)


# --------------------------------------------------------------------------- ADRs

FRONT = """---
status: "{status}"
date: 2026-11-25
decision-makers:
  - someone
---

# {title}

{body}
"""


def write_adr(folder: Path, name: str, status: str, body: str = "Text.") -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(FRONT.format(status=status, title=name[5:-3], body=body))


def test_superseded_adr_without_the_reverse_link_is_a_problem(tmp_path: Path) -> None:
    write_adr(tmp_path, "0001-old.md", "superseded by ADR-0002")
    write_adr(tmp_path, "0002-new.md", "accepted")
    found = adrs.load_adrs(tmp_path)
    assert len(found.problems) == 1
    assert "reverse link" in found.problems[0].message
    assert found.problems[0].path.endswith("0002-new.md")


def test_superseded_adr_with_the_reverse_link_is_fine(tmp_path: Path) -> None:
    write_adr(tmp_path, "0001-old.md", "superseded by ADR-0002")
    write_adr(tmp_path, "0002-new.md", "accepted", "Supersedes ADR-0001.")
    found = adrs.load_adrs(tmp_path)
    assert found.problems == []
    index = adrs.render_index(found, lambda i: f"{i}.md")
    assert "superseded by [ADR-0002](ADR-0002.md)" in index


def test_supersedes_without_the_status_on_the_old_record_is_a_problem(tmp_path: Path) -> None:
    write_adr(tmp_path, "0001-old.md", "accepted")
    write_adr(tmp_path, "0002-new.md", "accepted", "Supersedes ADR-0001.")
    problems = adrs.load_adrs(tmp_path).problems
    assert [p.location for p in problems] == ["status"]
    assert "superseded by ADR-0002" in problems[0].message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# No front matter\n", "has no YAML front matter"),
        (FRONT.format(status="approved", title="t", body=""), "'approved' is not one of"),
        (FRONT.format(status="superseded by ADR-9999", title="t", body=""), "does not exist"),
        ("---\nstatus: accepted\ndate: 2026-11-25\ndeciders: [a]\n---\n# t\n", "renamed it"),
        ("---\nstatus: accepted\ndate: soon\ndecision-makers: [a]\n---\n# t\n", "YYYY-MM-DD"),
        ("---\nstatus: accepted\ndate: 2026-11-25\ndecision-makers: [a]\n---\nno title\n", "title"),
    ],
)
def test_bad_front_matter_is_reported(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "0001-x.md").write_text(text)
    problems = adrs.load_adrs(tmp_path).problems
    assert any(expected in p.message for p in problems), problems


def test_every_adr_in_the_repository_is_valid_and_in_the_nav() -> None:
    found = adrs.load_adrs(ROOT / "adr")
    assert found.problems == []
    nav = adrs.nav_entries(found, "architecture/adr")
    files = sorted(p.name for p in (ROOT / "adr").glob("[0-9]*.md"))
    assert [next(iter(item.values())).rsplit("/", 1)[1] for item in nav] == files


def test_adr_pages_link_other_adrs_outside_code_only() -> None:
    text = "See ADR-0007 and `ADR-0007`.\n```\nADR-0007\n```\n[ADR-0007](x.md)\n"
    out = adrs.linkify(text, lambda i: f"{i}.md")
    assert out.startswith("See [ADR-0007](ADR-0007.md) and `ADR-0007`.")
    assert "```\nADR-0007\n```" in out and "[ADR-0007](x.md)" in out


# --------------------------------------------------------------------------- CLI and markers


def _walk(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _walk(sub)
    return found


def test_cli_reference_lists_every_command_and_visible_option() -> None:
    text = render_cli(build_parser())
    for parser in _walk(build_parser()):
        assert f"`{parser.prog}`" in text
        for action in parser._actions:
            if action.help == argparse.SUPPRESS:
                for flag in action.option_strings:
                    assert f"`{flag}" not in text
            else:
                for flag in action.option_strings:
                    assert f"`{flag}" in text, (parser.prog, flag)


def test_unknown_markers_are_problems_and_fenced_ones_are_left_alone() -> None:
    data = directives.load_site(ROOT, TODAY)
    page = "<!-- rune:decision-tabel -->\n```md\n<!-- rune:nope -->\n```\n<!-- rune:run -->\n"
    text, problems = directives.expand(page, data, "p.md")
    assert [str(p) for p in problems] == [
        "p.md:line 1: unknown marker <!-- rune:decision-tabel -->"
    ]
    assert "<!-- rune:nope -->" in text and "<!-- rune:run -->" in text


def test_table_cells_are_escaped() -> None:
    assert escape("a | b *c*") == "a \\| b \\*c\\*"
    assert table(["x"], [[code("a|b")]]) == "| x |\n|---|\n| `a\\|b` |\n"
    with pytest.raises(ValueError, match="cells"):
        table(["x", "y"], [["1"]])
