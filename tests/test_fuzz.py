"""A short fuzz campaign over every input reader, for the normal test suite.

The promise under test (see :func:`checker.sbom.parse_input`): whatever bytes
arrive, reading either returns a :class:`~checker.model.ReadResult` or raises
:class:`~checker.errors.InputError` naming the file; and whatever a reader
returns, the gate can evaluate every component, and both reports and an ``explain``
trace render, without raising.

Inputs are mutated from small real documents of the shared corpus (read in
place, never copied) plus generated pip-licenses JSON: byte-level mutations
and splices, structure-aware JSON mutations (values of other types at random
JSON paths, huge strings, deep nesting), XML mutations (DTDs, entities,
external references, deep nesting, truncation) and tag-value line mutations.
Explicit hostile cases follow. The long campaign is ``benchmarks/fuzz_readers.py``.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from checker.cli import main as cli_main
from checker.errors import EXIT_INPUT, InputError
from checker.gate import Evaluator, RunResult, evaluate_results
from checker.model import ReadResult
from checker.policy import Policy, load_policy
from checker.report import json as json_report
from checker.report import text as text_report
from checker.report.text import render_trace
from checker.sbom import parse_input

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
NAME = "fuzz"

requires_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"shared corpus not found at {CORPUS}"
)

#: Keep every property test small: the whole file must stay well under a minute.
FUZZ = settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --------------------------------------------------------------------------- seeds

#: Small real documents, one or more per reader (path relative to the corpus).
JSON_SEED_FILES = (
    "cyclonedx/trivy_license-cyclonedx-1.5.json",
    "cyclonedx/cyclonedx-python-lib_valid-license-expression-1.6.json",
    "cyclonedx/cyclonedx-python-lib_bom_with_mixed_licenses-1.4.json",
    "spdx/trivy_bitnami-postgresql-15.3.0.spdx.json",
)
XML_SEED_FILE = "cyclonedx/cyclonedx-python-lib_webgoat-6.1.xml"
XML_SEED_COMPONENTS = 6
TAG_VALUE_SEED_FILES = (
    "spdx/trivy_centos-7-spdx.txt",
    "spdx/tools-python_SPDXTagExample-v2.2.spdx",
)


def pip_licenses_seed() -> bytes:
    """pip-licenses ``--format=json`` output (with the variants it really writes)."""
    rows: list[dict[str, Any]] = [
        {"Name": "psycopg", "Version": "3.2.3", "License": "GNU Library or LGPL"},
        {"Name": "requests", "Version": "2.32.3", "License": "Apache Software License"},
        {"Name": "certifi", "Version": "2024.8.30", "License": "MPL-2.0"},
        {"Name": "typing_extensions", "Version": "4.12.2", "License": "UNKNOWN"},
        {"Name": "Jinja2", "Version": "3.1.4", "License": "BSD License; MIT License"},
        {
            "Name": "mysql-connector-python",
            "Version": "9.0.0",
            "License": "GNU General Public License (GPL)",
            "License-Metadata": "GPLv2 with FOSS License Exception",
            "License-Classifier": "GNU General Public License (GPL)",
        },
        {"Name": "pydantic", "Version": "2.9.2", "License-Expression": "MIT"},
    ]
    return orjson.dumps(rows, option=orjson.OPT_INDENT_2)


def json_license_finder_seed() -> bytes:
    """The json-license-finder variant pip-licenses' reader also accepts."""
    rows = [
        {"name": "asyncpg", "version": "0.30.0", "licenses": ["Apache-2.0"]},
        {"name": "sqlalchemy", "version": "2.0.36", "licenses": ["MIT", "BSD"]},
    ]
    return orjson.dumps(rows)


def _cut_xml(data: bytes, keep: int) -> bytes:
    """The document with only its first ``keep`` top-level components, and no dependencies.

    Cut as text (tracking element depth), so the seed keeps its namespace
    declaration and layout exactly as the producer wrote them.
    """
    text = data.decode("utf-8")
    depth = kept = 0
    cut: int | None = None
    for tag in re.finditer(r"<(/?)(components|component)(?=[\s>/])", text):
        closing = tag[1] == "/"
        if tag[2] == "component":
            if closing and depth == 1:
                kept += 1
                if kept == keep:
                    cut = text.index(">", tag.end()) + 1
        elif not closing:
            depth += 1
        else:
            depth -= 1
            if depth == 0 and cut is not None:  # the end of the top-level list
                text = text[:cut] + text[tag.start() :]
                break
    text = re.sub(r"<dependencies\b.*?</dependencies>", "", text, flags=re.S)
    return text.encode("utf-8")


