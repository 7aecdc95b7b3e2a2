"""pip-licenses reader: real output generated at test time, plus fixtures.

Real output comes from the pip-licenses installed next to the running
interpreter, so the test follows whatever version the project pins.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from checker.errors import InputError
from checker.sbom import read_input
from checker.sbom.piplicenses import looks_like, normalize_pypi_name, pypi_purl, read_json
from tests.helpers import FIXTURES, one

DATA = FIXTURES / "piplicenses"


def run_pip_licenses(tmp_path: Path, *args: str) -> Path:
    exe = Path(sys.executable).parent / "pip-licenses"
    if not exe.is_file():
        pytest.skip(f"pip-licenses is not installed next to {sys.executable}")
    completed = subprocess.run(
        [str(exe), "--format=json", *args],
        capture_output=True,
        check=True,
        timeout=120,
    )
    out = tmp_path / "licenses.json"
    out.write_bytes(completed.stdout)
    return out


def test_real_output_from_all(tmp_path: Path) -> None:
    result = read_input(run_pip_licenses(tmp_path, "--from=all"))
    assert result.format == "pip-licenses"
    assert len(result.components) > 10
    pyyaml = one(result, "PyYAML")
    assert pyyaml.purl is not None and pyyaml.purl.startswith("pkg:pypi/pyyaml@")
    # --from=all has no License column. PyYAML's metadata License field is the
    # exact id MIT, so it decides; its classifier (cut to its last segment by
    # pip-licenses) is kept beside it, marked, as for installed metadata.
    assert [(e.text, e.form) for e in pyyaml.licenses] == [
        ("MIT", "expression"),
        ("MIT License", "classifier"),
    ]
    assert pyyaml.licenses[0].origin.location.endswith(".License-Metadata")
    assert pyyaml.licenses[1].origin.location.endswith(".License-Classifier")
    packaging = one(result, "packaging")
    assert [(e.text, e.form) for e in packaging.licenses] == [
        ("Apache-2.0 OR BSD-2-Clause", "expression")
    ]
    assert all(c.licenses or c.no_license_reason == "UNKNOWN" for c in result.components)


def test_real_output_default_mode(tmp_path: Path) -> None:
    result = read_input(run_pip_licenses(tmp_path))
    pyyaml = one(result, "PyYAML")
    assert [(e.text, e.form) for e in pyyaml.licenses] == [("MIT License", "name")]
    assert pyyaml.licenses[0].origin.location.endswith("].License")
    index = int(pyyaml.origin.location[2:-1])
    assert pyyaml.licenses[0].origin.location == f"$[{index}].License"


def test_semicolon_joined_values_are_split() -> None:
    result = read_input(DATA / "joined.json")
    dual = one(result, "Dual_Licensed.Pkg")
    assert [e.text for e in dual.licenses] == ["Apache Software License", "BSD License"]
    assert all(e.form == "name" for e in dual.licenses)
    assert all(e.origin.location == "$[0].License" for e in dual.licenses)
    assert dual.purl == "pkg:pypi/dual-licensed-pkg@1.2.0"

    mystery = one(result, "mystery")
    assert mystery.licenses == []
    assert mystery.no_license_reason == "UNKNOWN"

    # A plain License column holding an expression is still a name: pip-licenses
    # cannot tell us it was an SPDX expression, the license module decides.
    assert [e.text for e in one(result, "with-expression").licenses] == ["MIT OR Apache-2.0"]
    assert result.notes == []


def test_from_all_fixture_precedence() -> None:
    result = read_input(DATA / "from-all.json")
    orjson = one(result, "orjson")
    assert [(e.text, e.form) for e in orjson.licenses] == [
        ("MPL-2.0 AND (Apache-2.0 OR MIT)", "expression")
    ]
    assert orjson.licenses[0].origin.location == "$[0].License-Expression"
    # An exact License-Metadata outranks the classifiers (there are none here).
    assert [(e.text, e.form) for e in one(result, "lxml").licenses] == [
        ("BSD-3-Clause", "expression")
    ]
    pyyaml = one(result, "PyYAML")
    assert [(e.text, e.form, e.origin.location) for e in pyyaml.licenses] == [
        ("MIT", "expression", "$[1].License-Metadata"),
        ("MIT License", "classifier", "$[1].License-Classifier"),
    ]
    nothing = one(result, "nothing-known")
    assert nothing.licenses == [] and nothing.no_license_reason == "UNKNOWN"


def test_long_license_text_is_not_a_name() -> None:
    doc = [{"Name": "pasted", "Version": "1", "License": "Permission is hereby granted\n" * 20}]
    result = read_json(doc, "x.json")
    component = result.components[0]
    assert component.licenses == []
    assert component.no_license_reason == "UNKNOWN"
    assert len(result.notes) == 1


def test_license_finder_variant() -> None:
    doc = [{"name": "six", "version": "1.17.0", "licenses": ["MIT License"]}]
    assert looks_like(doc)
    result = read_json(doc, "x.json")
    assert [e.text for e in result.components[0].licenses] == ["MIT License"]
    assert result.components[0].licenses[0].origin.location == "$[0].licenses[0]"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ([{"Name": "a", "Version": "1", "License": "MIT"}], True),
        ([{"Name": "a", "Version": "1", "License-Expression": "MIT"}], True),
        ([], False),
        ([1, 2, 3], False),
        ([{"bomFormat": "CycloneDX"}], False),
        ([{"Name": "a"}], False),
    ],
)
def test_looks_like(doc: list[Any], expected: bool) -> None:
    assert looks_like(doc) is expected


def test_bad_entries_are_noted_not_fatal() -> None:
    doc: list[Any] = [
        {"Name": "ok", "Version": "1.0", "License": "MIT"},
        "junk",
        {"Name": "", "License": "MIT"},
        {"Name": "noversion", "Version": 5, "License": "MIT"},
    ]
    result = read_json(doc, "x.json")
    assert [c.name for c in result.components] == ["ok", "noversion"]
    assert result.components[1].version is None
    assert result.components[1].purl == "pkg:pypi/noversion"
    assert {n.origin.location for n in result.notes} == {"$[1]", "$[2]", "$[3].Version"}


def test_not_a_list_is_an_input_error() -> None:
    with pytest.raises(InputError):
        read_json({"Name": "x"}, "x.json")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("PyYAML", "pyyaml"),
        ("zope.interface", "zope-interface"),
        ("typing__extensions", "typing-extensions"),
        ("A-_.B", "a-b"),
    ],
)
def test_normalize_pypi_name(name: str, expected: str) -> None:
    assert normalize_pypi_name(name) == expected


def test_pypi_purl_encodes_local_versions() -> None:
    assert pypi_purl("Foo_Bar", "1.0+local") == "pkg:pypi/foo-bar@1.0%2Blocal"
