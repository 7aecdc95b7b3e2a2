"""Installed-environment reader: the running venv and a fake site-packages."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from checker.errors import InputError
from checker.model import Component, ReadResult
from checker.sbom.environment import read_environment
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