@functools.cache
def seeds() -> dict[str, dict[str, bytes]]:
    """Seeds by reader; the corpus ones only where the corpus is present."""
    found: dict[str, dict[str, bytes]] = {
        "json": {"pip-licenses": pip_licenses_seed(), "license-finder": json_license_finder_seed()},
        "xml": {},
        "tag-value": {},
    }
    if CORPUS.is_dir():
        for rel in JSON_SEED_FILES:
            found["json"][rel] = (CORPUS / rel).read_bytes()
        found["xml"][XML_SEED_FILE] = _cut_xml(
            (CORPUS / XML_SEED_FILE).read_bytes(), XML_SEED_COMPONENTS
        )
        for rel in TAG_VALUE_SEED_FILES:
            found["tag-value"][rel] = (CORPUS / rel).read_bytes()
    return found


def all_seeds() -> list[bytes]:
    return [data for group in seeds().values() for _, data in sorted(group.items())]


# --------------------------------------------------------------------------- the property


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / "policy")


#: Messages of the readers' ``except Exception`` safety nets: still exit 3, but a
#: Python exception instead of a located explanation usually hides a reader bug.
CATCH_ALL = re.compile(r"could not be read as [\w -]+ \(\w+: |is nested too deeply to read")


def _event(label: str) -> None:
    """Count outcomes in ``--hypothesis-show-statistics`` (only inside a property test)."""
    if currently_in_test_context():
        event(label)


def assert_reads_or_refuses(data: bytes, policy: Policy) -> ReadResult | None:
    """The property: a ReadResult the gate can judge, or an InputError naming the file."""
    try:
        result = parse_input(data, NAME)
    except InputError as exc:
        assert exc.problem.path == NAME, exc.problem
        assert exc.problem.message, exc.problem
        caught = CATCH_ALL.search(exc.problem.message)
        _event("refused by a catch-all (a hidden bug?)" if caught else "refused")
        return None
    assert isinstance(result, ReadResult)
    assert result.path == NAME
    for component in result.components:
        assert type(component.name) is str and component.name, component
        assert component.origin.path == NAME, component.origin
        for field in (component.version, component.purl, component.group, component.scope):
            assert field is None or type(field) is str, component
        for evidence in component.licenses:
            assert type(evidence.text) is str, evidence
            assert evidence.origin.path == NAME, evidence.origin
    for note in result.notes:
        assert note.origin.path == NAME, note
        assert type(note.message) is str, note
    # The gate over every component and note, then both reports and one explain trace.
    findings = evaluate_results([result], policy)
    run = RunResult([result], findings)
    orjson.loads(json_report.render(run))
    text_report.render(run)
    if result.components:
        render_trace(Evaluator(policy).trace(result.components[-1]))
    _event(f"accepted as {result.format}")
    return result


def assert_refused(data: bytes, policy: Policy, *, contains: str = "") -> InputError:
    with pytest.raises(InputError) as info:
        parse_input(data, NAME)
    problem = info.value.problem
    assert problem.path == NAME, problem
    assert contains.lower() in problem.message.lower(), problem
    assert str(info.value).startswith(NAME), str(info.value)
    return info.value


# --------------------------------------------------------------------------- byte-level strategies

#: Fragments that matter to one of the formats' syntax or to license parsing.
# fmt: off
TOKENS = (
    b'"', b"{", b"}", b"[", b"]", b",", b":", b"\\", b"\\u0000", b"\\ud800", b"\x00", b"\xff",
    b"\xef\xbb\xbf", b"\xc3", b"<", b">", b"/>", b"&", b"&amp;", b"&#0;", b"&#x110000;",
    b"<![CDATA[", b"]]>", b"<!--", b"-->", b"<?xml", b"\n", b"\r", b"\t", b"<text>", b"</text>",
    b"SPDXVersion: SPDX-2.3\n", b"PackageName: ", b"NOASSERTION", b" AND ", b" OR ", b" WITH ",
    b"(", b")", b"GPL-2.0", b"AGPL-3.0-only", b"LicenseRef-", b"pkg:oci/", b"1e999", b"-0",
    b"null", b"true", b"999999999999999999999999",
)
# fmt: on


