"""The requirements-file reader: pip's line syntax, includes, pins and notes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.errors import InputError
from checker.lockfiles import read_lockfile, requirements
from checker.model import Kind, ReadResult
from checker.sources import read_paths
from tests.helpers import FIXTURES, corpus_file, read_or_refused

DATA = FIXTURES / "lockfiles"


def read(path: Path) -> ReadResult:
    return requirements.read(path, path.read_bytes())


def by_name(result: ReadResult) -> dict[str, list[object]]:
    found: dict[str, list[object]] = {}
    for c in result.components:
        found.setdefault(c.name, []).append(c)
    return found


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- corpus


def test_warehouse_main_txt_has_184_pins_and_2089_hashes() -> None:
    path = corpus_file("lockfiles", "pypi-warehouse/requirements/main.txt")
    parsed = requirements.read_requirements(path, path.read_bytes())
    result = parsed.result
    assert result.format == "requirements"
    assert len(result.components) == 184
    assert sum(len(line.hashes) for line in parsed.lines) == 2089
    assert result.notes == []
    assert all(c.version and c.kind is Kind.LIBRARY and c.scope is None for c in result.components)
    psycopg = next(c for c in result.components if c.name == "psycopg")
    assert psycopg.version == "3.3.4"
    assert psycopg.purl == "pkg:pypi/psycopg@3.3.4"
    assert psycopg.origin.location == "line 1633"
    assert psycopg.origin.path == str(path)
    assert path.read_text().splitlines()[1632].startswith("psycopg[binary]==3.3.4")
    binary = next(c for c in result.components if c.name == "psycopg-binary")
    assert (binary.version, binary.origin.location) == ("3.3.4", "line 1637")


def test_trivy_unhashed_notes_the_one_unpinned_line() -> None:
    path = corpus_file("lockfiles", "trivy-pip-unhashed/requirements.txt")
    result = read(path)
    assert len(result.components) == 8
    markupsafe = next(c for c in result.components if c.name == "MarkupSafe")
    assert markupsafe.version is None
    assert markupsafe.purl == "pkg:pypi/markupsafe"
    assert [n.origin.location for n in result.notes] == ["line 5"]
    message = result.notes[0].message
    assert "unpinned requirement 'MarkupSafe>2.0.0'" in message
    assert "(pin it with == and hashes)" in message
    flask = next(c for c in result.components if c.name == "Flask")
    assert flask.purl == "pkg:pypi/flask@2.0.0"


# --------------------------------------------------------------------------- fixtures


def test_fixture_with_include_constraints_markers_extras_and_urls() -> None:
    main = DATA / "requirements" / "main.txt"
    result = read(main)
    names = by_name(result)
    comps = {c.name: c for c in result.components}
    # -r base.txt: its packages are components, located in base.txt
    assert comps["packaging"].origin.path == str(DATA / "requirements" / "base.txt")
    assert comps["packaging"].origin.location == "line 2"
    assert comps["orjson"].version == "3.11.3"
    # -c constraints.txt: celery is only constrained, so it is not a component ...
    assert "celery" not in names
    # ... but the constraint pins the unpinned "redis" line, without an unpinned note
    assert comps["redis"].version == "6.4.0"
    assert comps["redis"].purl == "pkg:pypi/redis@6.4.0"
    assert comps["redis"].origin.location == "line 20"
    # continuation with hashes; the first physical line is the location
    assert comps["alembic"].origin.location == "line 10"
    # extras and markers: the name without extras, the purl without extras
    assert (comps["psycopg"].version, comps["psycopg"].purl) == ("3.3.4", "pkg:pypi/psycopg@3.3.4")
    assert comps["tomli"].version == "2.2.1"
    # an AGPL package is just a component here; the gate judges it
    assert comps["some-agpl-lib"].purl == "pkg:pypi/some-agpl-lib@1.0"
    # names as written, purls PEP 503-normalised
    assert comps["Zope.Interface"].purl == "pkg:pypi/zope-interface@7.2"
    # unpinned lines: component without version and a note each
    assert comps["requests"].version is None
    assert comps["sqlalchemy"].version is None
    notes = {n.origin.location: n.message for n in result.notes}
    assert "unpinned requirement 'requests>=2.31'" in notes["line 18"]
    assert "unpinned requirement 'sqlalchemy'" in notes["line 19"]
    assert "line 20" not in notes
    # URL and VCS requirements: named component without version, and a note
    assert comps["django-postgres-extra"].version is None
    assert comps["django-postgres-extra"].purl == "pkg:pypi/django-postgres-extra"
    assert "not from a package index" in notes["line 21"]
    assert comps["editable-lib"].purl == "pkg:pypi/editable-lib"
    assert "editable" in notes["line 22"]
    assert comps["private-repo"].version is None
    assert "add #egg=" in notes["line 23"]
    assert "ghp_TOKEN" not in notes["line 23"] and "***@github.com" in notes["line 23"]
    wheel = comps["local_wheel"]
    assert (wheel.version, wheel.purl) == ("0.3.1", "pkg:pypi/local-wheel@0.3.1")
    # a local editable path names no package: a note, no component
    assert "names no package" in notes["line 25"]
    # options such as --index-url are ignored, and credentials never repeated
    assert not any("s3cr3t" in n.message for n in result.notes)
    assert len(result.components) == 14


def test_include_cycle_names_the_chain() -> None:
    a = DATA / "requirements-cycle" / "a.txt"
    with pytest.raises(InputError) as caught:
        read(a)
    problem = caught.value.problem
    assert problem.path == str(DATA / "requirements-cycle" / "b.txt")
    assert problem.location == "line 2"
    assert "include cycle" in problem.message
    assert problem.message.count("a.txt") == 2 and "b.txt" in problem.message


def test_self_include_is_a_cycle(tmp_path: Path) -> None:
    path = write(tmp_path, "requirements.txt", "flask==3.1.0\n-r requirements.txt\n")
    with pytest.raises(InputError, match="include cycle"):
        read(path)


def test_missing_include_names_the_including_line() -> None:
    path = DATA / "requirements-cycle" / "missing.txt"
    with pytest.raises(InputError) as caught:
        read(path)
    problem = caught.value.problem
    assert (problem.path, problem.location) == (str(path), "line 3")
    assert "not-there.txt" in problem.message and "does not exist" in problem.message


def test_syntax_error_names_file_and_line() -> None:
    path = DATA / "requirements-cycle" / "bad-syntax.txt"
    with pytest.raises(InputError) as caught:
        read(path)
    assert caught.value.problem.location == "line 2"
    assert "jinja2===" in caught.value.problem.message


def test_include_is_relative_to_the_including_file(tmp_path: Path) -> None:
    write(tmp_path, "sub/deeper/common.txt", "six==1.17.0\n")
    write(tmp_path, "sub/dev.txt", "-r deeper/common.txt\n--requirement=../other.txt\n")
    write(tmp_path, "other.txt", "attrs==25.3.0\n")
    root = write(tmp_path, "requirements.txt", "-rsub/dev.txt\n")
    result = read(root)
    assert [(c.name, c.version) for c in result.components] == [
        ("six", "1.17.0"),
        ("attrs", "25.3.0"),
    ]
    assert result.components[0].origin.path.endswith("common.txt")


def test_include_limit_is_shared(tmp_path: Path) -> None:
    write(tmp_path, "big.txt", "# padding\n" * 200)
    root = write(tmp_path, "requirements.txt", "flask==3.1.0\n-r big.txt\n")
    with pytest.raises(InputError) as caught:
        requirements.read(root, root.read_bytes(), max_bytes=500)
    assert caught.value.problem.location == "line 2"
    assert "input limit" in caught.value.problem.message


def test_empty_include_and_url_include(tmp_path: Path) -> None:
    write(tmp_path, "empty.txt", "\n")
    root = write(
        tmp_path,
        "requirements.txt",
        "-r empty.txt\n-r https://user:pw@example.com/reqs.txt\nflask==3.1.0\n",
    )
    result = read(root)
    assert [c.name for c in result.components] == ["flask"]
    assert len(result.notes) == 1 and "not fetched" in result.notes[0].message
    assert "pw@" not in result.notes[0].message


def test_constraints_only_constrain_and_diamond_includes_read_once(tmp_path: Path) -> None:
    write(tmp_path, "c.txt", "flask==3.1.0\njinja2==3.1.6\n")
    write(tmp_path, "shared.txt", "click==8.2.1\n")
    write(tmp_path, "x.txt", "-r shared.txt\n")
    root = write(tmp_path, "requirements.txt", "-c c.txt\nflask\n-r x.txt\n-r shared.txt\n")
    result = read(root)
    assert [(c.name, c.version) for c in result.components] == [
        ("flask", "3.1.0"),
        ("click", "8.2.1"),
    ]
    assert result.notes == []


def test_line_forms(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "Django==5.2.* ; python_version >= '3.10'",  # wildcard: not a pin
            "arbitrary===1.0-local",
            "compat~=1.4",
            'pkg @ https://example.com/pkg-1.0.tar.gz ; sys_platform == "linux"',
            "./local/sdist_pkg-2.0.tar.gz",
            "hg+https://hg.example.com/repo#egg=hg-thing&subdirectory=sub",
            "--pre",
            "--unknown-option value",
            "x==1.0 --hash=sha256:abc --hash sha256:def",
            "y==2.0 \\",
            "  # a comment line ends the continuation",
            "z==3.0  # trailing comment",
        ]
    )
    result = read(write(tmp_path, "requirements.txt", text + "\n"))
    comps = {c.name: c for c in result.components}
    assert comps["Django"].version is None
    assert comps["arbitrary"].version == "1.0-local"
    assert comps["compat"].version is None
    assert comps["pkg"].version is None and comps["pkg"].purl == "pkg:pypi/pkg"
    assert comps["sdist_pkg"].version == "2.0"
    assert comps["hg-thing"].version is None
    assert comps["x"].version == "1.0"
    assert comps["y"].origin.location == "line 10"
    assert comps["z"].origin.location == "line 12"
    messages = " | ".join(n.message for n in result.notes)
    assert "unknown option '--unknown-option'" in messages
    assert 'unpinned requirement "Django==5.2.* ; python_version' in messages
    parsed = requirements.read_requirements(
        tmp_path / "requirements.txt", (tmp_path / "requirements.txt").read_bytes()
    )
    assert next(line for line in parsed.lines if line.name == "x").hashes == [
        "sha256:abc",
        "sha256:def",
    ]


def test_logical_lines_follow_pip() -> None:
    text = "a==1 \\\n  --hash=sha256:x \\\n  --hash=sha256:y\n# c \\\nb==2\n\\\n"
    assert list(requirements.logical_lines(text)) == [
        (1, "a==1   --hash=sha256:x   --hash=sha256:y"),
        (5, "b==2"),
    ]


def test_encodings(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"# -*- coding: latin-1 -*-\n# caf\xe9\nflask==3.1.0\n")
    assert [c.name for c in read(path).components] == ["flask"]
    path.write_bytes(b"flask==3.1.0\n# caf\xe9\n")
    with pytest.raises(InputError, match="UTF-8"):
        read(path)
    path.write_bytes(b"# coding: no-such-codec\nflask==3.1.0\n")
    with pytest.raises(InputError, match="no-such-codec"):
        read(path)


def test_broken_quoting_and_missing_option_value(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="quoting"):
        read(write(tmp_path, "a.txt", "x==1 --hash 'sha256:abc\n"))
    with pytest.raises(InputError, match="needs a value") as caught:
        read(write(tmp_path, "b.txt", "x==1\n-r\n"))
    assert caught.value.problem.location == "line 2"


def test_read_lockfile_dispatches_requirements(tmp_path: Path) -> None:
    path = write(tmp_path, "requirements.txt", "flask==3.1.0\n")
    result = read_lockfile("requirements", path, path.read_bytes(), 1000)
    assert result.format == "requirements"
    assert result.components[0].purl == "pkg:pypi/flask@3.1.0"


# --------------------------------------------------------------------------- fuzz

SEED_LINES = [
    "flask==3.1.0",
    "psycopg[binary]==3.3.4 ; python_version >= '3.10'",
    "-e git+https://github.com/a/b.git#egg=b",
    "x==1 \\",
    "    --hash=sha256:abc",
    "-r other.txt",
    "-c constraints.txt",
    "pkg @ https://example.com/p-1.0.whl",
    "# via foo",
    "--index-url https://mirror.example.invalid/simple",
    "MarkupSafe>2.0.0",
]
JUNK = st.sampled_from(
    ["\\", "#", "-", "--hash", "'", '"', ";", "@", "[", "]", "==", "\x00", "\udcff", "-r", " "]
)


@st.composite
def mutated_requirements(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.sampled_from(SEED_LINES), min_size=1, max_size=12))
    for _ in range(draw(st.integers(0, 6))):
        index = draw(st.integers(0, len(lines) - 1))
        line = lines[index]
        cut = draw(st.integers(0, len(line)))
        lines[index] = line[:cut] + draw(st.one_of(JUNK, st.text(max_size=8))) + line[cut:]
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))] + draw(st.binary(max_size=8))
    return data


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "other.txt").write_text("six==1.17.0\n-r requirements.txt\n")
    (folder / "constraints.txt").write_text("six==1.17.0\n")
    return folder


@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=mutated_requirements())
def test_fuzz_only_input_errors_escape(fuzz_dir: Path, data: bytes) -> None:
    path = fuzz_dir / "requirements.txt"
    result = read_or_refused(lambda: requirements.read(path, data))
    if result is None:
        return
    for component in result.components:
        assert component.name and component.purl and component.purl.startswith("pkg:pypi/")


@st.composite
def mutated_bytes(draw: st.DrawFn, seed: bytes) -> bytes:
    """Byte-level mutations of a real file: flips, cuts, inserts, splices."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.integers(0, 4))
        pos = draw(st.integers(0, len(data)))
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = draw(st.integers(0, 255))
        elif op == 1:
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == 2:
            token = draw(st.sampled_from([b"\\\n", b" -r ", b" #", b"[", b";", b"==", b"@"]))
            data[pos:pos] = draw(st.one_of(st.just(token), st.binary(min_size=1, max_size=16)))
        elif op == 3:
            del data[pos:]
        else:
            start = draw(st.integers(0, len(data)))
            data[pos:pos] = data[start : start + draw(st.integers(1, 200))]
    return bytes(data)


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fuzz_mutated_corpus_bytes(fuzz_dir: Path, data: st.DataObject) -> None:
    warehouse = corpus_file("lockfiles", "pypi-warehouse", "requirements", "main.txt")
    trivy = corpus_file("lockfiles", "trivy-pip-unhashed", "requirements.txt")
    seeds = [trivy.read_bytes(), warehouse.read_bytes()[:6000]]
    payload = data.draw(mutated_bytes(data.draw(st.sampled_from(seeds))))
    read_or_refused(lambda: requirements.read(fuzz_dir / "requirements.txt", payload))


