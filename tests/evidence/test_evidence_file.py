"""The evidence file as a reviewer and a hand editor meet it.

Why: the file is committed and reviewed in pull requests, so its text must
be the same for the same evidence (a diff shows only what changed), and a
hand edit that breaks it must be refused with the line to fix, every
problem at once, exit 2, never a traceback and never a silently dropped
record.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.errors import EXIT_USAGE, PolicyError, UsageError
from checker.evidence.evidence_file import (
    FORMAT,
    EvidenceFile,
    IndexUsed,
    load_evidence,
    parse_evidence,
    refresh,
    render_evidence,
    staleness,
    url_path,
    write_evidence,
)
from checker.evidence.records import Ecosystem, LicenseFields, PackageRecord, Wanted
from checker.model import Origin

SHA_A = "sha256:" + "a" * 64
SHA_B = "sha256:" + "b" * 64
SHA_C = "sha256:" + "c" * 64


def record(
    name: str,
    version: str = "1.0",
    *,
    ecosystem: Ecosystem = Ecosystem.PYPI,
    fields: LicenseFields | None = None,
    digest: str | None = SHA_A,
    url: str | None = None,
    retrieved: str = "2026-11-02",
) -> PackageRecord:
    return PackageRecord(
        ecosystem=ecosystem,
        name=name,
        version=version,
        fields=fields or LicenseFields(license_expression="MIT"),
        url=url or f"/pypi/{name}/{version}/json",
        retrieved=retrieved,
        artifact=f"{name}-{version}-py3-none-any.whl" if digest else None,
        digest=digest,
    )


def evidence(*records: PackageRecord, generated: str = "2026-11-02") -> EvidenceFile:
    index = (IndexUsed(Ecosystem.PYPI, "pip 25.0's built-in default"),)
    return EvidenceFile(generated, index, records)


def wanted(name: str, version: str = "1.0", *digests: str, line: int = 1) -> Wanted:
    origin = Origin("requirements.lock", f"line {line}")
    return Wanted(Ecosystem.PYPI, name, version, digests, origin)


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the ``occurrence``-th ``needle`` in ``text``."""
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    return text.count("\n", 0, at) + 1