@st.composite
def byte_mutants(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(all_seeds())))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(
            st.sampled_from(
                ("flip", "set", "insert", "token", "delete", "truncate", "splice", "repeat")
            )
        )
        pos = draw(st.integers(0, len(data)))
        if op == "flip" and data:
            pos = min(pos, len(data) - 1)
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            pos = min(pos, len(data) - 1)
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "token":
            data[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[pos:]
        elif op == "splice":
            other = draw(st.sampled_from(all_seeds()))
            cut = draw(st.integers(0, len(other)))
            data = data[:pos] + other[cut:]
        elif op == "repeat":
            chunk = bytes(data[pos : pos + draw(st.integers(1, 200))])
            data[pos:pos] = chunk * draw(st.integers(2, 50))
    return bytes(data)


# --------------------------------------------------------------------------- JSON strategies

#: Keys the readers look at, to grow fields into documents that lack them.
# fmt: off
KNOWN_KEYS = (
    "bomFormat", "specVersion", "metadata", "component", "components", "services", "name",
    "version", "purl", "group", "scope", "type", "licenses", "license", "id", "expression",
    "acknowledgement", "spdxVersion", "SPDXID", "packages", "versionInfo", "licenseConcluded",
    "licenseDeclared", "externalRefs", "referenceCategory", "referenceType", "referenceLocator",
    "primaryPackagePurpose", "attributionTexts", "relationships", "spdxElementId",
    "relatedSpdxElement", "relationshipType", "documentDescribes", "Name", "Version", "License",
    "License-Expression", "License-Metadata", "License-Classifier", "@graph", "@context",
)
# fmt: on

#: Strings that reach interesting code: kinds, purls, image names, license syntax.
# fmt: off
INTERESTING_STRINGS = (
    "", " ", "\x00", "\u2028", "\ufeff", "CycloneDX", "cyclonedx", "1.2", "1.4", "1.6", "1.7",
    "1.99", "2.0", "SPDX-2.2", "SPDX-2.3", "SPDX-3.0", "library", "application", "container",
    "operating-system", "framework", "firmware", "bogus", "CONTAINER", "OPERATING-SYSTEM",
    "required", "excluded", "MIT", "Apache-2.0", "GPL-2.0", "GPL-2.0-or-later",
    "AGPL-3.0-only", "SSPL-1.0", "BUSL-1.1", "LGPL-3.0-only", "PostgreSQL", "NOASSERTION",
    "NONE", "UNKNOWN", "BSD", "MIT OR AGPL-3.0-only", "MIT AND AGPL-3.0-only",
    "GPL-2.0 WITH Classpath-exception-2.0", "GPL-2.0-only WITH", "WITH MIT", "MIT AND",
    "(MIT", "MIT)", "((((((((((MIT))))))))))", "MIT OR OR MIT", "LicenseRef-foo",
    "DocumentRef-x:LicenseRef-y", "MIT, BSD-3-Clause", "MIT/X11", "BSD License; MIT License",
    "pkg:", "pkg:/", "pkg:%zz", "pkg:deb/debian/bash@5.2", "pkg:rpm/centos/bash@4.2",
    "pkg:pypi/psycopg@3.2.3", "pkg:pypi/psycopg2-binary@2.9", "pkg:npm/%40scope/x@1",
    "pkg:oci/postgresql@sha256:" + "a" * 64 + "?repository_url=docker.io/bitnami/postgresql",
    "pkg:oci/x?repository_url=", "pkg:oci/x@?tag=", "pkg:docker/bitnami/postgresql@15.3.0",
    "pkg:docker/library/postgres@sha256:" + "b" * 64, "pkg:docker/@", "pkg:golang/a/b@v1",
    "docker.io/bitnami/postgresql:15.3.0", "index.docker.io/library/postgres:16",
    "ghcr.io/cloudnative-pg/postgresql:16@sha256:" + "c" * 64, "cockroachdb/cockroach",
    "mariadb", "stackgres", "postgres", "psycopg", "asyncpg", "%", "%zz", "a@b@c", ":::",
    "@sha256:", "x:" + "9" * 200, "PACKAGE-MANAGER", "PACKAGE_MANAGER", "purl", "SECURITY",
    "cpe23Type", "DESCRIBES", "DESCRIBE", "DESCRIBED_BY", "CONTAINS", "SPDXRef-DOCUMENT",
    "SPDXRef-x", "CONTAINER", "OPERATING_SYSTEM", "LIBRARY", "APPLICATION",
)
# fmt: on

#: Markers replaced in the serialized JSON by text orjson will not write.
RAW_JSON = {
    "__raw_deep_list__": "[" * 2000 + "]" * 2000,
    "__raw_deep_dict__": '{"a":' * 2000 + "1" + "}" * 2000,
    "__raw_nest_ok__": "[" * 600 + "]" * 600,
    "__raw_bigint__": "9" * 400,
    "__raw_bigfloat__": "1e400",
    "__raw_negzero__": "-0.0",
    "__raw_nan__": "NaN",
    "__raw_lone_surrogate__": '"\\ud800"',
    "__raw_nul__": '"\\u0000"',
    "__raw_dup_keys__": '{"name":"a","name":"b","licenses":[],'
    '"licenses":[{"license":{"id":"MIT"}}]}',
}

#: Components nested in components, around the readers' depth limit.
NESTED_COMPONENTS = {
    f"__raw_nested_{depth}__": '{"name":"n","components":[' * depth
    + '{"name":"leaf"}'
    + "]}" * depth
    for depth in (10, 63, 64, 65, 200, 600)
}
RAW_JSON.update(NESTED_COMPONENTS)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(INTERESTING_STRINGS)
)

