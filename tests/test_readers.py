"""The reader registry: one record per format, and every reader reached through it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from checker import readers
from checker.errors import InputError
from checker.model import Note, Origin, Severity
from checker.readers import FORMATS, Family, Source, Syntax
from checker.readers.notes import Notes
from checker.readers.sniff import CANDIDATES, MARKERS, SBOM_ENDINGS, SNIFFED
from checker.sources import read_file

ROOT = Path(__file__).resolve().parents[1]

#: One file of every format read from a file: its name and bytes.
SAMPLES: dict[str, tuple[str, bytes]] = {
    "cyclonedx-json": (
        "bom.json",
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": '
        b'[{"type": "library", "name": "flask", "version": "3.1.0"}]}',
    ),
    "spdx-json": (
        "bom.spdx.json",
        b'{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": '
        b'[{"SPDXID": "SPDXRef-flask", "name": "flask", "versionInfo": "3.1.0"}]}',
    ),
    "pip-licenses": (
        "licenses.json",
        b'[{"Name": "flask", "Version": "3.1.0", "License": "BSD-3-Clause"}]',
    ),
    "cyclonedx-xml": (
        "bom.xml",
        b'<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components>'
        b'<component type="library"><name>flask</name><version>3.1.0</version></component>'
        b"</components></bom>",
    ),
    "spdx-tag-value": (
        "bom.spdx",
        b"SPDXVersion: SPDX-2.3\nPackageName: flask\nSPDXID: SPDXRef-flask\n"
        b"PackageVersion: 3.1.0\n",
    ),
    "requirements": ("requirements.txt", b"flask==3.1.0\n"),
    "poetry-lock": ("poetry.lock", b'[[package]]\nname = "flask"\nversion = "3.1.0"\n'),
    "uv-lock": ("uv.lock", b'version = 1\n[[package]]\nname = "flask"\nversion = "3.1.0"\n'),
    "pipfile-lock": ("Pipfile.lock", b'{"default": {"flask": {"version": "==3.1.0"}}}'),
    "pylock": (
        "pylock.toml",
        b'lock-version = "1.0"\n[[packages]]\nname = "flask"\nversion = "3.1.0"\n',
    ),
    "npm-lock": (
        "package-lock.json",
        b'{"lockfileVersion": 3, "packages": {"node_modules/flask": {"version": "3.1.0"}}}',
    ),
    "helm-chart": ("Chart.yaml", b"apiVersion: v2\nname: flask\nversion: 3.1.0\n"),
    "helm-chart-lock": (
        "Chart.lock",
        b"dependencies:\n- name: flask\n  version: 3.1.0\n  repository: oci://r.example\n",
    ),
    "helm-values": ("values.yaml", b"image:\n  repository: library/flask\n  tag: 3.1.0\n"),
    "kubernetes": (
        "pod.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n"
        b"  - name: x\n    image: flask:3.1.0\n",
    ),
    "dockerfile": ("Dockerfile", b"FROM flask:3.1.0\n"),
    "compose": ("compose.yaml", b"services:\n  web:\n    image: flask:3.1.0\n"),
}


def test_one_record_per_format_and_each_module_provides_its_functions() -> None:
    names = [f.name for f in FORMATS]
    assert len(names) == len(set(names))
    for fmt in FORMATS:
        if fmt.module is None:
            assert fmt.name == "environment"
            continue
        module = importlib.import_module(fmt.module)
        assert callable(module.read_source), fmt.name
        assert (fmt.syntax is not None) == callable(getattr(module, "claims", None)), fmt.name
        assert fmt.sniff == callable(getattr(module, "sniff", None)), fmt.name
        assert (fmt.names is not None) != (fmt.syntax is not None), fmt.name
        assert fmt.endings, fmt.name


def test_every_file_format_is_detected_and_read_through_the_registry(tmp_path: Path) -> None:
    packaged = tmp_path / "charts" / "flask-3.1.0.tgz"
    assert readers.detect(packaged) is readers.by_name("helm-package")
    file_formats = {f.name for f in FORMATS if f.module is not None} - {"helm-package"}
    assert set(SAMPLES) == file_formats
    for fmt, (name, data) in SAMPLES.items():
        path = tmp_path / fmt / name
        path.parent.mkdir()
        path.write_bytes(data)
        detected = readers.detect(path, data)
        assert (detected.name if detected else None) == (
            fmt if readers.by_name(fmt).names else None  # type: ignore[union-attr]
        )
        result = readers.read(path, data)
        assert result.format == fmt
        assert result.path == str(path)
        assert [c.name for c in result.components if "flask" in c.name], fmt


def test_families_and_licenses() -> None:
    families = {f.name: f.family for f in FORMATS}
    assert readers.family_formats(Family.LOCKFILE) == (
        "requirements",
        "poetry-lock",
        "uv-lock",
        "pipfile-lock",
        "pylock",
        "npm-lock",
    )
    assert {n for n, f in families.items() if f is Family.SBOM} == {
        "cyclonedx-json",
        "cyclonedx-xml",
        "spdx-json",
        "spdx-tag-value",
        "pip-licenses",
        "environment",
    }
    licenseless = {f.name for f in FORMATS if not readers.carries_licenses(f.name)}
    assert licenseless == {"requirements", "poetry-lock", "uv-lock", "pipfile-lock", "pylock"}
    assert readers.carries_licenses("a-format-nobody-knows")


def test_the_walk_looks_at_the_same_names_and_markers_as_before() -> None:
    assert set(SBOM_ENDINGS) == {".json", ".xml", ".spdx", ".cdx", ".txt", ".bom", ".sbom"}
    assert set(SNIFFED) == {*SBOM_ENDINGS, ".yaml", ".yml", ".tgz"}
    other = {".lock", ".toml", ".in", ".dockerfile", ".containerfile"}
    assert set(CANDIDATES) == {*SNIFFED, *other}
    assert set(MARKERS) == {
        b'"bomFormat"',
        b'"spdxVersion"',
        b'"SPDXID"',
        b"SPDXVersion:",
        b"cyclonedx.org/schema/bom",
    }


@pytest.mark.parametrize(
    ("data", "location", "message"),
    [
        (b"  \n", "", "is empty; expected an SBOM, lockfile or manifest"),
        (b'{"a": 1}', "$", "is JSON but not a recognised format"),
        (b"hello", "line 1", "is not a recognised format"),
        (b'{"@graph": []}', "$", "is SPDX 3 JSON-LD, which is not supported yet"),
    ],
)
def test_content_that_no_format_claims_is_refused(data: bytes, location: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        readers.read_content(Source(Path("in.json"), "in.json", data))
    assert caught.value.problem.location == location
    assert caught.value.problem.message.startswith(message)


def test_a_source_parses_once() -> None:
    source = Source(Path("bom.json"), "bom.json", b'{"bomFormat": "CycloneDX"}')
    assert source.json() is source.json()
    assert readers.by_name("cyclonedx-json").claims(source)  # type: ignore[union-attr]
    source.release()
    assert source.json() == {"bomFormat": "CycloneDX"}
    assert readers.by_name("cyclonedx-xml").syntax is Syntax.XML  # type: ignore[union-attr]


def test_notes_helper() -> None:
    items: list[Note] = []
    notes = Notes("bom.json", items)
    notes.warn("$.a", "odd")
    notes.error("$.b", "lost")
    notes.once("k", "$.c", "first")
    notes.once("k", "$.d", "second")
    notes.counted("q", "$.e", "quirk")
    notes.counted("q", "$.f", "quirk")
    notes.counted("q", "$.g", "quirk")
    notes.about("other.txt").warn("line 3", "elsewhere")
    notes.at(Origin("x", "y"), "placed", Severity.ERROR)
    notes.finish()
    assert items == [
        Note(Origin("bom.json", "$.a"), "odd"),
        Note(Origin("bom.json", "$.b"), "lost", Severity.ERROR),
        Note(Origin("bom.json", "$.c"), "first"),
        Note(Origin("bom.json", "$.e"), "quirk (and 2 more like it; first shown)"),
        Note(Origin("other.txt", "line 3"), "elsewhere"),
        Note(Origin("x", "y"), "placed", Severity.ERROR),
    ]


SCHEMAS = ROOT.parent / "shared" / "schemas"


@pytest.mark.parametrize(
    ("name", "meta"),
    [
        ("openvex-0.2.0.schema.json", "https://json-schema.org/draft/2020-12/schema"),
        ("sarif-2.1.0.schema.json", "http://json-schema.org/draft-04/schema#"),
    ],
)
def test_a_json_schema_given_to_read_is_refused_as_one(name: str, meta: str) -> None:
    path = SCHEMAS / name
    if not path.is_file():
        pytest.skip(f"shared schema {name} is absent from {SCHEMAS}")
    with pytest.raises(InputError) as caught:
        read_file(path)
    problem = caught.value.problem
    assert problem.location == "$.$schema"
    assert problem.message.startswith(f"is a JSON Schema ($schema {meta!r}), not an SBOM")


@pytest.mark.parametrize(
    ("doc", "schema"),
    [
        ({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}, True),
        ({"$schema": "https://JSON-SCHEMA.org/draft/2020-12/schema"}, True),
        # an SBOM that names a meta-schema is still an SBOM
        ({"$schema": "http://json-schema.org/draft-07/schema#", "bomFormat": "CycloneDX"}, False),
        ({"$schema": "http://json-schema.org/draft-07/schema#", "spdxVersion": "SPDX-2.3"}, False),
        # a CycloneDX BOM's own $schema names cyclonedx.org
        ({"$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json"}, False),
        ({"$schema": 7}, False),
        ([{"$schema": "http://json-schema.org/draft-07/schema#"}], False),
    ],
)
def test_what_counts_as_a_json_schema(doc: object, schema: bool) -> None:
    assert (readers.json_schema_of(doc) is not None) is schema


def test_unclaimed_json_that_is_not_a_schema_keeps_its_message() -> None:
    data = b'{"$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json"}'
    with pytest.raises(InputError, match="is JSON but not a recognised format"):
        readers.read_content(Source(Path("in.json"), "in.json", data))
