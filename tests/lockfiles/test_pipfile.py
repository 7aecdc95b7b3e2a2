"""The Pipfile.lock reader: sections and scopes, versions, VCS entries, errors."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.errors import InputError
from checker.lockfiles import pipfile, read_lockfile

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
PIPFILE_LOCK = "trivy-ci-test/Pipfile.lock"

PEP508_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def corpus_file(relative: str) -> Path:
    path = CORPUS / "lockfiles" / relative
    if not path.is_file():
        pytest.skip(f"shared corpus file not found: {path}")
    return path


def test_corpus_pipfile_lock_default_55_develop_37() -> None:
    path = corpus_file(PIPFILE_LOCK)
    result = read_lockfile("pipfile-lock", path, path.read_bytes(), 10**6)
    assert result.format == "pipfile-lock"
    scopes = [c.scope for c in result.components]
    assert scopes.count("required") == 55
    assert scopes.count("dev") == 37
    assert len(result.components) == 92
    comps = {c.origin.location: c for c in result.components}
    psycopg2 = comps['$.default["psycopg2-binary"]']
    assert (psycopg2.name, psycopg2.version) == ("psycopg2-binary", "2.8.1")
    assert psycopg2.purl == "pkg:pypi/psycopg2-binary@2.8.1"
    assert comps["$.default.django"].version is not None
    extra = comps['$.default["django-postgres-extra"]']
    assert extra.version is None
    assert extra.purl == "pkg:pypi/django-postgres-extra"
    assert [n.origin.location for n in result.notes] == ['$.default["django-postgres-extra"]']
    message = result.notes[0].message
    assert "editable git dependency" in message
    assert "github.com/SectorLabs/django-postgres-extra@eef2ed55" in message


def test_custom_category_versions_and_credentials() -> None:
    doc = {
        "_meta": {"pipfile-spec": 7},
        "default": {
            "Flask": {"version": "==3.1.0"},
            "weird": {"version": ">=1.0"},
            "arbitrary": {"version": "===1.0-local"},
            "from-file": {"file": "https://user:token@files.example.com/x-1.0.tar.gz"},
            "local": {"path": "./local", "editable": True},
            "nothing": {},
            "bad": "*",
        },
        "docs": {"sphinx": {"version": "==8.2.3"}},
        "develop": [],
    }
    result = pipfile.read(orjson.dumps(doc), "Pipfile.lock")
    comps = {c.name: c for c in result.components}
    assert comps["Flask"].purl == "pkg:pypi/flask@3.1.0"
    assert comps["weird"].version is None
    assert comps["arbitrary"].version == "1.0-local"
    assert comps["sphinx"].scope is None
    assert comps["sphinx"].origin.location == "$.docs.sphinx"
    assert comps["from-file"].version is None
    notes = {n.origin.location: n.message for n in result.notes}
    assert "pipfile-spec 7" in notes['$._meta["pipfile-spec"]']
    assert "not an exact '==' pin" in notes["$.default.weird.version"]
    assert "token" not in notes['$.default["from-file"]']
    assert "an editable path dependency" in notes["$.default.local"]
    assert "has no version" in notes["$.default.nothing"]
    assert "skipped" in notes["$.default.bad"]
    assert "expected an object" in notes["$.develop"]
    assert "bad" not in comps


@pytest.mark.parametrize(
    ("data", "location"),
    [
        (b"[]", "$"),
        (b'{"name": "x"}', "$"),
        (b'{"default": {"a": }', "line 1 column 19"),
    ],
)
def test_unusable_files(data: bytes, location: str) -> None:
    with pytest.raises(InputError) as caught:
        pipfile.read(data, "Pipfile.lock")
    assert caught.value.problem.location == location


# --------------------------------------------------------------------------- fuzz

ODD_VALUES: list[Any] = [None, 0, -1, 1.5, True, "", "==", "x" * 300, [], {}, [1, {}], {"a": []}]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


_MISSING = object()


def _child(node: Any, step: Any) -> Any:
    """node[step] if that exists with the key type JSON allows there, else _MISSING."""
    if isinstance(node, dict) and isinstance(step, str) and step in node:
        return node[step]
    if isinstance(node, list) and isinstance(step, int) and step < len(node):
        return node[step]
    return _MISSING


@st.composite
def mutated_json(draw: st.DrawFn, seed: Any) -> bytes:
    """Values of other types at random JSON paths, then sometimes byte damage."""
    doc = copy.deepcopy(seed)
    paths = _paths(doc)
    for _ in range(draw(st.integers(1, 5))):
        path = draw(st.sampled_from(paths))
        if not path:
            doc = draw(st.sampled_from(ODD_VALUES))
            break
        parent = doc
        for step in path[:-1]:
            parent = _child(parent, step)
        key = path[-1]
        if _child(parent, key) is not _MISSING:
            parent[key] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
    data = orjson.dumps(doc)
    if draw(st.integers(0, 5)) == 0:
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=4)) + data[cut + 1 :]
    return data


def _seed() -> Any:
    path = CORPUS / "lockfiles" / PIPFILE_LOCK
    doc: Any = (
        orjson.loads(path.read_bytes())
        if path.is_file()
        else {
            "_meta": {"pipfile-spec": 6},
            "default": {"a": {"version": "==1", "hashes": ["sha256:x"]}},
            "develop": {"b": {"git": "https://x/y", "ref": "z", "editable": True}},
        }
    )
    # a dozen entries per section: small enough for many examples
    for section in ("default", "develop"):
        entries = doc.get(section, {})
        keep = dict(list(entries.items())[:12])
        if "django-postgres-extra" in entries:
            keep["django-postgres-extra"] = entries["django-postgres-extra"]
        doc[section] = keep
    return doc


SEED = _seed()


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=mutated_json(SEED))
def test_fuzz_only_input_errors_escape(payload: bytes) -> None:
    try:
        result = pipfile.read(payload, "Pipfile.lock")
    except InputError as exc:
        # a reader bug turned into an InputError by the guard is still a bug
        assert "could not be read as" not in exc.problem.message
        assert exc.problem.path == "Pipfile.lock"
        return
    for component in result.components:
        assert component.name
        # a mutated name that is no valid distribution name gets no purl
        assert component.purl or not PEP508_NAME.match(component.name)