json_values: st.SearchStrategy[Any] = st.one_of(
    st.recursive(
        json_scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=6), inner, max_size=4)
        ),
        max_leaves=12,
    ),
    st.sampled_from(sorted(RAW_JSON)),
    st.builds(lambda n: "A" * n, st.sampled_from((2001, 100_000, 1_000_000))),
    st.builds(lambda n: "MIT OR " * n + "MIT", st.sampled_from((300, 5_000))),
    st.builds(lambda n: "(" * n + "MIT" + ")" * n, st.sampled_from((100, 1_500))),
    st.builds(
        lambda n: [{"name": f"c{i}", "licenses": [{"expression": "MIT"}]} for i in range(n)],
        st.integers(0, 300),
    ),
    st.sampled_from(sorted(NESTED_COMPONENTS)),
)

Path_ = tuple[str | int, ...]


def json_paths(doc: Any, limit: int = 4000) -> list[Path_]:
    """Every path to a value in ``doc`` (the root included), breadth first."""
    paths: list[Path_] = [()]
    queue: list[tuple[Path_, Any]] = [((), doc)]
    while queue and len(paths) < limit:
        here, node = queue.pop(0)
        children: list[tuple[str | int, Any]] = (
            list(node.items())
            if isinstance(node, dict)
            else list(enumerate(node))
            if isinstance(node, list)
            else []
        )
        for key, child in children:
            paths.append((*here, key))
            queue.append(((*here, key), child))
    return paths


def _get(doc: Any, path: Path_) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _serialize(doc: Any) -> bytes:
    text = orjson.dumps(doc).decode()
    for marker, raw in RAW_JSON.items():
        text = text.replace(f'"{marker}"', raw)
    return text.encode()


PIP_SEEDS = ("pip-licenses", "license-finder")


@st.composite
def json_mutants(draw: st.DrawFn, *, pip_only: bool = False) -> bytes:
    pool = seeds()["json"]
    labels = sorted(label for label in pool if label in PIP_SEEDS or not pip_only)
    doc = orjson.loads(pool[draw(st.sampled_from(labels))])
    for _ in range(draw(st.integers(1, 4))):
        paths = json_paths(doc)
        path = paths[draw(st.integers(0, len(paths) - 1))]
        op = draw(st.sampled_from(("replace", "replace", "delete", "add", "duplicate", "rename")))
        value = draw(json_values)
        if not path:
            doc = value if op == "replace" else doc
            continue
        parent: Any = _get(doc, path[:-1])
        key = path[-1]
        if op == "replace":
            parent[key] = value
        elif op == "delete":
            del parent[key]
        elif op == "add":
            target = _get(doc, path)
            if isinstance(target, dict):
                target[draw(st.sampled_from(KNOWN_KEYS))] = value
            elif isinstance(target, list):
                target.insert(draw(st.integers(0, len(target))), value)
            else:
                parent[key] = value
        elif op == "duplicate" and isinstance(parent, list) and isinstance(key, int):
            parent.extend([copy.deepcopy(parent[key])] * draw(st.integers(1, 20)))
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KNOWN_KEYS))] = parent.pop(key)
    return _serialize(doc)


# --------------------------------------------------------------------------- XML strategies

