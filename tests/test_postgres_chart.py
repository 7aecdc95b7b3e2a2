"""The first-party PostgreSQL chart (``charts/postgres``) and the gate that holds it.

CI runs the gate on ``charts/postgres`` (``.ci/gate``). These tests run the
real CLI the same way and show that the gate requires exactly what the chart
promises: the official postgres image pinned by digest. A copy of the chart
that points at a Bitnami image, or drops the digest, fails. The chart's own
hardening (UID 70, read-only root filesystem, a required password) is read
from its YAML, and its templates are checked for consistency, since Helm
itself is not part of the toolchain here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from checker.policy import load_policy

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "charts" / "postgres"
CLI = Path(sys.executable).with_name("rune-policy")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def _values(chart: Path = CHART) -> dict[str, Any]:
    data = yaml.safe_load((chart / "values.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def gate(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``rune-policy check --policy policy ARGS``, run as CI runs it."""
    if not CLI.is_file():
        pytest.skip(f"the rune-policy entry point is not installed ({CLI}); run .ci/bootstrap")
    return subprocess.run(
        [str(CLI), "check", "--policy", str(ROOT / "policy"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def chart_copy(tmp_path: Path, edit: dict[str, str | None]) -> Path:
    """A copy of the chart whose ``image`` keys are replaced (None drops the key)."""
    copy = tmp_path / "postgres"
    shutil.copytree(CHART, copy)
    values = copy / "values.yaml"
    lines = values.read_text(encoding="utf-8").splitlines()
    seen: set[str] = set()
    out: list[str] = []
    in_image = False
    for line in lines:
        if re.match(r"^\S", line):
            in_image = line.startswith("image:")
        key = re.match(r"^  (\w+):", line)
        if in_image and key and key.group(1) in edit:
            seen.add(key.group(1))
            replacement = edit[key.group(1)]
            if replacement is not None:
                out.append(f"  {key.group(1)}: {json.dumps(replacement)}")
            continue
        out.append(line)
    assert seen == set(edit), f"values.yaml has no image keys {set(edit) - seen}"
    values.write_text("\n".join(out) + "\n", encoding="utf-8")
    return copy


def errors(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    report = json.loads(result.stdout)
    return [f for f in report["findings"] if f["severity"] == "error"]


# --------------------------------------------------------------------------- the gate


def test_the_gate_passes_on_the_chart_as_committed() -> None:
    result = gate(CHART, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "pass"
    assert errors(result) == []
    read = {Path(i["path"]).name: i for i in report["inputs"]}
    assert read["Chart.yaml"]["format"] == "helm-chart"
    assert read["values.yaml"]["format"] == "helm-values"
    assert read["values.yaml"]["components"] == 1
    # no unpinned-image finding of any severity: the image carries its digest
    assert not [f for f in report["findings"] if f["rule"] == "unpinned-image"]


def explain(component: str, path: Path) -> subprocess.CompletedProcess[str]:
    """``rune-policy explain COMPONENT PATH --policy policy``, as a reviewer runs it."""
    if not CLI.is_file():
        pytest.skip(f"the rune-policy entry point is not installed ({CLI})")
    return subprocess.run(
        [str(CLI), "explain", component, str(path), "--policy", "policy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_gate_finds_the_image_with_its_digest_and_the_chart_row() -> None:
    image = _values()["image"]
    image_result = explain("docker.io/library/postgres", CHART)
    assert image_result.returncode == 0, image_result.stdout + image_result.stderr
    pinned = f"docker.io/library/postgres:{image['tag']}@{image['digest']}"
    assert f"image: {pinned}" in image_result.stdout
    assert "row postgres-official-image" in image_result.stdout
    assert "require_digest" in image_result.stdout
    assert "verdict: PASS" in image_result.stdout
    chart = explain("postgres", CHART / "Chart.yaml")
    assert chart.returncode == 0, chart.stdout + chart.stderr
    assert "row rune-postgres-chart" in chart.stdout
    assert "verdict: PASS" in chart.stdout


def test_a_copy_pointing_at_a_bitnami_image_fails(tmp_path: Path) -> None:
    copy = chart_copy(
        tmp_path, {"repository": "docker.io/bitnami/postgresql", "tag": "17.6.0-debian-12-r4"}
    )
    result = gate(copy, "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert [(f["rule"], f["component"]["name"], f["policy_entry"]) for f in errors(result)] == [
        ("rejected-component", "docker.io/bitnami/postgresql", "bitnami-postgresql-images")
    ]
    text = gate(copy)
    assert text.returncode == 1
    assert "rejected-component" in text.stdout
    assert "docker.io/bitnami/postgresql:17.6.0-debian-12-r4" in text.stdout
    assert "verdict: FAIL" in text.stdout


def test_a_copy_with_a_bitnami_image_written_into_a_template_fails(tmp_path: Path) -> None:
    """The values are untouched; the image sneaks in through the template text."""
    copy = chart_copy(tmp_path, {})
    statefulset = copy / "templates" / "statefulset.yaml"
    text = statefulset.read_text(encoding="utf-8")
    templated = '{{ include "postgres.image" . | quote }}'
    assert templated in text
    statefulset.write_text(
        text.replace(templated, "docker.io/bitnami/postgresql:17.6.0-debian-12-r4"),
        encoding="utf-8",
    )
    result = gate(copy, "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert [(f["rule"], f["component"]["name"], f["policy_entry"]) for f in errors(result)] == [
        ("rejected-component", "docker.io/bitnami/postgresql", "bitnami-postgresql-images")
    ]


def test_a_copy_without_the_digest_fails(tmp_path: Path) -> None:
    copy = chart_copy(tmp_path, {"digest": None})
    assert "digest" not in _values(copy)["image"]
    result = gate(copy, "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    [finding] = errors(result)
    assert (finding["rule"], finding["component"]["name"], finding["policy_entry"]) == (
        "unpinned-image",
        "docker.io/library/postgres",
        "postgres-official-image",
    )
    assert "no digest" in finding["message"]
    assert "require_digest" in finding["message"]
    text = gate(copy)
    assert text.returncode == 1
    assert "docker.io/library/postgres:17-alpine has no digest" in text.stdout


def test_the_digest_requirement_is_the_policy_row_not_the_default() -> None:
    policy = load_policy(ROOT / "policy")
    by_id = {d.id: d for d in policy.decisions}
    assert by_id["postgres-official-image"].require_digest is True
    assert policy.unpinned_image.value == "warning"  # other approved images: a warning
    assert [d.id for d in policy.decisions if d.require_digest] == ["postgres-official-image"]


# --------------------------------------------------------------------------- the chart


def test_chart_metadata() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    assert chart["apiVersion"] == "v2"
    assert (chart["name"], chart["version"], chart["appVersion"]) == ("postgres", "0.1.0", "17")
    assert chart["annotations"]["licenses"] == "Apache-2.0"
    for name in (
        "_helpers.tpl",
        "statefulset.yaml",
        "service.yaml",
        "secret.yaml",
        "pvc.yaml",
        "NOTES.txt",
    ):
        assert (CHART / "templates" / name).is_file(), name
    assert (CHART / "README.md").is_file()


def test_image_is_the_official_one_pinned_by_digest() -> None:
    image = _values()["image"]
    assert image["repository"] == "docker.io/library/postgres"
    assert image["tag"] == "17-alpine"
    assert DIGEST.match(image["digest"]), image["digest"]
    helpers = (CHART / "templates" / "_helpers.tpl").read_text(encoding="utf-8")
    # rendered as repository:tag@digest, and a missing digest stops the render
    assert 'printf "%s:%s@%s" $repository $tag $digest' in helpers
    assert 'required "image.digest is required' in helpers
    statefulset = (CHART / "templates" / "statefulset.yaml").read_text(encoding="utf-8")
    assert 'image: {{ include "postgres.image" . | quote }}' in statefulset


def test_runs_as_the_alpine_postgres_user_without_root() -> None:
    values = _values()
    pod = values["podSecurityContext"]
    assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (70, 70, 70)
    assert pod["runAsNonRoot"] is True
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    container = values["containerSecurityContext"]
    assert (container["runAsUser"], container["runAsGroup"]) == (70, 70)
    assert container["runAsNonRoot"] is True
    assert container["readOnlyRootFilesystem"] is True
    assert container["allowPrivilegeEscalation"] is False
    assert container["privileged"] is False
    assert container["capabilities"] == {"drop": ["ALL"]}
    assert container["seccompProfile"] == {"type": "RuntimeDefault"}
    statefulset = (CHART / "templates" / "statefulset.yaml").read_text(encoding="utf-8")
    assert "initContainers" not in statefulset  # no root init container chowning things
    assert "toYaml .Values.podSecurityContext" in statefulset
    assert "toYaml .Values.containerSecurityContext" in statefulset
    for path in ("/var/run/postgresql", "/tmp", "/dev/shm"):
        assert f"mountPath: {path}" in statefulset, path
    # PGDATA is a subdirectory of the mounted volume
    assert 'printf "%s/pgdata"' in statefulset
    assert values["persistence"]["mountPath"] == "/var/lib/postgresql/data"


def test_the_password_is_required_and_has_no_default() -> None:
    auth = _values()["auth"]
    assert "password" not in auth
    assert auth["existingSecret"] == ""
    secret = (CHART / "templates" / "secret.yaml").read_text(encoding="utf-8")
    assert secret.startswith("{{- if not .Values.auth.existingSecret }}")
    assert re.search(
        r'\{\{ required "auth\.password is required[^"]*" \.Values\.auth\.password', secret
    )
    statefulset = (CHART / "templates" / "statefulset.yaml").read_text(encoding="utf-8")
    assert "secretKeyRef" in statefulset
    assert "POSTGRES_PASSWORD\n" in statefulset  # the env var, filled from the Secret


def test_readiness_uses_pg_isready_and_resources_are_requested() -> None:
    statefulset = (CHART / "templates" / "statefulset.yaml").read_text(encoding="utf-8")
    readiness = statefulset.split("readinessProbe:", 1)[1].split("livenessProbe:", 1)[0]
    assert "pg_isready" in readiness
    requests = _values()["resources"]["requests"]
    assert requests["cpu"] and requests["memory"]


# --------------------------------------------------------------------------- templates

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.DOTALL)
_OPENERS = ("if ", "with ", "range ", "define ", "block ")


def _template_files() -> list[Path]:
    return sorted((CHART / "templates").iterdir())


@pytest.mark.parametrize("path", _template_files(), ids=lambda p: p.name)
def test_template_blocks_are_balanced(path: Path) -> None:
    """Each if/with/range/define has its end, in order (Helm is not installed here)."""
    depth = 0
    for action in _ACTION.findall(path.read_text(encoding="utf-8")):
        if action.startswith("/*"):
            assert action.endswith("*/"), action
            continue
        if action.startswith(_OPENERS):
            depth += 1
        elif action == "end":
            depth -= 1
            assert depth >= 0, f"{path.name}: 'end' without an opening block"
    assert depth == 0, f"{path.name}: {depth} block(s) not closed"


def test_templates_use_only_defined_helpers_and_existing_values() -> None:
    text = {p.name: p.read_text(encoding="utf-8") for p in _template_files()}
    defined = set(re.findall(r'\{\{-? define "([^"]+)"', text["_helpers.tpl"]))
    used = {u for t in text.values() for u in re.findall(r'include "([^"]+)"', t)}
    assert used <= defined, used - defined
    values = _values()
    missing = []
    for reference in sorted(
        {r for t in text.values() for r in re.findall(r"\.Values((?:\.\w+)+)", t)}
    ):
        node: Any = values
        for part in reference.strip(".").split("."):
            if not isinstance(node, dict) or part not in node:
                node = KeyError
                break
            node = node[part]
        if node is KeyError and reference != ".auth.password":  # required, never defaulted
            missing.append(reference)
    assert missing == []
