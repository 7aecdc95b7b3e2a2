"""What the test modules share: where the corpus and fixtures are, and fuzz checks.

The shared corpus is read in place from a sibling checkout and may be absent,
so every test that needs it goes through :func:`corpus_file` and is skipped,
not failed, without it. The lockfile readers are all fuzzed the same way; the
strategies and the checks of their outcome live here so that each reader's
test states only its seeds and what its components must look like.
"""

from __future__ import annotations

import copy
import gzip
import io
import re
import tarfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import strategies as st

from checker.errors import InputError
from checker.model import Component, ReadResult

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = ROOT / "tests" / "data"

#: A valid distribution name (PEP 508): only such a name gets a PyPI purl.
PEP508_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def corpus_file(*parts: str) -> Path:
    """A file of the shared corpus, or a skip that says what is missing where."""
    path = CORPUS.joinpath(*parts)
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    if not path.is_file():
        pytest.skip(f"shared corpus file {path.relative_to(CORPUS)} is absent from {CORPUS}")
    return path


def tar_bytes(
    members: Sequence[tuple[str, bytes]],
    *,
    compress: bool = True,
    extra: Sequence[tarfile.TarInfo] = (),
) -> bytes:
    """A chart package: a tar of ``(name, content)`` files and ``extra`` entries, gzipped.

    Built in memory with a fixed gzip time, so the same members give the same bytes.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        for info in extra:
            archive.addfile(info)
    raw = buffer.getvalue()
    return gzip.compress(raw, mtime=0) if compress else raw


# --------------------------------------------------------------------------- lockfile fuzzing


def read_or_refused(read: Callable[[], ReadResult], path: str | None = None) -> ReadResult | None:
    """The reader's result, or None when it refused the input as it should.

    A refusal must be a located InputError on ``path`` (on some file, where
    includes may name another): a message from a reader's catch-all means a
    bug was hidden behind it.
    """
    try:
        return read()
    except InputError as exc:
        problem = exc.problem
        assert "could not be read as" not in problem.message, problem
        if path is None:
            assert problem.path, problem
        else:
            assert problem.path == path, problem
        return None


def assert_pypi_components(result: ReadResult) -> None:
    """Every component is named, and has a purl unless its name is no distribution name."""
    for component in result.components:
        assert component.name, component
        assert component.purl or not PEP508_NAME.match(component.name), component


@st.composite
def mutated_toml(draw: st.DrawFn, seed: str, table: str, values: Sequence[str]) -> bytes:
    """Line-level mutations that mostly keep TOML valid but its shapes wrong, then byte damage.

    ``table`` is the array of tables the lock lists its packages in; its
    headers are broken into plain tables or other arrays. ``values`` replace
    the value of a ``key = value`` line.
    """
    lines = seed.splitlines()
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        op = draw(st.integers(0, 4))
        line = lines[index]
        if op == 0 and "=" in line:
            key = line.split("=", 1)[0]
            lines[index] = f"{key}= {draw(st.sampled_from(values))}"
        elif op == 1:
            del lines[index]
        elif op == 2:
            lines.insert(index, lines[draw(st.integers(0, len(lines) - 1))])
        elif op == 3:
            lines[index] = line.replace(
                f"[[{table}]]", draw(st.sampled_from([f"[{table}]", "[[x]]"]))
            )
        else:
            cut = draw(st.integers(0, len(line)))
            lines[index] = line[:cut] + draw(st.text(max_size=4)) + line[cut:]
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 4)) == 0:
        data = data[: draw(st.integers(0, len(data)))] + draw(st.binary(max_size=4))
    return data


_MISSING = object()


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


def _child(node: Any, step: Any) -> Any:
    """node[step] if that exists with the key type JSON allows there, else _MISSING."""
    if isinstance(node, dict) and isinstance(step, str) and step in node:
        return node[step]
    if isinstance(node, list) and isinstance(step, int) and step < len(node):
        return node[step]
    return _MISSING


@st.composite
def mutated_json(draw: st.DrawFn, seed: Any, values: Sequence[Any]) -> bytes:
    """``values`` (of other types) at random JSON paths of ``seed``, then sometimes byte damage.

    A path an earlier replacement removed is skipped, so every mutation hits
    a value that is there.
    """
    doc = copy.deepcopy(seed)
    paths = _paths(doc)
    for _ in range(draw(st.integers(1, 5))):
        path = draw(st.sampled_from(paths))
        if not path:
            doc = copy.deepcopy(draw(st.sampled_from(values)))
            break
        parent = doc
        for step in path[:-1]:
            parent = _child(parent, step)
        key = path[-1]
        if _child(parent, key) is not _MISSING:
            parent[key] = copy.deepcopy(draw(st.sampled_from(values)))
    data = orjson.dumps(doc)
    if draw(st.integers(0, 5)) == 0:
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=4)) + data[cut + 1 :]
    return data


def one(result: ReadResult, name: str) -> Component:
    """The only component called ``name``; any other count fails the test."""
    found = [c for c in result.components if c.name == name]
    assert len(found) == 1, f"{name}: {len(found)} components"
    return found[0]