# fmt: off
XML_PROLOGUES = (
    '<!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE bom [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
    '<!DOCTYPE bom SYSTEM "http://127.0.0.1:9/bom.dtd">',
    '<!DOCTYPE bom PUBLIC "-//X//Y" "file:///etc/passwd">',
    "<!DOCTYPE bom>",
    "<!-- a comment --><?pi data?>",
)
# fmt: on
ENTITY_REFERENCES = ("&a;", "&b;", "&xxe;", "&undefined;", "&#65;", "&#0;", "&lt;", "&#x1F600;")
# fmt: off
XML_NAMESPACES = (
    *(f"http://cyclonedx.org/schema/bom/1.{minor}" for minor in range(10)),
    "http://cyclonedx.org/schema/bom/2.0", "https://cyclonedx.org/schema/bom/1.5", "urn:other", "",
)
# fmt: on
# fmt: off
XML_DECLARATIONS = (
    b'<?xml version="1.0" encoding="UTF-8"?>', b'<?xml version="1.0" encoding="bogus"?>',
    b'<?xml version="1.0" encoding="UTF-16"?>', b'<?xml version="1.0" encoding="ISO-8859-1"?>',
    b'<?xml version="1.1"?>', b"",
)
# fmt: on


def _deep_components(depth: int) -> str:
    """``depth`` components each nested in the one before."""
    open_ = '<component type="library"><name>d</name><components>'
    return open_ * depth + "</components></component>" * depth


@st.composite
def xml_mutants(draw: st.DrawFn) -> bytes:
    seed = draw(st.sampled_from(sorted(seeds()["xml"].values())))
    text = seed.decode("utf-8")
    # Structure-aware edits on element text and attributes first.
    for _ in range(draw(st.integers(0, 3))):
        tags = [
            m.start()
            for m in re.finditer(
                r"<(?:name|version|purl|group|id|expression|"
                r"scope|license|licenses|component)\b",
                text,
            )
        ]
        if not tags:
            break
        start = tags[draw(st.integers(0, len(tags) - 1))]
        end = text.find(">", start) + 1
        value = draw(
            st.sampled_from(INTERESTING_STRINGS)
            | st.text(max_size=12)
            | st.sampled_from(ENTITY_REFERENCES)
        )
        value = value if value.startswith("&") else _xml_escape(value)
        text = text[:end] + value + text[end:]
    for _ in range(draw(st.integers(0, 3))):
        op = draw(
            st.sampled_from(
                (
                    "prologue",
                    "entity",
                    "deep",
                    "namespace",
                    "type",
                    "drop",
                    "cdata",
                    "declaration",
                    "truncate",
                )
            )
        )
        if op == "prologue":
            prologue = draw(st.sampled_from(XML_PROLOGUES))
            at = text.find("<bom")
            text = text[:at] + prologue + text[at:] if at >= 0 else text
        elif op == "entity":
            positions = [m.end() for m in re.finditer(r"<(?:name|id|expression)>", text)]
            if positions:
                pos = positions[draw(st.integers(0, len(positions) - 1))]
                text = text[:pos] + draw(st.sampled_from(ENTITY_REFERENCES)) + text[pos:]
        elif op == "deep":
            pos = text.find("</components>")
            if pos >= 0:
                depth = draw(st.sampled_from((2, 63, 64, 65, 500, 20_000)))
                text = text[:pos] + _deep_components(depth) + text[pos:]
        elif op == "namespace":
            namespace = draw(st.sampled_from(XML_NAMESPACES))
            text = re.sub(r'xmlns="[^"]*"', f'xmlns="{namespace}"', text, count=1)
        elif op == "type":
            text = re.sub(
                r'type="[^"]*"',
                f'type="{_xml_escape(draw(json_scalars.map(str)))}"',
                text,
                count=draw(st.integers(1, 5)),
            )
        elif op == "drop":
            tag = draw(st.sampled_from(("name", "licenses", "components", "purl", "version")))
            text = re.sub(rf"<{tag}\b.*?</{tag}>", "", text, count=1, flags=re.S)
        elif op == "cdata":
            text = text.replace("<name>", "<name><![CDATA[x]]><!--c-->", 1)
        elif op == "declaration":
            text = re.sub(r"^<\?xml[^>]*\?>", "", text)
            text = draw(st.sampled_from(XML_DECLARATIONS)).decode() + text
        elif op == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
    data = text.encode("utf-8")
    if draw(st.booleans()):  # byte damage on top of the structure
        pos = draw(st.integers(0, len(data)))
        data = data[:pos] + draw(st.sampled_from(TOKENS)) + data[pos:]
    return data


