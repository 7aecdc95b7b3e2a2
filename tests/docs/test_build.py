"""The site builds strictly, every link in it resolves offline, and bad data fails the build.

Why: a broken link or a policy that no longer loads must stop a merge, not
reach readers; and the site is read where there is no network, so nothing in
it may point at fonts or scripts on the internet.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from checker.rules import RuleId

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = ROOT / ".venv" / "bin" / "mkdocs"
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "RUNE_DOCS_TODAY": "2026-11-25"}

pytestmark = pytest.mark.skipif(not MKDOCS.exists(), reason=f"{MKDOCS} not installed")


def build(root: Path, dest: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MKDOCS), "build", "--strict", "-d", str(dest)],
        cwd=root,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("site")
    result = build(ROOT, dest)
    assert result.returncode == 0, result.stdout + result.stderr
    return dest


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value is not None:
                self.links.append((tag, value))


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_link_and_anchor_resolves_in_the_built_site(site: Path) -> None:
    pages = {p: _parse(p) for p in site.rglob("*.html")}
    broken = []
    for page, parsed in pages.items():
        for tag, link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "mailto", "data"):
                continue
            if not parts.path:
                target = page
            elif parts.path.startswith("/"):  # root-relative (404.html): as a server reads it
                target = (site / unquote(parts.path).lstrip("/")).resolve()
            else:
                target = (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(site)}: <{tag}> {link} (no file)")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(site)}: {link} (no anchor)")
    assert not broken, "\n".join(broken)


def test_no_fonts_or_scripts_are_loaded_from_the_network(site: Path) -> None:
    offenders = []
    for page in site.rglob("*.html"):
        for tag, link in _parse(page).links:
            external = urlsplit(link).scheme in ("http", "https") or link.startswith("//")
            if external and tag in ("script", "link", "img", "iframe", "source"):
                offenders.append(f"{page.relative_to(site)}: <{tag}> {link}")
    css = " ".join(p.read_text(encoding="utf-8") for p in site.rglob("*.css"))
    assert "fonts.googleapis" not in css and "fonts.gstatic" not in css
    assert not offenders, "\n".join(offenders)


def test_generated_pages_hold_the_data(site: Path) -> None:
    licensing = (site / "compliance" / "licensing.html").read_text(encoding="utf-8")
    assert "LGPL-3.0-only" in licensing and "LicenseRef-CockroachDB-Software-License" in licensing
    index = (site / "architecture" / "index.html").read_text(encoding="utf-8")
    for adr in sorted((ROOT / "adr").glob("[0-9]*.md")):
        assert f"ADR-{adr.name[:4]}" in index
        assert (site / "architecture" / "adr" / adr.with_suffix(".html").name).is_file()
    cli = (site / "compliance" / "cli.html").read_text(encoding="utf-8")
    assert "rune-policy vex add" in cli and "--max-input-size" in cli
    assert "--today" not in cli  # hidden option stays hidden
    assert "migrate-to-postgres" in (site / "search" / "search_index.json").read_text()


def test_the_rule_reference_has_an_anchor_for_every_rule_id(site: Path) -> None:
    page = _parse(site / "compliance" / "rules.html")
    assert {str(rule_id) for rule_id in RuleId} <= page.ids


def _copy_tree(dest: Path) -> Path:
    for name in ("docs", "policy", "adr", "vex"):
        shutil.copytree(ROOT / name, dest / name)
    shutil.copy(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    hook = dest / "checker" / "docs"
    hook.mkdir(parents=True)
    shutil.copy(ROOT / "checker" / "docs" / "mkdocs_hooks.py", hook / "mkdocs_hooks.py")
    return dest


def test_a_broken_policy_fails_the_strict_build_naming_the_file(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path / "repo")
    deps = tree / "policy" / "dependencies.yaml"
    deps.write_text(deps.read_text().replace("adr: ADR-0006", "adr: ADR-0999", 1))
    result = build(tree, tmp_path / "out")
    assert result.returncode != 0
    assert "policy/dependencies.yaml" in result.stderr and "ADR-0999" in result.stderr


def test_an_adr_with_bad_front_matter_fails_the_strict_build(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path / "repo")
    adr = tree / "adr" / "0008-vex-register-format.md"
    adr.write_text(adr.read_text().replace('status: "accepted"', 'status: "approved"', 1))
    result = build(tree, tmp_path / "out")
    assert result.returncode != 0
    assert re.search(r"adr/0008-vex-register-format\.md:status: 'approved' is not", result.stderr)


def test_a_link_to_a_missing_page_fails_the_strict_build(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path / "repo")
    page = tree / "docs" / "operations" / "index.md"
    page.write_text(page.read_text() + "\nSee [gone](no-such-page.md).\n")
    result = build(tree, tmp_path / "out")
    assert result.returncode != 0 and "no-such-page.md" in result.stderr
