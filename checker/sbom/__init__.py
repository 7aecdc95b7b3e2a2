"""SBOM and license-report readers: CycloneDX, SPDX, pip-licenses, the environment.

The format is decided from what the file holds, never its name: a ``.spdx``
file may hold JSON and a ``.txt`` file may hold SPDX tag-value. The
registry (:mod:`checker.readers`) makes that decision; these two functions
are its content half for callers that hold bytes or a path.
"""

from __future__ import annotations

from pathlib import Path

from checker.inputs import DEFAULT_MAX_BYTES, read_bytes
from checker.model import ReadResult
from checker.readers import Source, read_content

__all__ = ["parse_input", "read_input"]


def read_input(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> ReadResult:
    """Read one input file into components, detecting its format from content."""
    return parse_input(read_bytes(path, max_bytes), str(path))


def parse_input(data: bytes, name: str) -> ReadResult:
    """Parse bytes already read as an SBOM or license report; ``name`` names the file.

    Any failure is an :class:`~checker.errors.InputError`: a reader that
    lets another exception escape is a bug, and the fuzz tests look for
    exactly that.
    """
    return read_content(Source(Path(name), name, data))
