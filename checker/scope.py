"""The folder an input may reach into: what was scanned, or the folder of the file given.

Some inputs name other files: a requirements file includes ``-r base.txt``,
a values file is placed by the ``Chart.yaml`` beside it, a subchart by its
parent's ``Chart.lock``. Those names are input text, and input arrives in
pull requests: ``-r /proc/self/environ`` must not read the CI job's
environment into a report, nor ``-c ../../etc/shadow`` a system file. A
:class:`Scope` is the only way a reader opens a file it was not given: the
file must resolve (links followed) inside the scope's folder and be a regular
file, or the reader gets an :class:`~checker.errors.InputError` that names
the include, never the target's content.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from checker.errors import InputError
from checker.inputs import DEFAULT_MAX_BYTES, display_path, read_bytes


@dataclass(frozen=True, slots=True)
class Scope:
    """A folder (resolved) that inputs may reference files inside."""

    root: Path

    @classmethod
    def around(cls, path: Path) -> Scope:
        """The scope of a path given on the command line: the folder, or the file's folder."""
        folder = path if path.is_dir() else path.parent
        try:
            return cls(folder.resolve())
        except (OSError, RuntimeError):
            return cls(Path(os.path.abspath(folder)))

    @property
    def shown(self) -> str:
        return display_path(self.root)

    def resolve(self, path: Path) -> Path | None:
        """``path`` with links resolved when it stays inside the scope, else None.

        A path that does not exist resolves to where it would be, so a
        missing include inside the folder is reported as missing.
        """
        try:
            target = path.resolve(strict=False)
        except (OSError, RuntimeError):  # a link loop
            return None
        return target if target.is_relative_to(self.root) else None

    def read(self, path: Path, max_bytes: int = DEFAULT_MAX_BYTES, *, what: str) -> bytes:
        """The bytes of ``path``, a regular file inside the scope; else an InputError.

        The resolved target is opened, not the name: a link swapped after
        the check cannot lead out of the folder through its last component.
        """
        target = self.resolve(path)
        if target is None:
            raise InputError(
                display_path(path),
                "",
                f"is outside {self.shown}, the folder scanned; {what} are read only inside "
                "it (scan a folder that holds both files)",
            )
        return read_bytes(target, max_bytes, what=what)

    def small_file(self, path: Path, max_bytes: int) -> bytes | None:
        """A context file (a chart's ``Chart.lock``), or None if it cannot be used.

        Context files sit at fixed places around an input (the parent chart
        of a subchart given on its own may be outside the scope), so their
        place, not input text, names them: one outside the scope is read
        only when it is itself a regular file, never through a link. Context
        only adds detail, so anything odd about it means no context.
        """
        try:
            if self.resolve(path) is None:
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    return None
                return read_bytes(path, max_bytes, what="context files")
            return self.read(path, max_bytes, what="context files")
        except (InputError, OSError):
            return None