def _xml_escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


# --------------------------------------------------------------------------- tag-value strategies

# fmt: off
TAG_LINES = (
    "SPDXVersion: SPDX-2.3", "SPDXVersion: SPDX-9.9", "SPDXVersion:", "DocumentName: {v}",
    "PackageName: {v}", "PackageName:", "SPDXID: {v}", "SPDXID: SPDXRef-DOCUMENT",
    "PackageVersion: {v}", "PackageLicenseConcluded: {v}", "PackageLicenseDeclared: {v}",
    "PackageLicenseConcluded: <text>{v}</text>", "PackageLicenseDeclared: <text>{v}",
    "ExternalRef: PACKAGE-MANAGER purl {v}", "ExternalRef: PACKAGE-MANAGER purl",
    "ExternalRef: {v}", "Relationship: SPDXRef-DOCUMENT DESCRIBES {v}", "Relationship: {v}",
    "PrimaryPackagePurpose: {v}", "PackageAttributionText: <text>{v}</text>",
    "PackageComment: <text>", "</text>", "FileName: {v}", "LicenseID: {v}",
    "ExtractedText: <text>{v}", "# comment {v}", "{v}", ":", "::::", "PackageName: {v}\r",
)
# fmt: on


@st.composite
def tag_value_mutants(draw: st.DrawFn) -> bytes:
    seed = draw(st.sampled_from(sorted(seeds()["tag-value"].values())))
    lines = seed.decode("utf-8").split("\n")
    for _ in range(draw(st.integers(1, 8))):
        op = draw(
            st.sampled_from(("value", "insert", "delete", "duplicate", "swap", "truncate", "block"))
        )
        index = draw(st.integers(0, max(len(lines) - 1, 0)))
        if not lines:
            lines = [""]
            index = 0
        value = draw(st.sampled_from(INTERESTING_STRINGS) | st.text(max_size=30))
        if op == "value":
            tag, colon, _ = lines[index].partition(":")
            lines[index] = f"{tag}{colon} {value}" if colon else value
        elif op == "insert":
            lines.insert(index, draw(st.sampled_from(TAG_LINES)).replace("{v}", value))
        elif op == "delete":
            del lines[index]
        elif op == "duplicate":
            lines[index:index] = [lines[index]] * draw(st.integers(1, 200))
        elif op == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        elif op == "truncate":
            del lines[index:]
        elif op == "block":  # an unterminated multi-line text block swallowing the rest
            lines.insert(index, f"PackageLicenseComments: <text>{value}")
    return "\n".join(lines).encode("utf-8", "surrogatepass")


# --------------------------------------------------------------------------- property tests


@requires_corpus
@FUZZ
@given(data=byte_mutants())
def test_byte_mutations_read_or_refuse(data: bytes, policy: Policy) -> None:
    assert_reads_or_refuses(data, policy)


@requires_corpus
@FUZZ
@given(data=json_mutants())
def test_json_structure_mutations_read_or_refuse(data: bytes, policy: Policy) -> None:
    assert_reads_or_refuses(data, policy)


@FUZZ
@given(data=json_mutants(pip_only=True))
def test_pip_licenses_mutations_read_or_refuse(data: bytes, policy: Policy) -> None:
    # Runs without the corpus too: the pip-licenses seeds are generated here.
    assert_reads_or_refuses(data, policy)


@requires_corpus
@FUZZ
@given(data=xml_mutants())
def test_xml_mutations_read_or_refuse(data: bytes, policy: Policy) -> None:
    result = assert_reads_or_refuses(data, policy)
    if result is not None:  # no entity or external reference was ever followed
        shown = repr(result)
        assert not any(marker in shown for marker in _passwd_markers())


@requires_corpus
@FUZZ
@given(data=tag_value_mutants())
def test_tag_value_mutations_read_or_refuse(data: bytes, policy: Policy) -> None:
    assert_reads_or_refuses(data, policy)


@FUZZ
@given(data=st.binary(max_size=512))
def test_random_bytes_read_or_refuse(data: bytes, policy: Policy) -> None:
    assert_reads_or_refuses(data, policy)


