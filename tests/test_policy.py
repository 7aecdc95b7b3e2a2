"""Loading and validating the policy: the real one, and a broken one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from checker.errors import PolicyError
from checker.evaluation import Evaluator
from checker.gate import check
from checker.license_categories import load_index
from checker.model import Component, Kind, LicenseEvidence, Origin, Severity
from checker.policy import load_policy

ROOT = Path(__file__).resolve().parents[1]
BROKEN = ROOT / "tests" / "data" / "policy" / "broken"


def test_repository_policy_loads_and_covers_the_seed_table() -> None:
    policy = load_policy(ROOT / "policy")
    by_id = {d.id: d for d in policy.decisions}
    decisions = {d.decision for d in policy.decisions}
    assert decisions == {"approved", "approved-byo", "rejected"}
    names = " ".join(d.name.lower() for d in policy.decisions)
    for needle in (
        "postgresql",
        "psycopg",
        "cloudnativepg",
        "bitnami",
        "stackgres",
        "mariadb",
        "cockroachdb",
    ):
        assert needle in names, needle
    # every row's ADR resolves to a file
    for decision in by_id.values():
        assert decision.adr in policy.adr_files


def test_broken_policy_reports_every_problem_with_file_and_line() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(BROKEN / "policy")
    problems = caught.value.problems
    text = str(caught.value)
    assert len(problems) >= 15
    assert all(p.location.startswith("line ") for p in problems)
    files = {Path(p.path).name for p in problems}
    assert files == {"licenses.yaml", "dependencies.yaml"}
    expected = [
        ("dependencies.yaml", "line 15", "duplicate id 'psycopg'"),
        ("dependencies.yaml", "line 19", "ADR-0099 does not resolve"),
        ("dependencies.yaml", "line 17", "decision 'maybe'"),
        ("dependencies.yaml", "line 14", "'~=3'"),
        ("dependencies.yaml", "line 27", "must be normalized as REGISTRY/REPOSITORY"),
        ("dependencies.yaml", "line 30", "unknown key 'colour'"),
        ("licenses.yaml", "line 7", "unknown kind 'os-pakage'"),
        ("licenses.yaml", "line 13", "'fatal'"),
        ("licenses.yaml", "line 17", "already mapped at line 15"),
        ("licenses.yaml", "line 19", "'BSD-3-Clause OR'"),
    ]
    for name, location, fragment in expected:
        assert any(
            Path(p.path).name == name and p.location == location and fragment in p.message
            for p in problems
        ), (name, location, fragment, text)


def test_duplicate_yaml_keys_are_reported(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "policy", tmp_path / "policy")
    shutil.copytree(ROOT / "adr", tmp_path / "adr")
    deps = tmp_path / "policy" / "dependencies.yaml"
    deps.write_text(deps.read_text(encoding="utf-8") + "version: 1\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "policy")
    assert any("duplicate key 'version'" in p.message for p in caught.value.problems)


def test_unresolvable_adr_folder_is_a_policy_error(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "policy", tmp_path / "policy")
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "policy")
    assert any("no ADR files" in p.message for p in caught.value.problems)


def test_malformed_yaml_names_line_and_column(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "policy", tmp_path / "policy")
    shutil.copytree(ROOT / "adr", tmp_path / "adr")
    (tmp_path / "policy" / "licenses.yaml").write_text("version: 1\ndenied: [\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "policy")
    (problem,) = [p for p in caught.value.problems if p.path.endswith("licenses.yaml")]
    assert problem.location.startswith("line ")
    assert "not valid YAML" in problem.message


def test_unsafe_yaml_tags_are_refused(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "policy", tmp_path / "policy")
    shutil.copytree(ROOT / "adr", tmp_path / "adr")
    (tmp_path / "policy" / "licenses.yaml").write_text(
        "version: !!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8"
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "policy")
    assert any("YAML tag" in p.message and p.location == "line 1" for p in caught.value.problems), (
        caught.value.problems
    )


def _policy_with_rows(tmp_path: Path, rows: str) -> Path:
    """A copy of the real policy with ``rows`` added at the top of ``components``."""
    shutil.copytree(ROOT / "policy", tmp_path / "policy")
    shutil.copytree(ROOT / "adr", tmp_path / "adr")
    deps = tmp_path / "policy" / "dependencies.yaml"
    text = deps.read_text(encoding="utf-8")
    assert text.count("\ncomponents:\n") == 1
    deps.write_text(text.replace("\ncomponents:\n", "\ncomponents:\n" + rows, 1), "utf-8")
    return tmp_path / "policy"


def test_require_digest_is_validated(tmp_path: Path) -> None:
    rows = """
  - id: not-a-bool
    name: x
    decision: approved
    rationale: x
    adr: ADR-0006
    require_digest: "yes"
    match: {images: ["docker.io/example/one"]}
  - id: on-a-rejection
    name: x
    decision: rejected
    rationale: x
    adr: ADR-0006
    require_digest: true
    match: {images: ["docker.io/example/two"]}
  - id: without-images
    name: x
    decision: approved
    rationale: x
    adr: ADR-0006
    require_digest: true
    match: {purls: ["pkg:pypi/example"]}
