"""ScanCode LicenseDB categories: the index license-expression ships, and the page.

Why: ``denied_categories`` fails closed on every Commercial or Source-available
license nobody listed, so the index must be read exactly as ScanCode files it
(an SPDX id, its other SPDX keys and its ``LicenseRef-scancode-`` key all land
in one category), a broken index must be a clear policy problem rather than a
traceback, and the documentation must show the categories in force from the
same data the gate loads.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import pytest

from checker.docs import decisions, directives
from checker.docs.licensecategories import render_categories, render_free_text, render_scopes
from checker.errors import PolicyError
from checker.license_categories import (
    CategoryIndexError,
    default_index_path,
    load_index,
    slug,
)
from checker.policy import load_policy

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_index_files_spdx_ids_and_scancode_keys_in_one_category() -> None:
    index = load_index()
    raw = json.loads(default_index_path().read_text(encoding="utf-8"))
    agpl = next(e for e in raw if e["spdx_license_key"] == "AGPL-3.0-only")
    assert index.category("AGPL-3.0-only") == agpl["category"]
    assert index.category(f"LicenseRef-scancode-{agpl['license_key']}") == agpl["category"]
    for other in agpl["other_spdx_license_keys"]:
        assert index.category(other) == agpl["category"]
    assert index.category("agpl-3.0-ONLY") == agpl["category"]  # ids are case-insensitive
    assert index.category("LicenseRef-Not-In-The-Index") is None
    categories = {e["category"] for e in raw}
    assert set(index.names) == categories
    licenses = sum(1 for e in raw if not e["is_exception"])
    assert sum(len(ids) for ids in index.members.values()) == licenses


def test_the_index_is_read_once_and_quickly() -> None:
    load_index.cache_clear()
    start = time.perf_counter()
    first = load_index()
    elapsed = time.perf_counter() - start
    assert load_index() is first
    assert elapsed < 1.0, f"reading the category index took {elapsed:.3f} s"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Proprietary Free", "Proprietary Free"),
        ("proprietary-free", "Proprietary Free"),
        ("copyleft_limited", "Copyleft Limited"),
        ("SOURCE-AVAILABLE", "Source-available"),
        ("Public domain", "Public Domain"),
        ("copyleft-limitted", None),
    ],
)
def test_category_names_match_whatever_the_case_or_separator(
    written: str, canonical: str | None
) -> None:
    assert load_index().canonical(written) == canonical
    assert slug("Copyleft  Limited") == "copyleft-limited"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "cannot read the license category index"),
        (b"{not json", "is not valid JSON"),
        (b'{"license_key": "mit"}', "expected a list"),
        (b'[{"license_key": "mit"}]', "no license entries with a category"),
    ],
)
def test_a_broken_index_is_an_error_naming_the_file(
    tmp_path: Path, content: bytes | None, fragment: str
) -> None:
    path = tmp_path / "index.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CategoryIndexError) as caught:
        load_index(path)
    assert fragment in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_policy_naming_categories_without_an_index_is_a_policy_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import checker.policy.license_policy as license_policy

    def missing() -> None:
        raise CategoryIndexError("cannot read the license category index /nowhere: gone")

    monkeypatch.setattr(license_policy, "load_index", missing)
    with pytest.raises(PolicyError) as caught:
        load_policy(ROOT / "policy")
    (problem,) = caught.value.problems
    assert problem.location.startswith("line ")
    assert "categories need ScanCode's license index" in problem.message


def _loaded() -> decisions.LoadedPolicy:
    loaded = decisions.load(ROOT / "policy", ROOT / "adr")
    assert loaded.policy is not None
    return loaded


def test_the_page_shows_every_category_with_its_decision_and_size() -> None:
    loaded = _loaded()
    text = render_categories(loaded)
    rows = {
        cells[0]: cells
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| Category")
        for cells in [[c.strip() for c in line.strip("|").split(" | ")]]
    }
    index = load_index()
    assert set(rows) == set(index.names)
    assert loaded.policy is not None
    denied = {c for r in loaded.policy.licenses.rules.denied_categories for c in r.categories}
    for name in index.names:
        assert rows[name][1] == str(len(index.members[name]))
        assert rows[name][3].startswith("denied") is (name in denied), rows[name]
    assert "allowed in dev scope" in rows["Copyleft"][3]


def test_the_page_shows_scopes_and_every_free_text_rule() -> None:
    loaded = _loaded()
    assert loaded.policy is not None
    scopes = render_scopes(loaded)
    assert "| `dev` |" in scopes and "`GPL-2.0*`" in scopes
    free_text = render_free_text(loaded)
    normalizer = loaded.policy.licenses.normalizer
    for phrase in normalizer.phrases:
        assert f"| {phrase.line} |" in free_text
    for mention in normalizer.mentions:
        assert f"`{mention.licensee}`" in free_text


def test_the_license_policy_page_uses_the_markers() -> None:
    page = (ROOT / "docs" / "compliance" / "license-policy.md").read_text(encoding="utf-8")
    data = directives.load_site(ROOT, date(2026, 6, 1))
    text, problems = directives.expand(page, data, "compliance/license-policy.md")
    assert problems == []
    assert "rune:license-categories" not in text
    assert "| Source-available |" in text