@FUZZ
@given(
    head=st.sampled_from(
        (
            b"{",
            b"[",
            b"<",
            b"SPDXVersion: SPDX-2.3\n",
            b"\xef\xbb\xbf{",
            b"\xff\xfe",
            b"\xfe\xff",
            b"\x00\x00\xfe\xff",
            b"\xff\xfe\x00\x00",
        )
    ),
    tail=st.binary(max_size=256),
)
def test_format_sniffing_prefixes_read_or_refuse(head: bytes, tail: bytes, policy: Policy) -> None:
    assert_reads_or_refuses(head + tail, policy)


def test_seeds_are_read(policy: Policy) -> None:
    """The fuzz seeds themselves must be accepted, or the mutations test little."""
    for group in seeds().values():
        for label, data in group.items():
            result = assert_reads_or_refuses(data, policy)
            assert result is not None and result.components, label


# --------------------------------------------------------------------------- hostile inputs

CDX_NS = "http://cyclonedx.org/schema/bom/1.5"
PASSWD = Path("/etc/passwd")


@functools.cache
def _passwd_markers() -> list[str]:
    """Distinctive pieces of /etc/passwd that must never appear in output."""
    try:
        lines = PASSWD.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ["root:x:0:0"]
    return [line for line in lines if line.count(":") >= 6][:5] or ["root:x:0:0"]


def _bom_xml(body: str, prologue: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>\n{prologue}\n<bom xmlns="{CDX_NS}" version="1">'
        f"<components>{body}</components></bom>"
    ).encode()


def test_billion_laughs_is_refused(policy: Policy) -> None:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    data = _bom_xml(
        '<component type="library"><name>&lol9;</name></component>',
        f"<!DOCTYPE bom [{entities}]>",
    )
    error = assert_refused(data, policy)
    assert len(str(error)) < 2000


def test_quadratic_blowup_without_dtd_expansion_is_refused(policy: Policy) -> None:
    data = _bom_xml(
        '<component type="library"><name>' + "&a;" * 50_000 + "</name></component>",
        f'<!DOCTYPE bom [<!ENTITY a "{"x" * 50_000}">]>',
    )
    assert_refused(data, policy)


@pytest.mark.parametrize(
    "prologue",
    [
        '<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE bom [<!ENTITY % xxe SYSTEM "file:///etc/passwd"> %xxe;]>',
        '<!DOCTYPE bom SYSTEM "file:///etc/passwd">',
    ],
    ids=["general-entity", "parameter-entity", "external-dtd"],
)
def test_external_entity_is_refused_and_never_read(prologue: str, policy: Policy) -> None:
    data = _bom_xml(
        '<component type="library"><name>&xxe;</name>'
        "<licenses><license><name>&xxe;</name></license></licenses></component>",
        prologue,
    )
    error = assert_refused(data, policy)
    shown = str(error) + repr(error.problem)
    for marker in _passwd_markers():
        assert marker not in shown


def test_xinclude_is_not_followed(policy: Policy) -> None:
    data = (
        f'<bom xmlns="{CDX_NS}" xmlns:xi="http://www.w3.org/2001/XInclude"><components>'
        '<component type="library"><name>x</name><licenses><license><name>'
        '<xi:include href="file:///etc/passwd" parse="text"/></name></license></licenses>'
        "</component></components></bom>"
    ).encode()
    result = assert_reads_or_refuses(data, policy)
    shown = repr(result)
    for marker in _passwd_markers():
        assert marker not in shown


def test_json_nested_100000_deep_is_refused(policy: Policy) -> None:
    depth = 100_000
    assert_refused(b"[" * depth + b"]" * depth, policy, contains="nested too deeply")
    assert_refused(b'{"a":' * depth + b"1" + b"}" * depth, policy, contains="nested too deeply")
    cdx = b'{"bomFormat":"CycloneDX","specVersion":"1.5","components":' + b"[" * depth
    assert_refused(cdx + b"]" * depth + b"}", policy)


def test_cyclonedx_json_components_nested_past_the_limit_are_refused(policy: Policy) -> None:
    depth = 300  # 600 JSON levels: orjson reads it, the reader's own limit must refuse it
    body = '{"name":"n","components":[' * depth + '{"name":"leaf"}' + "]}" * depth
    data = f'{{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{body}]}}'.encode()
    assert_refused(data, policy, contains="levels deep")


def test_xml_nested_100000_deep_is_refused(policy: Policy) -> None:
    depth = 100_000
    assert_refused(b"<a>" * depth + b"</a>" * depth, policy)
    data = _bom_xml(_deep_components(depth))
    assert_refused(data, policy, contains="levels deep")
    unknown = _bom_xml(
        '<component type="library"><name>x</name>'
        + "<ext>" * depth
        + "</ext>" * depth
        + "</component>"
    )
    assert_reads_or_refuses(unknown, policy)


