"""The Pipfile.lock reader: sections and scopes, versions, VCS entries, errors."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings

from checker.errors import InputError
from checker.lockfiles import pipfile, read_lockfile
from tests.helpers import (
    CORPUS,
    assert_pypi_components,
    corpus_file,
    mutated_json,
    read_or_refused,
)

PIPFILE_LOCK = "trivy-ci-test/Pipfile.lock"


def test_corpus_pipfile_lock_default_55_develop_37() -> None:
    path = corpus_file("lockfiles", PIPFILE_LOCK)
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
    assert notes["$.default.bad"] == "is a JSON string, expected an object"
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
@given(payload=mutated_json(SEED, ODD_VALUES))
def test_fuzz_only_input_errors_escape(payload: bytes) -> None:
    result = read_or_refused(lambda: pipfile.read(payload, "Pipfile.lock"), "Pipfile.lock")
    if result is not None:
        assert_pypi_components(result)