"""
    with pytest.raises(PolicyError) as caught:
        load_policy(_policy_with_rows(tmp_path, rows))
    messages = [(p.location, p.message) for p in caught.value.problems]
    assert len(messages) == 3, messages
    assert "'require_digest' must be true or false, found" in messages[0][1]
    assert "a rejected image fails whether it is pinned or not" in messages[1][1]
    assert "needs 'match.images'" in messages[2][1]
    assert all(location.startswith("line ") for location, _ in messages)


def test_require_digest_makes_an_unpinned_image_an_error(tmp_path: Path) -> None:
    rows = """
  - id: strict-image
    name: An image that must be pinned
    decision: approved
    license: MIT
    rationale: x
    adr: ADR-0006
    require_digest: true
    match: {images: ["docker.io/example/strict"]}
  - id: lax-image
    name: An image that should be pinned
    decision: approved
    license: MIT
    rationale: x
    adr: ADR-0006
    match: {images: ["docker.io/example/lax"]}
"""
    policy = load_policy(_policy_with_rows(tmp_path, rows))
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n"
        "  strict:\n    image: example/strict:1\n"
        "  lax:\n    image: example/lax:1\n"
        "  pinned:\n    image: example/strict:1@sha256:" + "ab" * 32 + "\n",
        encoding="utf-8",
    )
    result = check([compose], policy)
    unpinned = {
        (f.policy_entry, f.severity.value) for f in result.findings if f.rule == "unpinned-image"
    }
    assert unpinned == {("strict-image", "error"), ("lax-image", "warning")}
    assert result.verdict == "fail"


# --- phrases, filler, mentions, categories and scopes (issue 13, items 4-6) -----
# Why: these sections decide verdicts like the lists above, so a typo in one
# (a regex that does not compile, a category ScanCode does not have, a scope no
# reader records) must stop the run at its line, never silently decide nothing.


def _licenses_with(tmp_path: Path, extra: str) -> Path:
    """A copy of the real policy with ``extra`` YAML appended to licenses.yaml."""
    shutil.copytree(ROOT / "policy", tmp_path / "policy")
    shutil.copytree(ROOT / "adr", tmp_path / "adr")
    licenses = tmp_path / "policy" / "licenses.yaml"
    text = licenses.read_text(encoding="utf-8")
    for section in ("phrases", "filler", "mentions", "denied_categories", "scopes"):
        if extra.startswith(f"{section}:") or f"\n{section}:" in extra:  # the new one replaces it
            start = text.index(f"\n{section}:")
            end = text.find("\n\n", start + 1)
            text = text[:start] + (text[end:] if end != -1 else "\n")
    licenses.write_text(text + "\n" + extra, encoding="utf-8")
    return tmp_path / "policy"


def _problems(policy_dir: Path) -> list[tuple[str, str]]:
    with pytest.raises(PolicyError) as caught:
        load_policy(policy_dir)
    return [(p.location, p.message) for p in caught.value.problems]


def test_the_repository_policy_reads_free_text_categories_and_scopes() -> None:
    rules = load_policy(ROOT / "policy").licenses
    assert rules.normalizer.phrases and rules.normalizer.filler and rules.normalizer.mentions
    assert {c for r in rules.rules.denied_categories for c in r.categories} >= {
        "Commercial",
        "Source-available",
    }
    assert rules.rules.scope_section("dev") is not None
    assert rules.rules.scope_section("required") is None


def test_broken_free_text_rows_are_reported_at_their_lines(tmp_path: Path) -> None:
    extra = """phrases:
  - pattern: '(unclosed'
    spdx: MIT
  - pattern: '(?:x)?'
    spdx: MIT
  - pattern: 'fine'
    spdx: 'MIT AND'