def test_50_megabytes_of_json_complete(policy: Policy) -> None:
    """Big but plausible inputs finish (no time is asserted: CI machines vary)."""
    license_text = "Permission is hereby granted, free of charge, to any person. " * 800
    rows = [
        {"Name": f"pkg{i}", "Version": f"1.0.{i}", "License": "MIT", "LicenseText": license_text}
        for i in range(1_050)
    ]
    data = orjson.dumps(rows)
    assert len(data) > 50_000_000
    result = assert_reads_or_refuses(data, policy)
    assert result is not None and len(result.components) == len(rows)
    del data, rows

    strings = b"[" + b",".join([b'"' + b"x" * 46 + b'"'] * 1_000_000) + b"]"
    assert len(strings) >= 48_000_000
    assert_refused(strings, policy, contains="not a recognised format")


@pytest.mark.parametrize(
    ("label", "data"),
    [
        ("empty", b""),
        ("whitespace", b" \t\r\n" * 100),
        ("nul-bytes", b"\x00" * 1024),
        ("nul-then-json", b"\x00{}"),
        ("bom-only", b"\xef\xbb\xbf"),
        ("latin1-tag-value", "SPDXVersion: SPDX-2.3\nPackageName: café\n".encode("latin-1")),
        ("latin1-json", '{"bomFormat":"CycloneDX","specVersion":"1.5","x":"é"}'.encode("latin-1")),
        ("latin1-plain", "Lizenz: Gebührenfrei".encode("latin-1")),
        ("utf16-no-bom", '{"bomFormat":"CycloneDX"}'.encode("utf-16-le")),
        ("truncated-utf16-bom", b"\xff\xfe{\x00\x22"),
        ("lone-surrogate-json", b'{"bomFormat":"CycloneDX","specVersion":"1.5","a":"\\ud800"}'),
    ],
)
def test_odd_encodings_and_empty_inputs_are_refused(
    label: str, data: bytes, policy: Policy
) -> None:
    assert_refused(data, policy)


@requires_corpus
@pytest.mark.parametrize(
    "rel",
    ["cyclonedx/trivy_license-cyclonedx-1.5.json", "spdx/trivy_centos-7-spdx.txt", XML_SEED_FILE],
)
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_bom_marked_encodings_are_read(rel: str, encoding: str, policy: Policy) -> None:
    text = (CORPUS / rel).read_bytes().decode("utf-8")
    if rel.endswith(".xml"):
        text = _cut_xml(text.encode(), XML_SEED_COMPONENTS).decode("utf-8")
        text = re.sub(r"^<\?xml[^>]*\?>", "", text)
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    expected = parse_input(text.encode("utf-8"), NAME)
    result = assert_reads_or_refuses(data, policy)
    assert result is not None, f"{rel} in {encoding} with a BOM was refused"
    assert [c.name for c in result.components] == [c.name for c in expected.components]


@pytest.mark.parametrize("name", ["/", "//", " / "])
def test_pip_licenses_name_that_is_no_pypi_name_is_explained(name: str, policy: Policy) -> None:
    # found by benchmarks/fuzz_readers.py: packageurl raised TypeError on these
    data = orjson.dumps([{"Name": name, "Version": "1.0", "License": "MIT"}])
    try:
        result = parse_input(data, NAME)
    except InputError as exc:
        assert exc.problem.path == NAME
        assert not CATCH_ALL.search(exc.problem.message), exc.problem.message
    else:
        assert all(c.purl is None for c in result.components)


# --------------------------------------------------------------------------- command line


def test_cli_exit_3_for_a_rejected_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.cdx.json"
    bad.write_bytes(b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [')
    code = cli_main(["check", str(bad), "--policy", str(ROOT / "policy")])
    assert code == EXIT_INPUT
    assert str(bad) in capsys.readouterr().err


def test_cli_exit_3_for_a_hostile_xml_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "xxe.xml"
    bad.write_bytes(
        _bom_xml(
            '<component type="library"><name>&xxe;</name></component>',
            '<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        )
    )
    code = cli_main(["check", str(bad), "--policy", str(ROOT / "policy"), "--format", "json"])
    captured = capsys.readouterr()
    assert code == EXIT_INPUT
    assert str(bad) in captured.err
    for marker in _passwd_markers():
        assert marker not in captured.out + captured.err
