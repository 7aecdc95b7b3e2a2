"""One release, one component: grouping across inputs, and what each group is judged on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker import identity
from checker.gate import check
from checker.model import Component, ImageRef, Kind, LicenseEvidence, Origin, ReadResult
from checker.policy import Policy, load_policy
from checker.rules import RuleId

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / "policy")


def lib(name: str, version: str | None, purl: str | None = None, **extra: object) -> Component:
    return Component(name, Origin("x", "line 1"), version=version, purl=purl, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("pkg:pypi/Jinja2@3.1.6", "pkg:pypi/jinja2@3.1.6"),
        ("pkg:pypi/ruamel.yaml@0.18", "pkg:pypi/ruamel-yaml@0.18"),
        ("pkg:pypi/zope_interface@7", "pkg:PYPI/Zope.Interface@7"),
        ("pkg:deb/debian/libc6@2.36?arch=amd64", "pkg:deb/debian/libc6@2.36?arch=arm64"),
        ("pkg:npm/%40types/node@20.1.0", "pkg:npm/@types/node@20.1.0"),
        ("pkg:maven/org.a/b@1.0#sub/path", "pkg:maven/org.a/b@1.0"),
    ],
)
def test_spellings_of_one_release_are_one_component(left: str, right: str) -> None:
    assert identity.identity(lib("a", "1", left)) == identity.identity(lib("b", "1", right))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("pkg:pypi/jinja2@3.1.6", "pkg:pypi/jinja2@3.1.5"),
        ("pkg:pypi/jinja2@3.1.6", "pkg:npm/jinja2@3.1.6"),
        ("pkg:npm/Foo@1.0.0", "pkg:npm/foo@1.0.0"),  # npm names are case-sensitive
        ("pkg:npm/@scope/name", "pkg:npm/@scope/name@1.0"),
        ("pkg:golang/github.com/a/b@v1", "pkg:golang/github.com/a/c@v1"),
    ],
)
def test_different_releases_stay_apart(left: str, right: str) -> None:
    assert identity.identity(lib("a", "1", left)) != identity.identity(lib("a", "1", right))


def test_images_by_digest_else_by_repository_and_tag() -> None:
    digest = "sha256:" + "ab" * 32

    def image(tag: str | None, dig: str | None) -> Component:
        ref = ImageRef("docker.io", "library/postgres", tag, dig)
        return Component(str(ref), Origin("c"), kind=Kind.IMAGE, image=ref)

    assert identity.identity(image("17", digest)) == identity.identity(image("18", digest))
    assert identity.identity(image("17", None)) != identity.identity(image("18", None))
    assert identity.identity(image("17", None)) == identity.identity(image("17", None))


def test_without_a_purl_name_case_and_version_decide() -> None:
    assert identity.identity(lib("Foo", "1")) == identity.identity(lib("foo", "1"))
    assert identity.identity(lib("foo", "1")) != identity.identity(lib("foo", "2"))
    chart = lib("PostgreSQL", "16.7.24", kind=Kind.CHART)
    assert identity.identity(chart) == identity.identity(
        lib("postgresql", "16.7.24", kind=Kind.CHART)
    )


def _result(fmt: str, *components: Component) -> ReadResult:
    return ReadResult(fmt, fmt, list(components))


def test_a_group_is_judged_on_its_best_evidence_and_on_every_contradiction() -> None:
    purl = "pkg:pypi/thing@1.0"
    lock = lib("thing", "1.0", purl, digests=("sha256:" + "0" * 64,))
    said_mit = lib("Thing", "1.0", purl, licenses=[LicenseEvidence("MIT", Origin("bom"))])
    env_mit = lib("thing", "1.0", purl, licenses=[LicenseEvidence("MIT", Origin("env"))])
    env_gpl = lib("thing", "1.0", purl, licenses=[LicenseEvidence("GPL-3.0-only", Origin("env"))])
    results = [
        _result("requirements", lock),
        _result("environment", env_mit),
        _result("cyclonedx-json", said_mit),
    ]
    (only,) = identity.group(results)
    assert only.judged == [said_mit]  # the SBOM outranks the environment; the lock says nothing
    results.append(_result("environment", env_gpl))
    (only,) = identity.group(results)
    assert only.judged == [said_mit, env_gpl]  # a contradiction is judged, never dropped
    (alone,) = identity.group([_result("requirements", lock)])
    assert alone.judged == [lock]


def test_a_release_in_a_lock_and_an_sbom_is_one_finding(policy: Policy, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("left-pad==1.0\nmysqlclient==2.2.4\n")
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {
                "type": "library",
                "name": "MySQLclient",
                "version": "2.2.4",
                "purl": "pkg:pypi/MySQLclient@2.2.4",
                "licenses": [{"license": {"id": "GPL-2.0-only"}}],
            },
            {
                "type": "library",
                "name": "mysqlclient",
                "version": "2.2.4",
                "purl": "pkg:pypi/mysqlclient@2.2.4",
                "licenses": [{"license": {"id": "GPL-2.0-only"}}],
            },
        ],
    }
    (tmp_path / "bom.cdx.json").write_text(json.dumps(bom))
    result = check([tmp_path / "requirements.txt", tmp_path / "bom.cdx.json"], policy)
    assert (result.components, result.entries, len(result.inputs)) == (2, 4, 2)
    gpl = [f for f in result.findings if f.component.name.lower() == "mysqlclient"]
    assert [(f.rule, f.license) for f in gpl] == [(RuleId.DENIED_LICENSE, "GPL-2.0-only")]
    assert {o.path for o in gpl[0].also} == {
        str(tmp_path / "requirements.txt"),
        str(tmp_path / "bom.cdx.json"),
    }
    unknown = [f for f in result.findings if f.rule is RuleId.UNKNOWN_LICENSE]
    assert [f.component.name for f in unknown] == ["left-pad"]


def test_a_folder_with_nothing_recognisable_is_unreadable(policy: Policy, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = check([empty], policy)
    assert result.verdict == "fail" and [e.problem.path for e in result.input_errors] == [
        str(empty)
    ]
    assert "holds nothing recognisable" in result.input_errors[0].problem.message
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text("# not an input\n")
    (docs / "data.json").write_text('{"a": 1}\n')
    message = check([docs], policy).input_errors[0].problem.message
    assert "notes.md" in message and "2 entries passed over" in message
