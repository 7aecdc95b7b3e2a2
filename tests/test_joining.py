"""Lockfile entries get their licenses from the other inputs of the run.

A lockfile says ``some-agpl-lib==1.0`` and nothing about its license; the
gate must not pass it for that. The same release in an SBOM of the same run
(same purl and exact version) is the same component, judged once on the
SBOM's statement; else the decision table speaks for known components,
else the entry fails closed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.cli import main
from checker.gate import check
from checker.model import Finding
from checker.policy import Policy, load_policy
from checker.sbom.piplicenses import normalize_pypi_name

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "joining"
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / "policy")


def by_component(findings: list[Finding], name: str) -> dict[str, Finding]:
    wanted = normalize_pypi_name(name)
    return {f.rule: f for f in findings if normalize_pypi_name(f.component.name) == wanted}


def test_agpl_in_a_lockfile_fails_once_the_sbom_says_so(policy: Policy) -> None:
    alone = check([DATA / "requirements.txt"], policy)
    assert by_component(alone.findings, "some-agpl-lib").keys() == {"unknown-license"}

    joined = check([DATA / "requirements.txt", DATA / "sbom.cdx.json"], policy)
    found = [f for f in joined.findings if normalize_pypi_name(f.component.name) == "some-agpl-lib"]
    # one component, one finding: the lock entry is not reported a second time
    assert [f.rule for f in found] == ["denied-license"]
    agpl = found[0]
    assert agpl.license == "AGPL-3.0-or-later"
    assert agpl.source.path == str(DATA / "sbom.cdx.json")
    assert [(o.path, o.location) for o in agpl.also] == [(str(DATA / "requirements.txt"), "line 3")]


def test_join_needs_the_exact_version_and_falls_back_to_the_table(policy: Policy) -> None:
    result = check([DATA / "requirements.txt", DATA / "sbom.cdx.json"], policy)
    # the SBOM knows unlisted-lib 1.9, the lock pins 2.0: a different release
    assert by_component(result.findings, "unlisted-lib").keys() == {"unknown-license"}
    # PyYAML 6.0.3 joins (the SBOM spells it PyYAML, the lock pyyaml): it passes
    assert by_component(result.findings, "pyyaml") == {}
    # psycopg is in no SBOM: its license comes from the decision table row
    assert by_component(result.findings, "psycopg") == {}
    lock = next(r for r in result.inputs if r.format == "requirements")
    psycopg = next(c for c in lock.components if c.name == "psycopg")
    assert psycopg.licenses == []  # nothing was invented on the component itself


def test_report_says_where_each_license_came_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "check",
            str(DATA / "requirements.txt"),
            str(DATA / "sbom.cdx.json"),
            "--policy",
            str(ROOT / "policy"),
            "--format",
            "json",
        ]
    )
    assert code == 1
    report = json.loads(capsys.readouterr().out)
    denied = [f for f in report["findings"] if f["rule"] == "denied-license"]
    assert len(denied) == 1
    assert denied[0]["source"]["path"].endswith("sbom.cdx.json")
    assert [a["path"] for a in denied[0]["also"]] == [str(DATA / "requirements.txt")]
    assert report["summary"]["entries"] > report["summary"]["components"]


def test_approved_image_without_digest_is_unpinned(policy: Policy) -> None:
    result = check([DATA / "compose.yaml"], policy)
    unpinned = [f for f in result.findings if f.rule == "unpinned-image"]
    assert len(unpinned) == 1  # the pinned reference is not flagged
    assert unpinned[0].component.version == "17-alpine"
    # The official postgres row requires a digest (require_digest), so this is
    # an error whatever the policy-wide `unpinned_image` (a warning) says;
    # tests/test_policy.py shows the warning for a row without the flag.
    assert policy.unpinned_image.value == "warning"
    assert unpinned[0].severity.value == "error"
    assert unpinned[0].policy_entry == "postgres-official-image"
    assert result.verdict == "fail"


def test_lockfile_verdicts_on_the_corpus(policy: Policy) -> None:
    locks = CORPUS / "lockfiles"
    if not locks.is_dir():
        pytest.skip(f"shared corpus absent at {CORPUS}")
    pipfile = check([locks / "trivy-ci-test" / "Pipfile.lock"], policy)
    rejected = [f for f in pipfile.findings if f.rule == "rejected-component"]
    assert [(f.component.name, f.policy_entry) for f in rejected] == [
        ("psycopg2-binary", "psycopg2")
    ]
    typeorm = check([locks / "typeorm" / "package-lock.json"], policy)
    stack = [f for f in typeorm.findings if f.rule == "unapproved-stack-component"]
    assert [(f.component.name, f.component.version) for f in stack] == [("pg", "8.16.3")]
    uv = check([locks / "full-stack-fastapi-template_2026" / "uv.lock"], policy)
    psycopg = [f for f in uv.findings if f.component.name.startswith("psycopg")]
    assert psycopg == []  # decided by the table, licensed by its row


def test_bitnamilegacy_images_are_the_bitnami_images(policy: Policy, tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n"
        "  legacy:\n    image: bitnamilegacy/postgresql:16\n"
        "  digest:\n    image: postgres@sha256:" + "ab" * 32 + "\n",
        encoding="utf-8",
    )
    result = check([compose], policy)
    rejected = [f for f in result.findings if f.rule == "rejected-component"]
    assert [(f.component.name, f.policy_entry) for f in rejected] == [
        ("docker.io/bitnamilegacy/postgresql", "bitnami-postgresql-images")
    ]
    # a digest-pinned official image is approved and not flagged as unpinned
    assert not [f for f in result.findings if f.rule == "unpinned-image"]
