"""The uv.lock reader: packages, the project as subject, dev scope, sources, speed."""

from __future__ import annotations

import re
import time
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.errors import InputError
from checker.lockfiles import read_lockfile, uv
from checker.model import Kind
from tests.helpers import (
    CORPUS,
    FIXTURES,
    assert_pypi_components,
    corpus_file,
    mutated_toml,
    read_or_refused,
)

DATA = FIXTURES / "lockfiles" / "uv"
UV_LOCK = "full-stack-fastapi-template_2026/uv.lock"


def test_corpus_uv_lock_has_81_packages_with_psycopg() -> None:
    path = corpus_file("lockfiles", UV_LOCK)
    result = uv.read(path.read_bytes(), str(path))
    assert result.format == "uv-lock"
    assert len(result.components) == 81
    assert result.notes == []
    comps = {c.name: c for c in result.components}
    psycopg = comps["psycopg"]
    assert (psycopg.version, psycopg.purl) == ("3.3.4", "pkg:pypi/psycopg@3.3.4")
    binary = comps["psycopg-binary"]
    assert (binary.version, binary.purl) == ("3.3.4", "pkg:pypi/psycopg-binary@3.3.4")
    # psycopg-binary is reached through the edge's extra = ["binary"]
    assert psycopg.scope == binary.scope == "required"
    lines = path.read_text().splitlines()
    assert lines[int(psycopg.origin.location.removeprefix("line ")) - 1] == "[[package]]"
    assert lines[int(psycopg.origin.location.removeprefix("line "))] == 'name = "psycopg"'


def test_corpus_root_project_and_dev_scope() -> None:
    path = corpus_file("lockfiles", UV_LOCK)
    result = uv.read(path.read_bytes(), str(path))
    comps = {c.name: c for c in result.components}
    # [manifest] members = ["app"], source = { editable = "backend" }
    subjects = [c for c in result.components if c.is_subject]
    assert [c.name for c in subjects] == ["app"]
    assert subjects[0].kind is Kind.APPLICATION and subjects[0].scope is None
    # [package.dev-dependencies] of the root and [manifest.dependency-groups]
    for name in ("pytest", "mypy", "ruff", "coverage", "prek", "zizmor", "smokeshow"):
        assert comps[name].scope == "dev", name
    # typer is in the dev group, but fastapi[standard] needs it too
    for name in ("typer", "fastapi", "sqlmodel", "sqlalchemy", "alembic"):
        assert comps[name].scope == "required", name
    assert all(c.scope in ("required", "dev") for c in result.components if not c.is_subject)


def test_fixture_virtual_root_git_editable_forks_and_extras() -> None:
    path = DATA / "uv.lock"
    result = read_lockfile("uv-lock", path, path.read_bytes(), 10**6)
    comps = {(c.name, c.version): c for c in result.components}
    root = comps[("example-service", "0.3.0")]
    assert root.is_subject and root.origin.location == "line 9"
    assert comps[("numpy", "1.26.4")].scope == comps[("numpy", "2.3.2")].scope == "required"
    assert comps[("psycopg-binary", "3.3.4")].scope == "required"
    assert comps[("psycopg-pool", "3.2.6")].scope is None  # extra "pool" never requested
    assert comps[("some-agpl-lib", "1.0")].scope == "required"  # the project's own extra
    assert comps[("pytest", "8.4.1")].scope == "dev"
    assert comps[("iniconfig", "2.1.0")].scope == "dev"
    assert comps[("tzdata", "2025.2")].scope == "required"  # psycopg needs it too
    notes = {n.origin.location: n.message for n in result.notes}
    git = comps[("internal-helpers", "2.0.0")]
    assert "git source" in notes[git.origin.location]
    assert "hunter2" not in notes[git.origin.location]
    shared = comps[("shared-lib", "1.4.0")]
    assert not shared.is_subject
    assert "editable source ../shared-lib" in notes[shared.origin.location]
    assert len(result.notes) == 2


def test_syntax_error_and_unusable_files() -> None:
    with pytest.raises(InputError) as caught:
        uv.read(b'version = 1\n[[package]]\nname = "a"\nname = "b"\n', "uv.lock")
    assert caught.value.problem.location.startswith("line 4 column")
    with pytest.raises(InputError, match=r"not a uv\.lock"):
        uv.read(b"[tool]\n", "uv.lock")
    with pytest.raises(InputError) as caught:
        uv.read(b"version = 1\npackage = 3\n", "uv.lock")
    assert caught.value.problem.location == "package"


def test_newer_version_and_wrong_shapes_are_noted() -> None:
    text = (
        "version = 2\n"
        'package = ["x", {version = "1"}, {name = "ok", version = "1.0", source = {url = 1}}]\n'
    )
    result = uv.read(text.encode(), "uv.lock")
    assert [c.name for c in result.components] == ["ok"]
    messages = " | ".join(n.message for n in result.notes)
    assert "version 2" in messages and "not a table" in messages and "has no name" in messages
    assert "url source ?" in messages


@pytest.mark.slow
def test_reading_2000_packages_costs_about_one_toml_parse() -> None:
    path = corpus_file("lockfiles", UV_LOCK)
    text = path.read_text()
    head, _, rest = text.partition("[[package]]")
    blocks = ["[[package]]" + b for b in rest.split("[[package]]")]
    copies = [head]
    for k in range(2000 // len(blocks) + 1):
        for block in blocks:
            copies.append(re.sub(r'name = "([^"]+)"', rf'name = "\1-{k}"', block) if k else block)
    data = "".join(copies).encode()

    def best(run: object) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            run()  # type: ignore[operator]
            times.append(time.perf_counter() - start)
        return min(times)

    parse = best(lambda: tomllib.loads(data.decode()))
    read = best(lambda: uv.read(data, "uv.lock"))
    assert len(uv.read(data, "uv.lock").components) >= 2000
    assert read <= 2 * parse, f"read {read:.3f}s vs tomllib {parse:.3f}s"


# --------------------------------------------------------------------------- fuzz

TOML_VALUES = ["1", "true", '""', "[]", "{}", '"x"', "[[1]]", "{name = 1}", '{ editable = "." }']


def _seed() -> str:
    path = CORPUS / "lockfiles" / UV_LOCK
    if not path.is_file():
        return (DATA / "uv.lock").read_text()
    text = path.read_text()
    # the header, the root project and its neighbours: small enough for many examples
    cut = [m.start() for m in re.finditer(r"^\[\[package\]\]$", text, re.MULTILINE)][8]
    return text[:cut]


SEEDS = [_seed(), (DATA / "uv.lock").read_text()]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_only_input_errors_escape(data: st.DataObject) -> None:
    payload = data.draw(mutated_toml(data.draw(st.sampled_from(SEEDS)), "package", TOML_VALUES))
    result = read_or_refused(lambda: uv.read(payload, "uv.lock"), "uv.lock")
    if result is not None:
        assert_pypi_components(result)
