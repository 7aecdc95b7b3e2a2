"""The image knowledge base: images get the license of the release they name.

Why: an image reference states no license, so before ``policy/images.yaml``
a compose file running MongoDB (SSPL) only warned ``unknown-license``. Each
license change the file records is pinned on both sides against the
repository's own policy, so a wrong range in the file, or a tag read the
wrong way, fails here; the bad-input cases pin that a broken file is a
policy error (exit 2) naming every problem with its line.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from checker.cli import main
from checker.errors import PolicyError
from checker.gate import check
from checker.model import Finding, Severity
from checker.policy import Policy, load_policy

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / "policy")


def _compose(tmp_path: Path, *images: str) -> Path:
    lines = ["services:"]
    for i, image in enumerate(images):
        lines += [f"  s{i}:", f"    image: {image}"]
    path = tmp_path / "compose.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _license_findings(policy: Policy, tmp_path: Path, image: str) -> list[Finding]:
    result = check([_compose(tmp_path, image)], policy)
    return [f for f in result.findings if f.rule in ("denied-license", "unknown-license")]


@pytest.mark.parametrize(
    ("image", "outcome", "license_"),
    [
        ("redis:7.2.4", "pass", None),
        ("redis:7.2", "pass", None),
        ("redis:7.4.0", "fail", "LicenseRef-scancode-redis-source-available-2.0 OR SSPL-1.0"),
        # redis:7 pulls the newest 7.x, which is 7.4 or later: judged as that.
        ("redis:7", "fail", "LicenseRef-scancode-redis-source-available-2.0 OR SSPL-1.0"),
        (
            "redis:8.0-alpine",
            "fail",
            "LicenseRef-scancode-redis-source-available-2.0 OR SSPL-1.0 OR AGPL-3.0-only",
        ),
        # 4.0.3 was released before the SSPL change of 2018-10-16, 4.0.4 after it.
        ("mongo:4.0.3", "fail", "AGPL-3.0-only"),
        ("mongo:4.0.4", "fail", "SSPL-1.0"),
        ("mongo:4.0", "fail", "SSPL-1.0"),
        ("grafana/grafana:7.5.0", "pass", None),
        ("grafana/grafana:8.0.0", "fail", "AGPL-3.0-only"),
        ("docker.elastic.co/elasticsearch/elasticsearch-oss:7.10.2", "pass", None),
        (
            "docker.elastic.co/elasticsearch/elasticsearch:7.10.2",
            "fail",
            "LicenseRef-scancode-elastic-license-2018",
        ),
        ("docker.elastic.co/elasticsearch/elasticsearch:7.11.0", "fail", "Elastic-2.0"),
        ("hashicorp/vault:1.14.8", "pass", None),
        ("hashicorp/vault:1.15.0", "fail", "BUSL-1.1"),
        ("valkey/valkey:8.0.1", "pass", None),
    ],
)
def test_each_license_change_is_judged_on_both_sides(
    policy: Policy, tmp_path: Path, image: str, outcome: str, license_: str | None
) -> None:
    result = check([_compose(tmp_path, image)], policy)
    failing = [
        f for f in result.findings if f.rule == "denied-license" and f.severity is Severity.ERROR
    ]
    assert not [f for f in result.findings if f.rule == "unknown-license"], image
    if outcome == "pass":
        assert not failing, [f.message for f in failing]
    else:
        (finding,) = failing
        assert finding.license == license_
        assert finding.license_source is not None
        assert "images.yaml:line" in finding.license_source


def test_latest_is_judged_as_the_newest_release_and_says_so(policy: Policy, tmp_path: Path) -> None:
    (finding,) = _license_findings(policy, tmp_path, "redis:latest")
    assert finding.rule == "denied-license"
    assert finding.license is not None and "AGPL-3.0-only" in finding.license
    assert finding.license_source is not None
    assert "tag 'latest': judged as the newest release's license" in finding.license_source
    assert "https://redis.io/" in finding.license_source


def test_a_release_the_file_does_not_cover_stays_unknown(policy: Policy, tmp_path: Path) -> None:
    # Elasticsearch 6.x and MongoDB 3.6 are not in the file: no guess.
    for image in ("elasticsearch:6.2.4", "mongo:3.6.8", "mongo:3.6"):
        (finding,) = _license_findings(policy, tmp_path, image)
        assert finding.rule == "unknown-license", image


def test_compose_with_mongodb_nextcloud_and_mssql_fails_naming_each(tmp_path: Path) -> None:
    compose = _compose(
        tmp_path,
        "mongo:7.0",
        "nextcloud:29",
        "mcr.microsoft.com/mssql/server:2022-latest",
        "postgres:17-alpine@sha256:" + "a" * 64,
    )
    result = check([compose], load_policy(ROOT / "policy"))
    assert result.verdict == "fail"
    denied = {f.component.name: f for f in result.findings if f.rule == "denied-license"}
    assert {name: f.license for name, f in denied.items()} == {
        "docker.io/library/mongo": "SSPL-1.0",
        "docker.io/library/nextcloud": "AGPL-3.0-or-later",
        "mcr.microsoft.com/mssql/server": "LicenseRef-scancode-commercial-license",
    }
    for finding in denied.values():
        assert finding.license_source is not None and "images.yaml:line" in finding.license_source
    assert "MongoDB Server SSPL-1.0 since 2018-10-16" in (
        denied["docker.io/library/mongo"].license_source or ""
    )
    postgres = [f for f in result.findings if f.component.name == "docker.io/library/postgres"]
    assert not [f for f in postgres if f.severity is Severity.ERROR], [f.message for f in postgres]


def _image_bom(tmp_path: Path, licenses: str) -> Path:
    bom = tmp_path / "bom.cdx.json"
    bom.write_text(
        '{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": ['
        '{"type": "container", "name": "docker.io/library/redis", "version": "7.4.0",'
        f' "purl": "pkg:docker/library/redis@7.4.0"{licenses}}}]}}',
        encoding="utf-8",
    )
    return bom


def test_an_image_that_states_its_license_keeps_it(policy: Policy, tmp_path: Path) -> None:
    stated = check([_image_bom(tmp_path, ', "licenses": [{"license": {"id": "MIT"}}]')], policy)
    assert not [f for f in stated.findings if f.rule == "denied-license"]
    # The same component stating nothing is judged by the knowledge base instead.
    silent = check([_image_bom(tmp_path, "")], policy)
    (denied,) = [f for f in silent.findings if f.rule == "denied-license"]
    assert denied.license == "LicenseRef-scancode-redis-source-available-2.0 OR SSPL-1.0"


OVERLAPPING = """\
version: 1
projects:
  - project: One
    images: [docker.io/library/one]
    licenses:
      - versions: ">=2"
        license: MIT
        source: https://example.org/one
      - versions: ">=1,<3"
        license: Apache-2.0
        since: "2020-01-01"
        source: https://example.org/one
