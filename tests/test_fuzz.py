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
Explicit hostile cases follow. The mutators are those of the long campaign,
``benchmarks/fuzz_readers.py`` (both take them from ``tests/fuzzing.py``); here
Hypothesis makes their choices, so a failure shrinks to a small input.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from checker.artifacts import dockerfile
from checker.cli import main as cli_main
from checker.errors import EXIT_INPUT, InputError
from checker.evaluation import Evaluator
from checker.gate import evaluate_results
from checker.model import ReadResult
from checker.policy import Policy, load_policy
from checker.report import json as json_report
from checker.report import text as text_report
from checker.report.text import render_trace
from checker.results import RunResult
from checker.sbom import parse_input
from tests.fuzzing import (
    CATCH_ALL,
    KEYS,
    NESTED_COMPONENTS,
    RAW_JSON,
    STRINGS,
    cut_xml,
    deep_components,
    invalid,
    license_finder_seed,
    mutate_bytes,
    mutate_dockerfile,
    mutate_json,
    mutate_tag_value,
    mutate_xml,
    pip_licenses_seed,
)
from tests.helpers import CORPUS, ROOT

NAME = "fuzz"

T = TypeVar("T")

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


@functools.cache
def seeds() -> dict[str, dict[str, bytes]]:
    """Seeds by reader; the corpus ones only where the corpus is present."""
    found: dict[str, dict[str, bytes]] = {
        "json": {"pip-licenses": pip_licenses_seed(), "license-finder": license_finder_seed()},
        "xml": {},
        "tag-value": {},
    }
    if CORPUS.is_dir():
        for rel in JSON_SEED_FILES:
            found["json"][rel] = (CORPUS / rel).read_bytes()
        found["xml"][XML_SEED_FILE] = cut_xml(
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
    problem = invalid(result, NAME)
    assert problem is None, problem
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


# --------------------------------------------------------------------------- strategies

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(STRINGS)
)

json_values: st.SearchStrategy[Any] = st.one_of(
    st.recursive(
        json_scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4)
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


class Drawn:
    """The shared mutators' choices, made by Hypothesis so that it can shrink them."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw

    def integer(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high))

    def pick(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(options))

    def binary(self, low: int, high: int) -> bytes:
        return self.draw(st.binary(min_size=low, max_size=high))

    def text(self) -> str:
        return self.draw(st.sampled_from(STRINGS) | st.text(max_size=30))

    def json_value(self) -> Any:
        return self.draw(json_values)


@st.composite
def byte_mutants(draw: st.DrawFn) -> bytes:
    return mutate_bytes(Drawn(draw), draw(st.sampled_from(all_seeds())), all_seeds())


PIP_SEEDS = ("pip-licenses", "license-finder")


@st.composite
def json_mutants(draw: st.DrawFn, *, pip_only: bool = False) -> bytes:
    pool = seeds()["json"]
    labels = sorted(label for label in pool if label in PIP_SEEDS or not pip_only)
    return mutate_json(Drawn(draw), pool[draw(st.sampled_from(labels))])


@st.composite
def xml_mutants(draw: st.DrawFn) -> bytes:
    return mutate_xml(Drawn(draw), draw(st.sampled_from(sorted(seeds()["xml"].values()))))


@st.composite
def tag_value_mutants(draw: st.DrawFn) -> bytes:
    seed = draw(st.sampled_from(sorted(seeds()["tag-value"].values())))
    return mutate_tag_value(Drawn(draw), seed)


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


# --------------------------------------------------------------------------- Dockerfiles

DOCKERFILE_SEEDS = ("Dockerfile.postgis", "Dockerfile.installs", "Dockerfile.args", "Containerfile")


@st.composite
def dockerfile_mutants(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(DOCKERFILE_SEEDS))
    seed = (ROOT / "tests" / "data" / "artifacts" / name).read_bytes()
    mutant = mutate_dockerfile(Drawn(draw), seed)
    return mutate_bytes(Drawn(draw), mutant, [seed]) if draw(st.booleans()) else mutant


@FUZZ
@given(data=dockerfile_mutants())
def test_dockerfile_mutations_read_or_refuse(data: bytes, policy: Policy) -> None:
    """RUN scripts the reader cannot follow are notes; only an InputError naming the file leaves."""
    try:
        result = dockerfile.read(data, NAME)
    except InputError as exc:
        assert exc.problem.path == NAME, exc.problem
        assert not CATCH_ALL.search(exc.problem.message), exc.problem
        return
    assert invalid(result, NAME) is None, invalid(result, NAME)
    text_report.render(RunResult([result], evaluate_results([result], policy)))


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
    data = _bom_xml(deep_components(depth))
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
        text = cut_xml(text.encode(), XML_SEED_COMPONENTS).decode("utf-8")
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