def problems_of(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(PolicyError) as caught:
        parse_evidence(text.encode("utf-8"), "policy/evidence.json")
    assert caught.value.exit_code == EXIT_USAGE
    assert all(p.path == "policy/evidence.json" for p in caught.value.problems)
    return [(p.line, p.message) for p in caught.value.problems]


VALID = render_evidence(
    evidence(
        record("requests", "2.32.3", fields=LicenseFields(license="Apache-2.0")),
        record(
            "mysqlclient",
            "2.2.4",
            fields=LicenseFields(
                license="GNU General Public License (GPL)",
                classifiers=("License :: OSI Approved :: GNU General Public License (GPL)",),
            ),
        ),
    )
)


# --------------------------------------------------------------------------- the format


def test_round_trip_keeps_every_field_and_locates_each_record() -> None:
    fields = LicenseFields(
        license_expression="MIT OR Apache-2.0",
        license="MIT",
        classifiers=("License :: OSI Approved :: MIT License",),
        license_files=("LICENSE", "NOTICE"),
    )
    original = evidence(
        record("zeta", "2.0", fields=fields),
        record("left-pad", "1.3.0", ecosystem=Ecosystem.NPM, digest="sha512:" + "d" * 128),
        record("alpha", "0.1", digest=None),
    )
    text = render_evidence(original)
    loaded = parse_evidence(text.encode(), "policy/evidence.json")

    assert loaded.records == original.records
    assert loaded.index == original.index
    assert loaded.generated == "2026-11-02"
    assert loaded.path == "policy/evidence.json"
    for item in loaded.records:
        origin = loaded.origin(item.key)
        assert origin.path == "policy/evidence.json"
        line = int(origin.location.removeprefix("line "))
        assert text.splitlines()[line - 1].strip() == "{"
        assert f'"name": "{item.name}"' in text.splitlines()[line + 1]


def test_the_text_is_deterministic_sorted_and_ends_with_a_newline() -> None:
    a = record("Zope.Interface", "5.0")
    b = record("attrs", "23.1")
    c = record("attrs", "22.2")
    d = record("express", "4.0", ecosystem=Ecosystem.NPM)
    first = render_evidence(evidence(a, b, c, d))
    second = render_evidence(evidence(d, c, b, a))

    assert first == second
    assert first.endswith("}\n") and not first.endswith("\n\n")
    doc = json.loads(first)
    assert list(doc) == ["format", "format_version", "generated", "index", "packages"]
    assert doc["format"] == FORMAT
    assert [(p["ecosystem"], p["name"], p["version"]) for p in doc["packages"]] == [
        ("npm", "express", "4.0"),
        ("pypi", "attrs", "22.2"),
        ("pypi", "attrs", "23.1"),
        ("pypi", "Zope.Interface", "5.0"),
    ]
    assert list(doc["packages"][0]) == [
        "ecosystem",
        "name",
        "version",
        "artifact",
        "digest",
        "license_expression",
        "license",
        "classifiers",
        "license_files",
        "url",
        "retrieved",
    ]
    assert first.splitlines()[1].startswith('  "format"')  # two-space indent


def test_no_host_or_credentials_reach_the_file() -> None:
    mirrored = record("psycopg", "3.2.1", url="https://ci:s3cret@mirror.example/simple/psycopg/")
    text = render_evidence(evidence(mirrored))

    assert "mirror.example" not in text and "s3cret" not in text and "://" not in text
    assert json.loads(text)["packages"][0]["url"] == "/simple/psycopg/"
    assert url_path("https://files.example/packages/ab/x.whl.metadata?token=1") == (
        "/packages/ab/x.whl.metadata"
    )
    assert url_path("/pypi/x/1.0/json") == "/pypi/x/1.0/json"


def test_a_hand_edited_layout_locates_records_as_the_written_one_does() -> None:
    """The written layout is located without a token scan; any other by the scan."""
    written = parse_evidence(VALID.encode(), "e.json")
    edited = parse_evidence(VALID.replace("\n  ]", " \n  ]").encode(), "e.json")
    assert written.lines == edited.lines and len(written.lines) == 2


def test_write_is_atomic_and_reads_back(tmp_path: Path) -> None:
    target = tmp_path / "policy" / "evidence.json"
    target.parent.mkdir()
    write_evidence(target, evidence(record("attrs", "23.1")))
    loaded = load_evidence(target)
    assert [r.name for r in loaded.records] == ["attrs"]
    assert list(tmp_path.joinpath("policy").iterdir()) == [target]  # no temporary left


# --------------------------------------------------------------------------- bad files


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        load_evidence(tmp_path / "evidence.json")
    assert caught.value.exit_code == EXIT_USAGE
    assert "evidence.json" in str(caught.value) and "evidence resolve" in str(caught.value)


def test_invalid_json_names_line_and_column() -> None:
    broken = VALID.replace('"version": "2.32.3",', '"version": "2.32.3"', 1)
    [(line, message)] = problems_of(broken)
    assert line == line_of(broken, '"version": "2.32.3"') + 1
    assert "not JSON" in message


def test_a_file_that_is_not_utf8_is_refused_with_its_line() -> None:
    data = VALID.replace("Apache-2.0", "Apache\udcff", 1).encode("utf-8", "surrogateescape")
    with pytest.raises(PolicyError) as caught:
        parse_evidence(data, "policy/evidence.json")
    [problem] = caught.value.problems
    assert problem.line == line_of(VALID, "Apache-2.0")
    assert "UTF-8" in problem.message


def test_another_json_document_is_not_an_evidence_file() -> None:
    [(line, message)] = problems_of('{\n  "bomFormat": "CycloneDX",\n  "format": "cyclonedx"\n}\n')
    assert line == 3 and "not a rune-policy evidence file" in message
    [(line, message)] = problems_of("[]\n")
    assert line == 1 and "expected an evidence file object" in message


def test_a_newer_format_version_says_to_upgrade() -> None:
    text = VALID.replace('"format_version": 1', '"format_version": 2', 1)
    [(line, message)] = problems_of(text)
    assert line == line_of(text, "format_version")
    assert "newer rune-policy" in message


def test_an_unknown_field_is_an_error_with_a_suggestion() -> None:
    text = VALID.replace('"license": "Apache-2.0"', '"licence": "Apache-2.0"', 1)
    [(line, message)] = problems_of(text)
    assert line == line_of(text, '"licence"')
    assert "unknown field 'licence'" in message and "did you mean 'license'" in message


def test_an_unknown_top_level_field_is_an_error() -> None:
    text = VALID.replace('"generated"', '"comment": "by hand",\n  "generated"', 1)
    [(line, message)] = problems_of(text)
    assert line == line_of(text, '"comment"')
    assert "unknown field 'comment'" in message


def test_a_missing_required_field_names_the_record_line() -> None:
    text = VALID.replace('      "version": "2.2.4",\n', "", 1).replace(SHA_A, "sha256:0", 1)
    (line, message), (digest_line, digest_message) = problems_of(text)
    record_line = line_of(text, '"name": "mysqlclient"') - 2
    assert line == record_line and text.splitlines()[line - 1].strip() == "{"
    assert "$.packages[0]" in message and "has no 'version'" in message
    # the record's other fields are still checked: one pass fixes the file
    assert digest_line == line_of(text, "sha256:0") and "digest" in digest_message


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = (
        VALID.replace('"retrieved": "2026-11-02"', '"retrieved": "2 Nov 2026"', 1)
        .replace('"digest": "' + SHA_A + '"', '"digest": "sha256:XYZ"', 1)
        .replace(
            '"ecosystem": "pypi",\n      "name": "requests"',
            '"ecosystem": "cargo",\n      "name": "requests"',
            1,
        )
        .replace(
            '"classifiers": []',
            '"classifiers": "License :: OSI Approved :: Apache Software License"',
            1,
        )
    )
    found = problems_of(text)
    lines = [line or 0 for line, _ in found]
    assert lines == sorted(lines)
    messages = " | ".join(message for _, message in found)
    assert len(found) == 4, messages
    assert "expected a date written YYYY-MM-DD" in messages
    assert "expected null or ALGORITHM:HEX" in messages
    assert "expected one of pypi, npm" in messages
    assert "expected an array of strings" in messages
    assert any(
        line == line_of(text, "2 Nov 2026") and "retrieved" in message for line, message in found
    )


def test_a_wrong_type_in_an_array_names_its_element() -> None:
    text = VALID.replace(
        '"classifiers": [\n        "License',
        '"classifiers": [\n        7,\n        "License',
        1,
    )
    [(line, message)] = problems_of(text)
    assert line == line_of(text, "        7,")
    assert "classifiers[0]" in message and "a number" in message


def test_duplicate_keys_are_refused_with_the_line_of_the_repeat() -> None:
    text = VALID.replace(
        '"license": "Apache-2.0",', '"license": "Apache-2.0",\n      "license": "GPL-3.0",', 1
    )
    [(line, message)] = problems_of(text)
    assert line == line_of(text, '"license": "GPL-3.0"')
    assert "more than once" in message and "'license'" in message


def test_a_release_recorded_twice_is_refused() -> None:
    doc = json.loads(VALID)
    doc["packages"].append(dict(doc["packages"][0]))
    text = json.dumps(doc, indent=2) + "\n"
    [(line, message)] = problems_of(text)
    first, second = (line_of(text, '"name": "mysqlclient"', n) - 2 for n in (1, 2))
    assert line == second
    assert f"the first is at line {first}" in message


def test_a_hand_edit_that_is_valid_is_read() -> None:
    """Reordered keys, other indentation and a missing optional field are fine."""
    doc = json.loads(VALID)
    first = doc["packages"][0]
    del first["license_files"]
    doc["packages"][0] = dict(reversed(list(first.items())))
    loaded = parse_evidence(json.dumps(doc).encode(), "evidence.json")
    assert {r.name for r in loaded.records} == {"requests", "mysqlclient"}
    assert all(loaded.origin(r.key).location == "line 1" for r in loaded.records)


# --------------------------------------------------------------------------- staleness


def test_a_file_matching_the_locks_is_current() -> None:
    file = evidence(record("attrs", "23.1"), record("idna", "3.7", digest=None))
    current = [wanted("attrs", "23.1", SHA_B, SHA_A), wanted("IDNA", "3.7", SHA_C)]
    assert staleness(file, current) == []


def test_staleness_names_missing_extra_and_moved_entries() -> None:
    file = parse_evidence(
        render_evidence(evidence(record("attrs", "23.1"), record("six", "1.16"))).encode(),
        "policy/evidence.json",
    )
    locks = [wanted("attrs", "23.1", SHA_B, line=4), wanted("idna", "3.7", SHA_C, line=9)]
    found = {str(item) for item in staleness(file, locks)}
    six_line = line_of(render_evidence(file), '"name": "six"') - 2
    attrs_line = line_of(render_evidence(file), '"name": "attrs"') - 2
    assert found == {
        f"requirements.lock:line 4: pypi attrs 23.1: the lock no longer pins {SHA_A} "
        f"(attrs-23.1-py3-none-any.whl), the artifact the record at "
        f"policy/evidence.json:line {attrs_line} describes",
        "requirements.lock:line 9: pypi idna 3.7 has no record in policy/evidence.json",
        f"policy/evidence.json:line {six_line}: pypi six 1.16 is in no lock any more",
    }


def test_a_lock_pinning_no_hash_of_that_algorithm_cannot_have_moved() -> None:
    file = evidence(record("left-pad", "1.3.0", ecosystem=Ecosystem.NPM))
    npm = Wanted(Ecosystem.NPM, "left-pad", "1.3.0", ("sha512:" + "e" * 128,), Origin("p", ""))
    assert staleness(file, [npm]) == []


# --------------------------------------------------------------------------- refresh


def test_refresh_keeps_unchanged_records_and_their_dates() -> None:
    previous = evidence(
        record("attrs", "23.1", retrieved="2026-01-05"),
        record("six", "1.16", retrieved="2026-01-05"),
    )
    fresh = evidence(
        record("attrs", "23.1", retrieved="2026-11-02"),
        record("six", "1.16", fields=LicenseFields(license="BSD"), retrieved="2026-11-02"),
        record("idna", "3.7", retrieved="2026-11-02"),
    )
    merged, changes = refresh(previous, fresh)
    assert (changes.added, changes.changed, changes.removed, changes.unchanged) == (1, 1, 0, 1)
    dates = {r.name: r.retrieved for r in merged.records}
    assert dates == {"attrs": "2026-01-05", "six": "2026-11-02", "idna": "2026-11-02"}


def test_refresh_without_changes_returns_the_previous_file() -> None:
    previous = evidence(record("attrs", "23.1", retrieved="2026-01-05"), generated="2026-01-05")
    fresh = evidence(record("attrs", "23.1", retrieved="2026-11-02"))
    merged, changes = refresh(previous, fresh)
    assert not changes.any
    assert render_evidence(merged) == render_evidence(previous)


def test_refresh_counts_removed_releases() -> None:
    previous = evidence(record("attrs", "23.1"), record("six", "1.16"))
    merged, changes = refresh(previous, evidence(record("attrs", "23.1")))
    assert changes.removed == 1 and changes.any
    assert [r.name for r in merged.records] == ["attrs"]