"""


def test_overlapping_spans_are_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(_policy_with(tmp_path, OVERLAPPING))
    (problem,) = [p for p in caught.value.problems if p.path.endswith("images.yaml")]
    assert problem.location == "line 9"
    assert "overlap '>=2' (line 6)" in problem.message


def _policy_with(tmp_path: Path, text: str) -> Path:
    shutil.copytree(ROOT / "policy", tmp_path / "policy")
    shutil.copytree(ROOT / "adr", tmp_path / "adr")
    (tmp_path / "policy" / "images.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "policy"


BROKEN = """\
version: 1
projects:
  - project: One
    images: [docker.io/library/one]
    colour: blue
    licenses:
      - versions: ">=1,<"
        license: MIT
        source: https://example.org/one
  - project: Two
    images: [docker.io/library/one, two]
    licenses:
      - versions: ">=1"
        license: FooBar-1.0
        source: https://example.org/two
      - versions: ">=2"
        license: MIT
  - project: Three
    images: [docker.io/library/three]
    licenses:
      - versions: ">=1"
        license: MIT OR
        since: yesterday
        source: not-a-url
"""


def test_a_broken_knowledge_base_reports_every_problem_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(_policy_with(tmp_path, BROKEN))
    found = [
        (p.location, p.message) for p in caught.value.problems if p.path.endswith("images.yaml")
    ]
    wanted = [
        ("line 5", "unknown key 'colour' in a knowledge-base entry"),
        ("line 7", "'<' in '>=1,<' does not compare against a numeric version"),
        ("line 11", "duplicate image 'docker.io/library/one' (first at line 4)"),
        ("line 11", "an image must be a normalized REGISTRY/REPOSITORY"),
        ("line 14", "license 'FooBar-1.0' names 'FooBar-1.0': not an SPDX id"),
        ("line 16", "missing required key 'since'"),
        ("line 16", "missing required key 'source'"),
        ("line 22", "license 'MIT OR' is not an SPDX expression"),
        ("line 23", "'since' must be a date YYYY-MM-DD, found 'yesterday'"),
        ("line 24", "'source' must be an https:// URL, found 'not-a-url'"),
    ]
    missing = [w for w in wanted if not any(w[0] == at and w[1] in msg for at, msg in found)]
    assert not missing, found


def test_a_broken_knowledge_base_exits_2_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy_dir = _policy_with(tmp_path, BROKEN)
    compose = _compose(tmp_path, "redis:7.2")
    assert main(["check", str(compose), "--policy", str(policy_dir)]) == 2
    err = capsys.readouterr().err
    assert "images.yaml:line 11" in err and "duplicate image" in err
    assert "Traceback" not in err


def test_without_images_yaml_the_knowledge_base_is_empty(tmp_path: Path) -> None:
    policy_dir = _policy_with(tmp_path, "")
    (policy_dir / "images.yaml").unlink()
    loaded = load_policy(policy_dir)
    assert loaded.knowledge.projects == ()
    result = check([_compose(tmp_path, "mongo:7.0")], loaded)
    assert [f.rule for f in result.findings if f.component.name.endswith("mongo")] == [
        "unknown-license"
    ]
