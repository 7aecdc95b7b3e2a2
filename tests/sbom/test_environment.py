"""Installed-environment reader: the running venv and a fake site-packages."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checker.errors import InputError, UsageError
from checker.model import Component, ReadResult
from checker.sbom.environment import read_environment, read_interpreter
from checker.sbom.piplicenses import normalize_pypi_name
from tests.helpers import FIXTURES

SITE = FIXTURES / "environment" / "site-packages"


def one(result: ReadResult, name: str) -> Component:
    key = normalize_pypi_name(name)
    found = [c for c in result.components if normalize_pypi_name(c.name) == key]
    assert len(found) == 1, f"{name}: {len(found)} components"
    return found[0]


def write_dist(site: Path, dirname: str, metadata: str) -> None:
    info = site / dirname
    info.mkdir(parents=True)
    (info / "METADATA").write_text(metadata, encoding="utf-8")


def test_running_environment() -> None:
    result = read_environment()
    assert result.path == "<environment>"
    assert result.format == "environment"

    pyyaml = one(result, "PyYAML")
    assert pyyaml.purl is not None and pyyaml.purl.startswith("pkg:pypi/pyyaml@")
    assert pyyaml.licenses, "PyYAML should carry license metadata"
    assert any("MIT" in e.text for e in pyyaml.licenses)
    assert pyyaml.origin.path.endswith("METADATA")

    packaging = one(result, "packaging")
    assert packaging.licenses
    evidence = packaging.licenses[0]
    if evidence.form == "expression":  # packaging >= 24.2 ships PEP 639 metadata
        assert evidence.text == "Apache-2.0 OR BSD-2-Clause"
        assert evidence.origin.location == "License-Expression"
    else:
        assert evidence.form in ("classifier", "name")

    names = [c.name.lower() for c in result.components]
    assert len(names) == len(set(names)), "a distribution name appears twice"


def test_fixture_site_packages() -> None:
    result = read_environment([str(SITE)])
    assert result.path == str(SITE)
    assert sorted(c.name for c in result.components) == ["alpha_pkg", "beta.pkg"]

    alpha = one(result, "alpha_pkg")
    assert alpha.version == "1.0"
    assert alpha.purl == "pkg:pypi/alpha-pkg@1.0"
    # License-Expression wins; the contradicting GPL classifier is ignored (PEP 639).
    assert [(e.text, e.form) for e in alpha.licenses] == [("MIT OR Apache-2.0", "expression")]
    assert alpha.licenses[0].origin.path == str(SITE / "alpha_pkg-1.0.dist-info" / "METADATA")
    assert alpha.licenses[0].origin.location == "License-Expression"

    beta = one(result, "beta.pkg")
    assert beta.purl == "pkg:pypi/beta-pkg@2.0"
    # Classifiers beat the License field; the bare "OSI Approved" says nothing.
    assert [(e.text, e.form) for e in beta.licenses] == [
        ("License :: OSI Approved :: BSD License", "classifier"),
        ("License :: OSI Approved :: MIT License", "classifier"),
    ]
    assert all(e.origin.location == "Classifier" for e in beta.licenses)
    assert result.notes == []


def test_first_distribution_on_path_wins(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow"
    write_dist(
        shadow, "alpha_pkg-0.9.dist-info", "Metadata-Version: 2.1\nName: Alpha-Pkg\nVersion: 0.9\n"
    )
    result = read_environment([str(SITE), str(shadow)])
    alpha = one(result, "alpha_pkg")
    assert alpha.version == "1.0"
    assert len(result.notes) == 1
    note = result.notes[0]
    assert "shadowed" in note.message and "0.9" in note.message
    assert note.origin.path == str(shadow / "alpha_pkg-0.9.dist-info" / "METADATA")

    reversed_result = read_environment([str(shadow), str(SITE)])
    assert one(reversed_result, "alpha_pkg").version == "0.9"


def test_license_field_short_long_and_unknown(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_dist(
        site, "short-1.dist-info", "Metadata-Version: 2.1\nName: short\nVersion: 1\nLicense: BSD\n"
    )
    long_text = "Permission is hereby granted, free of charge, " * 10
    write_dist(
        site,
        "long-1.dist-info",
        f"Metadata-Version: 2.1\nName: long\nVersion: 1\nLicense: {long_text}\n",
    )
    write_dist(
        site, "unk-1.dist-info", "Metadata-Version: 2.1\nName: unk\nVersion: 1\nLicense: UNKNOWN\n"
    )
    write_dist(site, "none-1.dist-info", "Metadata-Version: 2.1\nName: none\nVersion: 1\n")
    result = read_environment([str(site)])

    short = one(result, "short")
    assert [(e.text, e.form, e.origin.location) for e in short.licenses] == [
        ("BSD", "name", "License")
    ]
    long = one(result, "long")
    assert long.licenses == [] and long.no_license_reason == "UNKNOWN"
    assert len(result.notes) == 1 and "long" in result.notes[0].message
    assert one(result, "unk").no_license_reason == "UNKNOWN"
    assert one(result, "none").licenses == []


def test_broken_metadata_is_kept_without_license(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_dist(site, "good-1.dist-info", "Metadata-Version: 2.1\nName: good\nVersion: 1\n")
    bad = site / "bad-2.0.dist-info"
    bad.mkdir()
    (bad / "METADATA").write_bytes(b"Name: bad\nLicense: \xff\xfe\n")
    write_dist(site, "nameless-3.dist-info", "Version: 3\n")
    result = read_environment([str(site)])
    got = {c.name: (c.version, c.licenses, c.no_license_reason) for c in result.components}
    # Unreadable distributions still reach the gate, with no license: fail closed.
    assert got == {
        "good": ("1", [], "UNKNOWN"),
        "bad": ("2.0", [], "UNKNOWN"),
        "nameless": ("3", [], "UNKNOWN"),
    }
    messages = {Path(n.origin.path).parent.name: n.message for n in result.notes}
    assert set(messages) == {"bad-2.0.dist-info", "nameless-3.dist-info"}
    assert "UnicodeDecodeError" in messages["bad-2.0.dist-info"]
    assert "no Name" in messages["nameless-3.dist-info"]


def test_empty_and_missing_paths(tmp_path: Path) -> None:
    result = read_environment([str(tmp_path / "does-not-exist")])
    assert result.components == []


def test_only_input_error_escapes(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(**_: object) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(importlib.metadata, "distributions", explode)
    with pytest.raises(InputError, match="boom"):
        read_environment()


# --------------------------------------------------------------------------- best evidence first

APACHE = "License :: OSI Approved :: Apache Software License"


def test_an_spdx_license_field_decides_and_its_classifiers_stay_beside_it(tmp_path: Path) -> None:
    # requests 2.x: License: Apache-2.0 and a versionless Apache classifier. The
    # exact field decides; the classifier is kept, marked, for corroboration.
    site = tmp_path / "site"
    write_dist(
        site,
        "requests-2.32.dist-info",
        "Metadata-Version: 2.1\nName: requests\nVersion: 2.32\nLicense: Apache-2.0\n"
        f"Classifier: License :: OSI Approved\nClassifier: {APACHE}\n",
    )
    requests = one(read_environment([str(site)]), "requests")
    assert [(e.text, e.form, e.origin.location) for e in requests.licenses] == [
        ("Apache-2.0", "expression", "License"),
        (APACHE, "classifier", "Classifier"),
    ]


def test_free_text_license_is_outranked_by_classifiers(tmp_path: Path) -> None:
    # sortedcontainers: "Apache 2.0" is no SPDX id, so the classifier states it.
    site = tmp_path / "site"
    write_dist(
        site,
        "sortedcontainers-2.4.0.dist-info",
        "Metadata-Version: 2.1\nName: sortedcontainers\nVersion: 2.4.0\nLicense: Apache 2.0\n"
        f"Classifier: {APACHE}\n",
    )
    found = one(read_environment([str(site)]), "sortedcontainers")
    assert [(e.text, e.form) for e in found.licenses] == [(APACHE, "classifier")]


def test_requests_installed_metadata_passes_without_a_warning(tmp_path: Path) -> None:
    from checker.evaluation import Evaluator
    from checker.policy import load_policy

    site = tmp_path / "site"
    write_dist(
        site,
        "requests-2.32.dist-info",
        "Metadata-Version: 2.1\nName: requests\nVersion: 2.32\nLicense: Apache-2.0\n"
        f"Classifier: {APACHE}\n",
    )
    policy = load_policy(Path(__file__).resolve().parents[2] / "policy")
    requests = one(read_environment([str(site)]), "requests")
    assert Evaluator(policy).evaluate(requests) == []


# --------------------------------------------------------------------------- another interpreter


def make_venv(where: Path) -> Path:
    """A real virtual environment (no pip: nothing to download), its interpreter returned."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(where)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    python = where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    assert python.is_file()
    return python


