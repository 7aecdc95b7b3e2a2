"""A short fuzz campaign per artifact reader: only InputError may escape.

Seeds are the corpus files (read in place) and this suite's fixtures; the
mutations are byte-level (flips, deletions, truncation, splices) plus
insertions of the tokens YAML, Dockerfiles and tar headers are sensitive to
(anchors, aliases, merge keys, template braces, continuations). Whatever
comes out, a reader either returns a ReadResult whose components the gate can
evaluate, or raises InputError naming the file, and never through its
catch-all (a catch-all message means a reader bug was hidden). Each reader
gets at most a few seconds.
"""

from __future__ import annotations

import functools
import gzip
import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.artifacts import READERS
from checker.errors import InputError
from checker.evaluation import Evaluator
from checker.model import ReadResult
from checker.policy import load_policy
from tests.helpers import CORPUS, FIXTURES, ROOT, tar_bytes

DATA = FIXTURES / "artifacts"
NAME = "fuzz-input"
CATCH_ALL = re.compile(r"could not be read as ")

FUZZ = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TOKENS = [
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"{{ .Values.x }}",
    b"{{- if x }}\n",
    b"- ",
    b": ",
    b"\n---\n",
    b"[",
    b"{",
    b"]",
    b"}",
    b"'",
    b'"',
    b"|\n",
    b">-\n",
    b"\t",
    b"\x00",
    b"\xff",
    b"!!python/object:os.system ",
    b"!!binary ",
    b"? ",
    b"${X:-",
    b"$$",
    b"\\\n",
    b"\nFROM ",
    b"\nARG A=${A}\n",
    b"@sha256:",
    b"image: ",
    b"repository: ",
    b"0x" + b"f" * 80,
    b"\nkind: List\nitems: [",
]

SEEDS: dict[str, tuple[str, ...]] = {
    "helm-chart": (
        "corpus:helm/bitnami-postgresql-17.1.0/Chart.yaml",
        "corpus:helm/cloudnative-pg-operator-0.29.0/Chart.yaml",
        "corpus:helm/cockroachdb-21.0.1/Chart.yaml",
    ),
    "helm-chart-lock": ("corpus:helm/bitnami-keycloak-16.1.6/Chart.lock",),
    "helm-values": (
        "corpus:images/cloudnative-pg-operator-0.29.0/values.yaml",
        "head:images/bitnami-postgresql-17.1.0/values.yaml",
    ),
    "kubernetes": (
        "corpus:images/cnpg-samples/postgis-example.yaml",
        "corpus:images/cnpg-samples/pooler-example-explicit-image.yaml",
        "data:workloads.yaml",
        "data:deployment-template.yaml",
    ),
    "dockerfile": ("data:Dockerfile.multistage", "data:Dockerfile.args", "data:Containerfile"),
    "compose": (
        "corpus:images/awesome-compose-wordpress-mysql/compose.yaml",
        "corpus:images/full-stack-fastapi-template/compose.yml",
        "data:compose-interpolation.yaml",
    ),
}


def _package_seed() -> bytes:
    """An uncompressed package with a packaged subchart, so mutations hit the tar stream."""
    sub = tar_bytes(
        [
            ("db/Chart.yaml", b"apiVersion: v2\nname: db\nversion: 1.0.0\n"),
            ("db/values.yaml", b"image:\n  repository: bitnami/postgresql\n  tag: '16'\n"),
        ]
    )
    return tar_bytes(
        [
            ("app/Chart.yaml", b"apiVersion: v2\nname: app\nversion: 1.0.0\nappVersion: '2'\n"),
            (
                "app/values.yaml",
                b"image: {repository: ghcr.io/acme/app, tag: ''}\ndb: {image: {tag: '17'}}\n",
            ),
            (
                "app/Chart.lock",
                b"dependencies:\n- {name: db, version: 1.0.0, repository: oci://x/bitnamicharts}\n",
            ),
            ("app/charts/db-1.0.0.tgz", sub),
        ],
        compress=False,
    )


@functools.cache
def seeds(fmt: str) -> list[bytes]:
    if fmt == "helm-package":
        return [_package_seed()]
    found: list[bytes] = []
    for seed in SEEDS[fmt]:
        kind, _, rel = seed.partition(":")
        path = DATA / rel if kind == "data" else CORPUS / rel
        if path.is_file():
            data = path.read_bytes()
            found.append(data[:6000] if kind == "head" else data)
    return found


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    size = len(seed)
    position = st.integers(0, size)
    flip = st.tuples(position, st.integers(0, 255)).map(
        lambda t: seed[: t[0]] + bytes([t[1]]) + seed[t[0] + 1 :]
    )
    insert = st.tuples(position, st.sampled_from(TOKENS)).map(
        lambda t: seed[: t[0]] + t[1] + seed[t[0] :]
    )
    delete = st.tuples(position, st.integers(1, 64)).map(
        lambda t: seed[: t[0]] + seed[t[0] + t[1] :]
    )
    truncate = position.map(lambda n: seed[:n])
    repeat = st.tuples(position, st.integers(0, 200)).map(
        lambda t: seed[: t[0]] + seed[t[0] : t[0] + t[1]] * 50 + seed[t[0] + t[1] :]
    )
    one = st.one_of(flip, insert, delete, truncate, repeat)
    return one.flatmap(
        lambda first: st.lists(st.sampled_from(TOKENS), max_size=3).map(
            lambda extra: first + b"".join(extra)
        )
    )


def inputs(fmt: str) -> st.SearchStrategy[bytes]:
    available = seeds(fmt)
    if not available:
        return st.binary(max_size=200)
    base = st.sampled_from(available).flatmap(mutated)
    if fmt == "helm-package":
        # Mutate the tar stream, then compress it, so the tar reader sees the damage.
        return st.one_of(base, base.map(lambda raw: gzip.compress(raw, mtime=0)))
    return st.one_of(base, base.flatmap(mutated))


@functools.cache
def evaluator() -> Evaluator:
    return Evaluator(load_policy(ROOT / "policy"))


def read_or_refuse(reader: Callable[[bytes, str], ReadResult], data: bytes) -> None:
    try:
        result = reader(data, NAME)
    except InputError as exc:
        assert exc.problem.path.startswith(NAME), exc.problem
        assert exc.problem.message
        assert not CATCH_ALL.search(exc.problem.message), exc.problem.message
        return
    assert isinstance(result, ReadResult)
    for component in result.components:
        assert component.origin.path.startswith(NAME)
        evaluator().evaluate(component)


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_mutated_inputs_read_or_refuse(fmt: str) -> None:
    reader = READERS[fmt]

    @FUZZ
    @given(inputs(fmt))
    def run(data: bytes) -> None:
        read_or_refuse(reader, data)

    run()


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_seeds_are_read(fmt: str) -> None:
    for data in seeds(fmt):
        result = READERS[fmt](data, NAME)
        assert result.components or result.notes
