"""Safe YAML for artifacts: positions, merge keys, bombs, templates, broken files."""

from __future__ import annotations

import pytest

from checker import yamldocs
from checker.errors import InputError
from checker.yamldocs import TEMPLATE_NOTE, YMap, YSeq, load, looks_like_template
from checker.yamlio import load_yaml
from tests.helpers import FIXTURES

DATA = FIXTURES / "artifacts"


def test_values_know_their_lines_and_how_they_were_written() -> None:
    text = b"""# comment
image:
  repository: postgres
  tag: 17.10
  pin: true
list:
  - a
  - {b: 1}
"""
    [document] = load(text, "x.yaml").documents
    root = document.root
    assert isinstance(root, YMap)
    assert root.key_line("image") == 2
    image = root["image"]
    assert isinstance(image, YMap)
    assert image.key_line("tag") == 4
    assert image["tag"] == 17.1  # the YAML value ...
    assert image.text("tag") == "17.10"  # ... and what was written
    assert image.text("pin") == "true"
    assert image.source == "x.yaml"
    items = root["list"]
    assert isinstance(items, YSeq)
    assert [items.item_line(0), items.item_line(1)] == [7, 8]
    assert items.text(0) == "a"


def test_sequences_know_whether_they_were_written_as_a_flow() -> None:
    root = load("a: [1, 2]\nb:\n  - 1\n", "x.yaml").documents[0].root
    assert root["a"].flow and not root["b"].flow


def test_config_lines_are_looked_up_by_key_path() -> None:
    # One record of positions: the loader's; a path that leaves the
    # document stops at the nearest line it reached.
    doc, problems = load_yaml("a:\n  - x: 1\n    y: [2]\nb: 3\n", "c.yaml")
    assert doc is not None and not problems
    assert doc.line(()) == 1
    assert doc.line(("a", 0, "y")) == 3
    assert doc.line(("a", 0, "y", 0)) == 3
    assert doc.line(("a", 0, "missing")) == 2
    assert doc.line(("a", 5)) == 1
    assert doc.line(("b", "deeper")) == 4


def test_multiple_documents_and_line_offset() -> None:
    loaded = load("a: 1\n---\nb: 2\n---\n", "x.yaml", line_offset=10)
    assert [d.line for d in loaded.documents] == [11, 13, 15]
    assert [d.index for d in loaded.documents] == [0, 1, 2]
    assert loaded.documents[2].root is None


def test_merge_keys_are_applied_and_explicit_keys_win() -> None:
    text = """
base: &base
  image: mariadb:11
  restart: always
other: &other
  image: mysql:8
  user: x
service:
  <<: [*base, *other]
  restart: never
"""
    root = load(text, "c.yaml").documents[0].root
    service = root["service"]
    assert dict(service) == {"restart": "never", "image": "mariadb:11", "user": "x"}
    assert service.key_line("image") == 3  # the line where the merged key is written


def test_duplicate_keys_are_refused_with_both_lines() -> None:
    # Helm, kubectl and Compose refuse the file; keeping the last key would let
    # a second `image:` hide the first from the gate.
    with pytest.raises(InputError) as caught:
        load("image: postgres:16\nimage: mariadb:11\n", "d.yaml")
    assert caught.value.problem.location == "line 2"
    assert "duplicate key 'image' (first at line 1)" in caught.value.problem.message


def test_every_duplicate_key_can_be_collected() -> None:
    text = "a: 1\na: 2\nb:\n  c: 1\n  c: 2\n"
    loaded = load(text, "d.yaml", collect_duplicates=True)
    assert [p.location for p in loaded.duplicates] == ["line 2", "line 5"]


def test_merge_keys_are_not_duplicates() -> None:
    text = "x: &x {a: 1}\ny: &y {b: 2}\nz:\n  <<: *x\n  <<: *y\n"
    root = load(text, "m.yaml").documents[0].root
    assert dict(root["z"]) == {"a": 1, "b": 2}


def test_alias_bomb_is_refused_before_it_is_expanded() -> None:
    with pytest.raises(InputError) as caught:
        load((DATA / "alias-bomb.values.yaml").read_bytes(), "bomb.yaml")
    assert "alias bomb" in caught.value.problem.message
    assert caught.value.problem.location.startswith("line ")


def test_shared_aliases_under_the_limit_are_fine() -> None:
    text = "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n"
    root = load(text, "ok.yaml").documents[0].root
    assert root["b"][0] is root["a"]


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(InputError, match="refers to itself"):
        load("a: &a\n  b: *a\n", "rec.yaml")


def test_huge_documents_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamldocs, "MAX_CHARS", 100)
    with pytest.raises(InputError, match="over the 100-character limit"):
        load("a: " + "x" * 200, "big.yaml")
    monkeypatch.setattr(yamldocs, "MAX_CHARS", 1_000_000)
    monkeypatch.setattr(yamldocs, "MAX_DOCUMENTS", 3)
    with pytest.raises(InputError, match="more than 3 YAML documents"):
        load("---\na: 1\n" * 5, "many.yaml")


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(InputError, match="nests YAML more than 128 levels deep"):
        load("[" * 200 + "]" * 200, "deep.yaml")
    block = "".join("  " * level + "a:\n" for level in range(300))
    with pytest.raises(InputError, match="nests YAML more than 128 levels deep"):
        load(block, "deep.yaml")
    with pytest.raises(InputError, match="nest"):
        load("[" * 50_000 + "]" * 50_000, "deep.yaml")


def test_broken_yaml_names_file_and_line() -> None:
    with pytest.raises(InputError) as caught:
        load(b"services:\n  db:\n    image: [postgres\n", "compose.yaml")
    problem = caught.value.problem
    assert problem.path == "compose.yaml"
    assert problem.location.startswith("line 4")
    assert problem.message.startswith("is not valid YAML")


def test_a_helm_template_is_a_note_not_a_crash() -> None:
    loaded = load((DATA / "deployment-template.yaml").read_bytes(), "deployment.yaml")
    assert loaded.template
    assert loaded.documents == []
    [note] = loaded.notes
    assert note.message == TEMPLATE_NOTE


def test_a_template_that_parses_as_yaml_with_template_keys_is_skipped_too() -> None:
    loaded = load("name: {{ .Release.Name }}\n", "t.yaml")
    assert loaded.template and loaded.documents == []


def test_quoted_template_strings_are_yaml() -> None:
    text = 'image: "{{ .Values.image }}"\n# {{ a comment }}\n'
    assert not looks_like_template(text)
    loaded = load(text, "v.yaml")
    assert not loaded.template
    assert loaded.documents[0].root["image"] == "{{ .Values.image }}"


def test_bad_encoding_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not valid UTF-8"):
        load(b"image: \xff\xfe\xfa\n", "v.yaml")
    with pytest.raises(InputError, match="not valid YAML"):
        load("image: a\x07b\n", "v.yaml")