def purelib(python: Path) -> Path:
    done = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Path(done.stdout.strip())


def script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python = make_venv(tmp_path_factory.mktemp("project") / ".venv")
    write_dist(
        purelib(python),
        "demo_pkg-0.3.dist-info",
        "Metadata-Version: 2.1\nName: demo-pkg\nVersion: 0.3\nLicense: MIT\n",
    )
    return python


def test_read_interpreter_reads_the_venv_and_not_the_gate(
    venv_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Even a PYTHONPATH that points at the gate's own packages does not leak in:
    # the interpreter is asked in isolated mode.
    gate_site = str(importlib.metadata.distribution("license-expression").locate_file(""))
    monkeypatch.setenv("PYTHONPATH", gate_site)
    result = read_interpreter(venv_python)
    assert result.path == f"<environment of {venv_python}>"
    assert result.format == "environment"
    names = {normalize_pypi_name(c.name) for c in result.components}
    assert "demo-pkg" in names
    assert not names & {"license-expression", "rune-policy", "pyyaml"}, names
    demo = one(result, "demo-pkg")
    assert demo.version == "0.3" and demo.purl == "pkg:pypi/demo-pkg@0.3"
    assert [(e.text, e.form) for e in demo.licenses] == [("MIT", "expression")]
    assert Path(demo.origin.path).parent.name == "demo_pkg-0.3.dist-info"


def test_read_interpreter_refuses_what_is_not_an_interpreter(
    tmp_path: Path, venv_python: Path
) -> None:
    quiet = script(tmp_path / "quiet", "echo hello")
    failing = script(tmp_path / "failing", "echo 'no such module: site' >&2\nexit 3")
    garbage = script(tmp_path / "garbage", "echo 'rune-policy sys.path: {not json'")
    plain = tmp_path / "plain"
    plain.write_text("print('hi')\n", encoding="utf-8")
    plain.chmod(0o644)
    venv_dir = venv_python.parent.parent
    cases = [
        (tmp_path / "missing" / "python", "no such file"),
        (venv_dir, f"is a directory, not an interpreter (did you mean {venv_python}?)"),
        (venv_dir.parent, f"(did you mean {venv_python}?)"),  # the project folder
        (plain, "is not executable"),
        (failing, "exited with status 3: 'no such module: site'"),
        (quiet, "did not print its sys.path"),
        (garbage, "did not print its sys.path"),
        (Path("no-such-command-rune-test"), "no command of that name on PATH"),
    ]
    for python, expected in cases:
        with pytest.raises(UsageError) as caught:
            read_interpreter(python)
        message = str(caught.value)
        assert message.startswith(f"--python {python}: "), message
        assert expected in message, message
        assert "such as .venv/bin/python" in message, message
        assert "\n" not in message
        assert caught.value.exit_code == 2


def test_read_interpreter_gives_up_on_a_hung_interpreter(tmp_path: Path) -> None:
    # The sleep is a child of the shell: the whole session is ended, not just the shell.
    hung = script(tmp_path / "hung", "sleep 30\necho never")
    started = time.monotonic()
    with pytest.raises(UsageError, match=r"did not print its sys.path within 0.5 seconds"):
        read_interpreter(hung, timeout=0.5)
    assert time.monotonic() - started < 10
