"""The pylock.toml (PEP 751) reader: versions, sources, the subject, group markers."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from checker.errors import InputError
from checker.lockfiles import pylock, read_lockfile
from checker.model import Kind
from tests.helpers import FIXTURES, assert_pypi_components, mutated_toml, read_or_refused

FIXTURE = FIXTURES / "lockfiles" / "pylock" / "pylock.toml"


def test_fixture_packages_sources_and_scopes() -> None:
    result = read_lockfile("pylock", FIXTURE, FIXTURE.read_bytes(), 10**6)
    assert result.format == "pylock"
    comps = {c.name: c for c in result.components}
    assert list(comps) == [
        "psycopg",
        "psycopg-binary",
        "Some_AGPL.Lib",
        "pytest",
        "colorama",
        "attrs",
        "internal-helpers",
        "example-app",
    ]
    assert comps["psycopg"].purl == "pkg:pypi/psycopg@3.3.4"
    assert comps["psycopg"].origin.location == "line 11"
    assert comps["Some_AGPL.Lib"].purl == "pkg:pypi/some-agpl-lib@1.0"
    # markers that can only hold with the (non-default) dev group installed
    assert comps["pytest"].scope == "dev"
    assert comps["colorama"].scope == "dev"
    # a platform alternative keeps it possibly required; platform markers alone say nothing
    assert comps["attrs"].scope is None
    assert comps["psycopg-binary"].scope is None
    # sources without an index: no version, a note
    assert comps["attrs"].version is None
    notes = {n.origin.location: n.message for n in result.notes}
    assert "vcs source https://github.com/python-attrs/attrs.git@8c7b3e3a" in notes["line 60"]
    assert "archive source" in notes["line 70"]
    app = comps["example-app"]
    assert app.is_subject and app.kind is Kind.APPLICATION
    assert len(result.notes) == 2
    lines = FIXTURE.read_text().splitlines()
    for component in result.components:
        line = int(component.origin.location.removeprefix("line "))
        assert lines[line - 1] == "[[packages]]"


def test_unknown_major_version_is_refused() -> None:
    text = FIXTURE.read_text().replace('lock-version = "1.0"', 'lock-version = "2.0"')
    with pytest.raises(InputError) as caught:
        pylock.read(text.encode(), "pylock.toml")
    assert caught.value.problem.location == "lock-version"
    assert "PEP 751" in caught.value.problem.message


def test_newer_minor_and_missing_version_are_noted() -> None:
    result = pylock.read(b'lock-version = "1.3"\n[[packages]]\nname = "a"\n', "pylock.toml")
    assert [c.name for c in result.components] == ["a"]
    messages = [n.message for n in result.notes]
    assert any("newer than 1.0" in m for m in messages)
    assert any("a has no version" in m for m in messages)
    result = pylock.read(b'[[packages]]\nname = "a"\nversion = "1"\n', "pylock.toml")
    assert any("no lock-version" in n.message for n in result.notes)


def test_unusable_files_and_syntax_errors() -> None:
    with pytest.raises(InputError, match="not a pylock"):
        pylock.read(b'created-by = "x"\n', "pylock.toml")
    with pytest.raises(InputError) as caught:
        pylock.read(b'lock-version = "1.0"\npackages = 1\n', "pylock.toml")
    assert caught.value.problem.location == "packages"
    with pytest.raises(InputError) as caught:
        pylock.read(b'lock-version = "1.0"\n[[packages]\n', "pylock.toml")
    assert caught.value.problem.location == "line 2 column 11"


def test_group_marker_logic() -> None:
    defaults = frozenset({"default"})
    judge = pylock._group_scope
    assert judge("'dev' in dependency_groups", defaults) == "dev"
    assert judge("'default' in dependency_groups", defaults) is None
    assert judge("'dev' not in dependency_groups", defaults) is None
    assert judge("'dev' in dependency_groups or 'test' in dependency_groups", defaults) == "dev"
    assert judge("('dev' in dependency_groups) and extra == 'x'", defaults) == "dev"
    assert judge("'dev' in dependency_groups or extra == 'x'", defaults) is None
    assert judge("not a marker ((", defaults) is None


# --------------------------------------------------------------------------- fuzz

TOML_VALUES = ["1", "true", '""', "[]", "{}", '"x"', '"2.0"', '{path = "."}', "[[1]]"]


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=mutated_toml(FIXTURE.read_text(), "packages", TOML_VALUES))
def test_fuzz_only_input_errors_escape(payload: bytes) -> None:
    result = read_or_refused(lambda: pylock.read(payload, "pylock.toml"), "pylock.toml")
    if result is not None:
        assert_pypi_components(result)