filler:
  - pattern: '\\s*'
mentions:
  - pattern: 'affero'
    family: 'AGPL 3'
    judged_as: AGPL-3.0-only
  - pattern: 'sspl'
    family: SSPL
    judged_as: SSPL-1.0 OR MIT
"""
    problems = _problems(_licenses_with(tmp_path, extra))
    text = "\n".join(f"{loc}: {msg}" for loc, msg in problems)
    for fragment in (
        "not a valid regular expression",
        "matches the empty string",
        "phrase target 'MIT AND'",
        "may hold only letters, digits",
        "must be one SPDX license id",
    ):
        assert fragment in text, (fragment, text)
    assert all(loc.startswith("line ") for loc, _ in problems)


def test_unknown_categories_and_scopes_are_policy_errors(tmp_path: Path) -> None:
    extra = """denied_categories:
  - categories: [Commerical]
    reason: typo
allowed_categories: [Permissive, Commercial]
scopes:
  devel:
    reason: typo
    allowed: [GPL-*]
  dev:
    reason: allows nothing
"""
    denied = "\n  - categories: [Commercial]\n    reason: x\n"
    problems = _problems(
        _licenses_with(
            tmp_path, extra.replace("\nallowed_categories", denied + "allowed_categories", 1)
        )
    )
    text = "\n".join(msg for _, msg in problems)
    assert "unknown category 'Commerical' (ScanCode LicenseDB categories: " in text
    assert "Proprietary Free" in text  # the message lists what exists
    assert "category 'Commercial' is also denied" in text
    assert "unknown scope 'devel'" in text
    assert "scope 'dev' allows nothing" in text


def test_category_names_may_be_written_in_the_issue_spelling(tmp_path: Path) -> None:
    extra = "allowed_categories: [public-domain, copyleft_limited]\n"
    rules = load_policy(_licenses_with(tmp_path, extra)).licenses.rules
    assert [r.categories for r in rules.allowed_categories] == [
        ("Public Domain",),
        ("Copyleft Limited",),
    ]


def test_a_policy_without_categories_never_reads_the_index(tmp_path: Path) -> None:
    policy_dir = _licenses_with(tmp_path, "denied_categories: []\n")
    licenses = policy_dir / "licenses.yaml"
    text = licenses.read_text(encoding="utf-8")
    licenses.write_text(text.replace("    allowed_categories: [Copyleft, Copyleft Limited]\n", ""))
    load_index.cache_clear()
    load_policy(policy_dir)
    assert load_index.cache_info().currsize == 0
    load_policy(ROOT / "policy")  # this one names categories
    assert load_index.cache_info().currsize == 1


def _component(text: str, scope: str | None) -> Component:
    origin = Origin("uv.lock", "line 1")
    return Component(
        "some-tool", origin, "1.0", licenses=[LicenseEvidence(text, origin)], scope=scope
    )


def test_the_gate_judges_a_dev_dependency_by_the_dev_section_and_says_so() -> None:
    evaluator = Evaluator(load_policy(ROOT / "policy"))
    assert evaluator.evaluate(_component("GPL-3.0-or-later", "dev")) == []
    (shipped,) = evaluator.evaluate(_component("GPL-3.0-or-later", "required"))
    assert shipped.rule == "denied-license" and "scope" not in shipped.message
    (agpl,) = evaluator.evaluate(_component("AGPL-3.0-only", "dev"))
    assert agpl.rule == "denied-license"
    assert agpl.message.endswith("(dev scope)")


def test_the_gate_reports_unmappable_text_naming_agpl_as_denied() -> None:
    evaluator = Evaluator(load_policy(ROOT / "policy"))
    component = _component("Affero-style license terms (see COPYING)", None)
    component.kind = Kind.OS_PACKAGE  # unknown is only a warning for OS packages
    (finding,) = evaluator.evaluate(component)
    assert finding.rule == "denied-license"
    assert finding.severity is Severity.ERROR
    assert "mentions AGPL-3.0" in finding.message
