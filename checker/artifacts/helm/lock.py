"""Helm ``Chart.lock``: the resolved dependencies, exact version and repository."""

from __future__ import annotations

from pathlib import PurePosixPath

from checker.artifacts.helm.chart import dependency_component, parse_lock, wrap
from checker.model import ReadResult
from checker.readers import Source
from checker.readers.notes import Notes

FORMAT_LOCK = "helm-chart-lock"


def read_source(source: Source) -> ReadResult:
    return read_lock(source.data, source.name)


def read_lock(data: bytes, path: str) -> ReadResult:
    """Read a ``Chart.lock``: the exact dependency versions and their repositories."""
    try:
        result = ReadResult(path=path, format=FORMAT_LOCK)
        deps, loaded = parse_lock(data, path)
        result.notes.extend(loaded)
        notes = Notes(path, result.notes)
        here = (PurePosixPath(path.replace("\\", "/")).name or "Chart.lock",)
        for dep in deps:
            result.components.append(dependency_component(dep, here, notes))
            if dep.version is None:
                notes.at(dep.origin, f"locked dependency {dep.name!r} has no version")
        return result
    except Exception as exc:  # the promise: only InputError leaves a reader
        raise wrap(path, "a Helm Chart.lock", exc) from None
