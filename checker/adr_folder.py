"""Where the architecture decision records are when nobody says: one rule, one place.

The policy's rows and the VEX register's entries cite ``ADR-NNNN``, and a
citation must resolve to a file. The repository keeps ``policy/``, ``vex/``
and ``adr/`` side by side, so the ADR folder a command uses, unless ``--adr``
names one, is the ``adr/`` beside the folder holding the data it reads. The
gate, ``vex`` commands and the documentation build all ask this function, so
a checkout laid out differently is told one thing everywhere.

Kept apart from :mod:`checker.policy` and :mod:`checker.docs.adrs` because
both the CLI's argument handling and the docs need it, and neither should
import the other's dependencies to get one path.
"""

from __future__ import annotations

from pathlib import Path


def adr_folder(beside: Path, given: Path | None = None) -> Path:
    """``given`` (the ``--adr`` option) if set, else the ``adr/`` next to ``beside``.

    ``beside`` is the folder holding the data that cites the records: the
    policy directory, or the VEX register's folder (a register file's
    parent). It need not exist: a missing ADR folder is reported by whoever
    reads it, naming the path this returns.
    """
    if given is not None:
        return given
    return beside.parent / "adr"
