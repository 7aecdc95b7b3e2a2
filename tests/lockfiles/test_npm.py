"""The npm package-lock reader: v2/v3 packages, licenses, scopes, links, v1 trees."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.errors import InputError
from checker.lockfiles import npm, read_lockfile
from checker.model import Kind
from tests.helpers import CORPUS, FIXTURES, corpus_file, mutated_json, read_or_refused

DATA = FIXTURES / "lockfiles"
FRONTEND = "full-stack-fastapi-template_2026-frontend/package-lock.json"
TYPEORM = "typeorm/package-lock.json"


def test_typeorm_v3_has_1244_packages_and_the_sap_client() -> None:
    path = corpus_file("lockfiles", TYPEORM)
    result = read_lockfile("npm-lock", path, path.read_bytes(), 10**7)
    assert result.format == "npm-lock"
    assert result.notes == []
    packages = [c for c in result.components if not c.is_subject]
    assert len(packages) == 1244
    root = [c for c in result.components if c.is_subject]
    assert [(c.name, c.version, c.kind) for c in root] == [
        ("typeorm", "1.0.0-pre", Kind.APPLICATION)
    ]
    assert root[0].origin.location == '$.packages[""]'
    comps = {c.origin.location: c for c in result.components}
    hana = comps['$.packages["node_modules/@sap/hana-client"]']
    assert (hana.name, hana.version, hana.scope) == ("@sap/hana-client", "2.27.19", "dev")
    assert hana.purl == "pkg:npm/%40sap/hana-client@2.27.19"
    assert [(e.text, e.form) for e in hana.licenses] == [
        ("SEE LICENSE IN developer-license-3_2.txt", "expression")
    ]
    assert hana.licenses[0].origin.location == '$.packages["node_modules/@sap/hana-client"].license'
    pg = comps['$.packages["node_modules/pg"]']
    assert (pg.name, pg.version, pg.scope, pg.purl) == ("pg", "8.16.3", "dev", "pkg:npm/pg@8.16.3")
    assert [e.text for e in pg.licenses] == ["MIT"]
    nested = comps['$.packages["node_modules/@sap/hana-client/node_modules/debug"]']
    assert (nested.name, nested.path, nested.licenses) == ("debug", ("@sap/hana-client",), [])
    assert sum(1 for c in packages if not c.licenses) == 4
    scopes = [c.scope for c in packages]
    assert (scopes.count("dev"), scopes.count("required")) == (1209, 35)


def test_frontend_v2_has_448_packages_and_181_entries_without_license() -> None:
    path = corpus_file("lockfiles", FRONTEND)
    result = npm.read(path.read_bytes(), str(path))
    assert result.notes == []
    packages = [c for c in result.components if not c.is_subject]
    assert len(packages) == 448
    # 180 installed packages and the root project carry no license field
    assert sum(1 for c in packages if not c.licenses) == 180
    assert sum(1 for c in result.components if not c.licenses) == 181
    licensed = [e.text for c in packages for e in c.licenses]
    assert licensed.count("MIT") == 226
    assert licensed.count("MPL-2.0") == 12
    scopes = [c.scope for c in packages]
    assert (scopes.count("dev"), scopes.count("optional"), scopes.count("required")) == (
        191,
        102,
        155,
    )


def test_workspaces_links_legacy_licenses_aliases_and_sources() -> None:
    path = DATA / "npm-legacy" / "package-lock.json"
    result = npm.read(path.read_bytes(), "lock")
    comps = {c.origin.location: c for c in result.components}
    root = comps['$.packages[""]']
    assert root.is_subject and [e.text for e in root.licenses] == ["Apache-2.0"]
    workspace = comps['$.packages["packages/api"]']
    assert workspace.is_subject and workspace.purl == "pkg:npm/%40acme/api@0.1.0"
    # the link to the workspace is not read twice; the dangling one is noted
    assert '$.packages["node_modules/@acme/api"]' not in comps
    notes = {n.origin.location: n.message for n in result.notes}
    assert "no entry" in notes['$.packages["node_modules/@acme/outside"]']
    old_object = comps['$.packages["node_modules/old-object"]']
    assert [(e.text, e.form) for e in old_object.licenses] == [("MIT", "name")]
    assert "legacy license object" in notes['$.packages["node_modules/old-object"].license']
    old_array = comps['$.packages["node_modules/old-array"]']
    assert [e.text for e in old_array.licenses] == ["MIT", "GPL-2.0"]
    assert old_array.licenses[1].origin.location.endswith(".license[1]")
    assert "all must be satisfied" in notes['$.packages["node_modules/old-array"].license']
    assert comps['$.packages["node_modules/no-license"]'].licenses == []
    alias = comps['$.packages["node_modules/aliased"]']
    assert (alias.name, alias.purl, alias.scope) == ("real-name", "pkg:npm/real-name@3.0.0", "dev")
    git = comps['$.packages["node_modules/from-git"]']
    assert git.scope == "optional"
    assert "not from the npm registry" in notes['$.packages["node_modules/from-git"]']
    agpl = comps['$.packages["node_modules/some-agpl-lib"]']
    assert [e.text for e in agpl.licenses] == ["AGPL-3.0-only"] and agpl.scope == "required"
    nested = comps['$.packages["node_modules/some-agpl-lib/node_modules/@types/node"]']
    assert (nested.name, nested.path) == ("@types/node", ("some-agpl-lib",))
    assert nested.purl == "pkg:npm/%40types/node@20.19.26"
    assert len(result.notes) == 4


def test_v1_tree_is_read_with_a_note() -> None:
    path = DATA / "npm-v1" / "package-lock.json"
    result = npm.read(path.read_bytes(), "lock")
    assert "carries no licenses" in result.notes[0].message
    comps = {c.origin.location: c for c in result.components}
    assert comps["$"].is_subject and comps["$"].name == "legacy-app"
    hana = comps['$.dependencies["@sap/hana-client"]']
    assert (hana.version, hana.scope, hana.purl) == (
        "2.4.182",
        "dev",
        "pkg:npm/%40sap/hana-client@2.4.182",
    )
    nested = comps['$.dependencies["@sap/hana-client"].dependencies.debug']
    assert (nested.name, nested.version, nested.path) == ("debug", "3.1.0", ("@sap/hana-client",))
    assert comps["$.dependencies.fsevents"].scope == "optional"
    assert comps["$.dependencies.pg"].scope == "required"
    alias = comps['$.dependencies["string-width-cjs"]']
    assert (alias.name, alias.version) == ("string-width", "4.2.3")
    left_pad = comps['$.dependencies["left-pad"]']
    assert left_pad.version is None
    assert any("github:stevemao/left-pad" in n.message for n in result.notes)
    assert all(not c.licenses for c in result.components)
    assert len(result.components) == 8


@pytest.mark.parametrize(
    ("data", "location"),
    [
        (b"[]", "$"),
        (b'{"name": "x"}', "$"),
        (b'{"packages": {"": {]}}', "line 1 column 20"),
    ],
)
def test_unusable_files(data: bytes, location: str) -> None:
    with pytest.raises(InputError) as caught:
        npm.read(data, "package-lock.json")
    assert caught.value.problem.location == location


def test_npm_purl() -> None:
    assert npm.npm_purl("@sap/hana-client", "2.27.19") == "pkg:npm/%40sap/hana-client@2.27.19"
    assert npm.npm_purl("left-pad", None) == "pkg:npm/left-pad"
    assert npm.npm_purl("@/x", "1") is None
    assert npm.npm_purl("@scope/", "1") is None


def test_odd_entries_are_noted() -> None:
    doc = {
        "lockfileVersion": 4,
        "packages": {
            "node_modules/a": 1,
            "node_modules/b": {"version": 2, "license": 3},
            "node_modules/c": {"version": "1.0.0", "license": ""},
            "node_modules/": {"version": "1.0.0"},
        },
    }
    result = npm.read(orjson.dumps(doc), "lock")
    assert [(c.name, c.version) for c in result.components] == [("b", None), ("c", "1.0.0")]
    messages = " | ".join(n.message for n in result.notes)
    for part in ("lockfileVersion 4", "expected an object", "license is a JSON number"):
        assert part in messages
    assert "license is empty" in messages and "no package name" in messages


# --------------------------------------------------------------------------- fuzz

ODD_VALUES: list[Any] = [None, 0, True, "", "x" * 300, "@", "@a/", [], {}, [{"type": 1}], {"a": []}]


def _seeds() -> list[Any]:
    seeds: list[Any] = [
        orjson.loads((DATA / "npm-legacy" / "package-lock.json").read_bytes()),
        orjson.loads((DATA / "npm-v1" / "package-lock.json").read_bytes()),
    ]
    path = CORPUS / "lockfiles" / TYPEORM
    if path.is_file():
        doc = orjson.loads(path.read_bytes())
        items = list(doc["packages"].items())
        # the root, the SAP client with its nested packages, and a few more
        keep = [kv for kv in items if kv[0] == "" or "@sap/hana-client" in kv[0]]
        doc["packages"] = dict(keep + items[1:15])
        seeds.append(doc)
    return seeds


SEEDS = _seeds()


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_only_input_errors_escape(data: st.DataObject) -> None:
    payload = data.draw(mutated_json(data.draw(st.sampled_from(SEEDS)), ODD_VALUES))
    result = read_or_refused(lambda: npm.read(payload, "package-lock.json"), "package-lock.json")
    if result is None:
        return
    for component in result.components:
        assert component.name
        for evidence in component.licenses:
            assert isinstance(evidence.text, str) and evidence.text
