"""Raw input reading: regular files only, chunked reads, located JSON, duplicate keys."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.errors import InputError
from checker.inputs import display_path, excerpt, load_json, read_bytes

# --------------------------------------------------------------------------- duplicate keys

KEYS = st.sampled_from(["a", "b", "licenses", "x:y", 'q"', "é", "\\", " "])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10), st.sampled_from(["", ":", "a:b", '"', "\\:"])
)


def _pairs(depth: int) -> st.SearchStrategy[Any]:
    """JSON as nested lists of (key, value) pairs, so one object may repeat a key."""
    if depth == 0:
        return SCALARS
    inner = _pairs(depth - 1)
    objects = st.lists(st.tuples(KEYS, inner), max_size=4).map(lambda p: ("obj", p))
    arrays = st.lists(inner, max_size=3).map(lambda items: ("arr", items))
    return st.one_of(SCALARS, objects, arrays)


def _write(value: Any, rng: random.Random) -> str:
    """The JSON text of a pairs tree, with random spacing and random escapes of ':'."""
    space = rng.choice(["", " ", "\n  ", "\t"])
    if isinstance(value, tuple) and value[0] == "obj":
        members = [f"{_string(k, rng)}{space}:{space}{_write(v, rng)}" for k, v in value[1]]
        return "{" + ("," + space).join(members) + "}"
    if isinstance(value, tuple) and value[0] == "arr":
        return "[" + ",".join(_write(v, rng) for v in value[1]) + "]"
    if isinstance(value, str):
        return _string(value, rng)
    return json.dumps(value)


def _string(text: str, rng: random.Random) -> str:
    encoded = json.dumps(text, ensure_ascii=rng.random() < 0.5)
    if ":" in encoded and rng.random() < 0.3:
        encoded = encoded.replace(":", rng.choice(["\\u003a", "\\u003A"]))
    return encoded


def _has_duplicate(value: Any) -> bool:
    if isinstance(value, tuple) and value[0] == "obj":
        keys = [k for k, _ in value[1]]
        return len(keys) != len(set(keys)) or any(_has_duplicate(v) for _, v in value[1])
    if isinstance(value, tuple) and value[0] == "arr":
        return any(_has_duplicate(v) for v in value[1])
    return False


@settings(max_examples=400, deadline=None)
@given(tree=_pairs(3).filter(lambda v: isinstance(v, tuple)), seed=st.integers(0, 2**16))
def test_duplicate_keys_are_refused_exactly_when_there_are_some(tree: Any, seed: int) -> None:
    text = _write(tree, random.Random(seed))
    if _has_duplicate(tree):
        with pytest.raises(InputError, match="more than once in one object"):
            load_json(text.encode("utf-8"), "doc.json")
    else:
        assert load_json(text.encode("utf-8"), "doc.json") == json.loads(text)


def test_a_duplicate_key_names_the_object_it_is_in() -> None:
    data = b'{"components": [{"name": "a"}, {"name": "b", "licenses": [], "licenses": []}]}'
    with pytest.raises(InputError) as caught:
        load_json(data, "bom.json")
    assert caught.value.problem.location == "$.components[1]"
    assert "'licenses'" in caught.value.problem.message


# --------------------------------------------------------------------------- files


def test_a_fifo_is_refused_without_opening_it_for_long(tmp_path: Path) -> None:
    fifo = tmp_path / "bom.json"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"is a named pipe \(FIFO\), not a regular file"):
        read_bytes(fifo)


def test_files_the_kernel_sizes_at_zero_are_read_in_chunks() -> None:
    # /proc files say st_size 0; a read bounded by the limit, not by the size, reads them.
    data = read_bytes(Path("/proc/self/status"), 1_000_000)
    assert b"Name:" in data


def test_a_huge_limit_is_never_allocated(tmp_path: Path) -> None:
    path = tmp_path / "small.json"
    path.write_bytes(b"{}")
    assert read_bytes(path, 2**40) == b"{}"


def test_growth_past_the_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="over the 10-byte input limit"):
        read_bytes(_big(tmp_path), 10)


def _big(tmp_path: Path) -> Path:
    path = tmp_path / "big.json"
    path.write_bytes(b"x" * 11)
    return path


def test_names_that_are_not_utf8_or_hold_controls_are_escaped() -> None:
    assert display_path(os.fsdecode(b"bom-\xff.json")) == "bom-\\xff.json"
    assert display_path("a\nb\x1b[31m") == "a\\nb\\x1b[31m"
    assert display_path("büro/Größe 1.json") == "büro/Größe 1.json"


def test_excerpts_are_short_and_escaped() -> None:
    assert excerpt("a\nb") == "'a\\nb'"
    long = excerpt("x" * 1000)
    assert len(long) < 130 and long.endswith("(and 920 more characters)")
