"""The poetry.lock reader: packages, scopes from category/groups, sources, errors."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.errors import InputError
from checker.lockfiles import poetry, read_lockfile
from checker.model import Kind, Severity
from tests.helpers import (
    CORPUS,
    FIXTURES,
    assert_pypi_components,
    corpus_file,
    mutated_toml,
    read_or_refused,
)

DATA = FIXTURES / "lockfiles" / "poetry"


def test_corpus_poetry_lock_has_81_packages_with_psycopg() -> None:
    path = corpus_file("lockfiles", "full-stack-fastapi-template_2024/poetry.lock")
    result = poetry.read(path.read_bytes(), str(path))
    assert result.format == "poetry-lock"
    assert len(result.components) == 81
    assert result.notes == []
    lines = path.read_text().splitlines()
    for component in result.components:
        assert component.kind is Kind.LIBRARY
        # lock-version 2.0 from Poetry 1.8 records no category or groups
        assert component.scope is None
        line = int(component.origin.location.removeprefix("line "))
        assert lines[line - 1] == "[[package]]"
        assert lines[line] == f'name = "{component.name}"'
    psycopg = next(c for c in result.components if c.name == "psycopg")
    assert (psycopg.version, psycopg.purl) == ("3.2.1", "pkg:pypi/psycopg@3.2.1")
    binary = next(c for c in result.components if c.name == "psycopg-binary")
    assert binary.purl == "pkg:pypi/psycopg-binary@3.2.1"


def test_groups_category_optional_and_git_source() -> None:
    path = DATA / "groups" / "poetry.lock"
    result = read_lockfile("poetry-lock", path, path.read_bytes(), 10**6)
    comps = {c.name: c for c in result.components}
    assert comps["psycopg"].scope == "required"
    assert comps["pytest"].scope == "dev"
    assert comps["psycopg-binary"].scope == "optional"
    assert comps["legacy-lib"].scope == "dev"  # lock 1.x category = "dev"
    assert comps["internal-tools"].version == "0.4.0"
    assert [n.origin.location for n in result.notes] == [comps["internal-tools"].origin.location]
    message = result.notes[0].message
    assert "git source" in message and "4f2c1e0b" in message
    assert "hunter2" not in message


def test_syntax_error_has_line_and_column() -> None:
    path = DATA / "broken" / "poetry.lock"
    with pytest.raises(InputError) as caught:
        poetry.read(path.read_bytes(), str(path))
    problem = caught.value.problem
    assert problem.path == str(path)
    assert problem.location == "line 12 column 17"
    assert "not valid TOML" in problem.message


def test_error_at_end_of_document() -> None:
    with pytest.raises(InputError) as caught:
        poetry.read(b'[[package]]\nname = "x"\nversion = ', "poetry.lock")
    assert caught.value.problem.location == "line 3 column 11"


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        ("[tool]\nx = 1\n", "", "not a poetry.lock"),
        ('package = "x"\n', "package", "expected [[package]] tables"),
    ],
)
def test_unusable_files(text: str, location: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        poetry.read(text.encode(), "poetry.lock")
    assert caught.value.problem.location == location
    assert message in caught.value.problem.message


def test_wrong_shapes_are_noted_and_unnamed_packages_fail_closed() -> None:
    text = (
        'package = [1, {version = "1.0"}, {name = "ok", version = 2, source = "x"}]\n'
        '[metadata]\nlock-version = "9.0"\n'
    )
    result = poetry.read(text.encode(), "poetry.lock")
    assert [(c.name, c.version) for c in result.components] == [("ok", None)]
    messages = [n.message for n in result.notes]
    assert any("lock-version 9.0" in m for m in messages)
    errors = {n.origin.location: n.message for n in result.notes if n.severity is Severity.ERROR}
    assert errors["package[0]"].startswith("package is a number, not a table")
    assert "has no name" in errors["package[1]"]
    assert any("has no version" in m for m in messages)
    assert any("source is a string" in m for m in messages)


def test_empty_lock_with_metadata_only() -> None:
    result = poetry.read(b'[metadata]\nlock-version = "2.1"\n', "poetry.lock")
    assert result.components == [] and result.notes == []


# --------------------------------------------------------------------------- fuzz

TOML_VALUES = ["1", "true", '""', "[]", "{}", '"x"', "[[1]]", "{name = 1}", "[1, 2]", "-inf"]


def _seed() -> str:
    path = CORPUS / "lockfiles" / "full-stack-fastapi-template_2024" / "poetry.lock"
    if not path.is_file():
        return (DATA / "groups" / "poetry.lock").read_text()
    text = path.read_text()
    # the first dozen packages and the metadata: small enough for many examples
    cut = [i for i in range(len(text)) if text.startswith("[[package]]", i)][12]
    return text[:cut] + text[text.index("[metadata]") :]


SEEDS = [_seed(), (DATA / "groups" / "poetry.lock").read_text()]


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_only_input_errors_escape(data: st.DataObject) -> None:
    payload = data.draw(mutated_toml(data.draw(st.sampled_from(SEEDS)), "package", TOML_VALUES))
    result = read_or_refused(lambda: poetry.read(payload, "poetry.lock"), "poetry.lock")
    if result is not None:
        assert_pypi_components(result)