def test_include_of_a_folder_or_nul_path_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    with pytest.raises(InputError, match="is a directory") as caught:
        read(write(tmp_path, "a.txt", "flask==3.1.0\n-r sub\n"))
    assert caught.value.problem.location == "line 2"
    with pytest.raises(InputError, match="not a valid path"):
        requirements.read(tmp_path / "b.txt", b"-r 'x\x00y'\n")


@pytest.mark.parametrize(
    "text", ["", "\n  \n", "# no dependencies\n\n--index-url https://i/simple\n"]
)
def test_an_empty_requirements_file_lists_no_components(tmp_path: Path, text: str) -> None:
    """A project without dependencies: read as a requirements file, not refused (exit 3)."""
    path = write(tmp_path, "requirements.txt", text)
    for target in (path, tmp_path):  # the file itself, and found by a folder walk
        inputs = read_paths([target])
        assert inputs.errors == []
        (result,) = inputs.results
        assert (result.format, result.components, result.notes) == ("requirements", [], [])


def test_an_empty_file_of_another_lockfile_format_is_still_refused(tmp_path: Path) -> None:
    write(tmp_path, "poetry.lock", "")
    inputs = read_paths([tmp_path / "poetry.lock"])
    assert inputs.results == []
    assert [e.problem.message for e in inputs.errors] == [
        "is empty; expected an SBOM, lockfile or manifest"
    ]
