"""Reader for an installed Python environment (core metadata, PEP 639).

Lockfiles carry no licenses, so the installed distributions are one of the
few places a Python application's license facts live. Within one
distribution the best evidence decides:

1. ``License-Expression`` (PEP 639) replaces the legacy fields entirely.
2. Else the legacy ``License`` field when it is an exact SPDX expression
   (:func:`checker.licenses.is_spdx_expression`, no policy asked): most
   packages built before PEP 639 state ``License: Apache-2.0`` beside a
   versionless ``Apache Software License`` classifier. The classifiers are
   kept beside it, marked as classifiers, so the evaluator can tell whether
   they corroborate the exact statement or contradict it
   (:mod:`checker.corroboration`); they are never judged as more AND terms.
3. Else the ``License ::`` classifiers.
4. Else the free-text ``License`` field, which is often a whole pasted
   license text and is then refused as a name (a Note says so) rather than
   misread.

:func:`read_interpreter` reads another interpreter's environment (a
project's venv) by asking that interpreter for its ``sys.path`` and
reading those entries here: nothing is installed into it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

from checker.errors import InputError, UsageError
from checker.inputs import display_path, excerpt
from checker.licenses import is_classifier, is_spdx_expression
from checker.model import Component, EvidenceForm, LicenseEvidence, Origin, ReadResult
from checker.readers.notes import Notes
from checker.sbom.piplicenses import MAX_NAME_LENGTH, normalize_pypi_name, pypi_purl

ENVIRONMENT = "<environment>"

#: The bare classifier says a license is OSI approved, not which one; read as
#: a license it would only add an unknown statement to the AND.
_BARE_CLASSIFIERS = frozenset({"License :: OSI Approved"})


def read_environment(
    path_entries: list[str] | None = None, *, label: str | None = None
) -> ReadResult:
    """Read installed distributions, from ``sys.path`` or the given entries.

    Entries are searched in order, like the import system: the first
    distribution of a name is the one that runs, later ones are shadowed and
    only noted. ``label`` names the result (default: ``<environment>``, or
    the entries). Only InputError escapes, whatever the metadata holds.
    """
    if label is None:
        label = ENVIRONMENT if path_entries is None else os.pathsep.join(path_entries)
    try:
        return _read(path_entries, label)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            label, "", f"installed metadata could not be read ({type(exc).__name__}: {exc})"
        ) from exc


#: How long an interpreter may take to print its ``sys.path``. A real one
#: answers in a fraction of a second; a hung wrapper script must not hang
#: the gate.
INTERPRETER_TIMEOUT = 30.0

#: Printed before the interpreter's answer, so that a ``sitecustomize`` that
#: writes to stdout cannot be mistaken for it.
_MARKER = "rune-policy sys.path: "

#: What the interpreter runs. It needs nothing but the standard library.
_PROGRAM = (
    "import json, sys; "
    f"print({_MARKER!r} + json.dumps([p for p in sys.path if isinstance(p, str)]))"
)

_ADVICE = "give the path of the project's Python interpreter, such as .venv/bin/python"


def read_interpreter(python: Path, *, timeout: float = INTERPRETER_TIMEOUT) -> ReadResult:
    """Read the installed distributions of another Python interpreter (``--python``).

    ``python`` is an interpreter such as a project's ``.venv/bin/python``, or
    a command name found on PATH (``python3.12``). It is run once, isolated
    (``-I``: no PYTHONPATH, no user site-packages, no current directory), so
    its answer is that interpreter's own ``sys.path`` and never the gate's;
    the entries are then read here with :func:`read_environment`, so the
    gate needs nothing installed there. A path that is not a working
    interpreter is the user's argument gone wrong: a :class:`UsageError`
    (exit 2) that says what to give instead.
    """
    shown = display_path(python)
    entries = _sys_path_of(_executable(python, shown), shown, timeout)
    return read_environment(entries, label=f"<environment of {shown}>")


def _refuse(shown: str, problem: str) -> NoReturn:
    raise UsageError(f"--python {shown}: {problem}; {_ADVICE}")


def _executable(python: Path, shown: str) -> str:
    """The program to run for ``python``, or a UsageError saying why there is none."""
    text = os.fspath(python)
    if os.sep not in text and (os.altsep is None or os.altsep not in text) and not python.exists():
        found = shutil.which(text)
        if found is None:
            _refuse(shown, "no such file, and no command of that name on PATH")
        return found
    if python.is_dir():
        # A venv, or a project folder holding one: name the interpreter inside.
        inside = next((c for c in _interpreters_in(python) if c.is_file()), None)
        hint = f" (did you mean {display_path(inside)}?)" if inside is not None else ""
        _refuse(shown, f"is a directory, not an interpreter{hint}")
    if not python.exists():
        _refuse(shown, "no such file")
    if not os.access(python, os.X_OK):
        _refuse(shown, "is not executable")
    return text


def _interpreters_in(folder: Path) -> tuple[Path, ...]:
    """Where a venv's interpreter is, in ``folder`` or in its ``.venv``."""
    return tuple(
        base / part
        for base in (folder, folder / ".venv")
        for part in (Path("bin") / "python", Path("Scripts") / "python.exe")
    )


def _sys_path_of(program: str, shown: str, timeout: float) -> list[str]:
    """The ``sys.path`` entries ``program`` reports, run isolated with a timeout."""
    try:
        process = subprocess.Popen(
            [program, "-I", "-c", _PROGRAM],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        _refuse(shown, f"could not be run ({exc.strerror or type(exc).__name__})")
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        _refuse(shown, f"did not print its sys.path within {timeout:g} seconds")
    if process.returncode != 0:
        said = _last_line(err)
        detail = f": {said}" if said else ""
        _refuse(
            shown,
            f"exited with status {process.returncode}{detail} (is it a Python 3 interpreter?)",
        )
    for line in reversed(out.decode("utf-8", "surrogateescape").splitlines()):
        if line.startswith(_MARKER):
            try:
                entries = json.loads(line[len(_MARKER) :])
            except ValueError:
                break
            if isinstance(entries, list) and all(isinstance(e, str) for e in entries):
                return [e for e in entries if e]
            break
    _refuse(shown, "ran, but did not print its sys.path (is it a Python 3 interpreter?)")


def _kill(process: subprocess.Popen[bytes]) -> None:
    """End a process that timed out, with any children it started (its session)."""
    with contextlib.suppress(OSError):
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows has no process groups of this kind
            process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.communicate(timeout=5)


def _last_line(err: bytes) -> str:
    """The last line of an interpreter's stderr, cut short, for an error message."""
    lines = [line.strip() for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
    return excerpt(lines[-1], 120) if lines else ""


def _read(path_entries: list[str] | None, label: str) -> ReadResult:
    result = ReadResult(path=label, format="environment")
    notes = Notes(label, result.notes)
    if path_entries is None:
        found = metadata.distributions()
    else:
        found = metadata.distributions(path=list(path_entries))
    first_seen: dict[str, Component] = {}
    for dist in found:
        source = _metadata_path(dist)
        meta: Any = None
        problem = ""
        try:
            meta = dist.metadata
            name = meta["Name"] if meta is not None and "Name" in meta else None
            version = dist.version if name else None
        except Exception as exc:  # a broken METADATA file must not hide the others
            name = version = None
            problem = f"its metadata could not be read ({type(exc).__name__})"
        if not name or not str(name).strip():
            # Skipping would let an unreadable distribution pass unchecked;
            # it is kept under its directory name with no license instead.
            name, version = _name_from_directory(source)
            problem = problem or "its metadata has no Name"
            if not name:
                notes.at(Origin(source), f"{problem}; skipped")
                continue
            notes.at(Origin(source), f"{problem}; checked as {name} with no license")
            meta = None
        name = str(name).strip()
        key = normalize_pypi_name(name)
        kept = first_seen.get(key)
        if kept is not None:
            notes.at(
                Origin(source),
                f"{name} {version} is shadowed by {kept.name} {kept.version} at "
                f"{kept.origin.path}, which is the one imported; only that one is checked",
            )
            continue
        version = str(version).strip() if version else None
        component = Component(
            name=name,
            origin=Origin(source),
            version=version or None,
            purl=pypi_purl(name, version or None),
        )
        if meta is None:
            component.no_license_reason = "UNKNOWN"
        else:
            _licenses(meta, component, source, notes)
        first_seen[key] = component
        result.components.append(component)
    return result


def _name_from_directory(source: str) -> tuple[str | None, str | None]:
    """``name-version`` from a ``name-version.dist-info`` directory name."""
    directory = Path(source).parent.name
    for suffix in (".dist-info", ".egg-info"):
        if directory.endswith(suffix):
            stem = directory[: -len(suffix)]
            name, _, version = stem.partition("-")
            return (name or None), (version or None)
    return None, None


def _metadata_path(dist: metadata.Distribution) -> str:
    """The METADATA (or PKG-INFO) file a distribution was read from.

    ``Distribution`` has no public attribute for its location; ``_path`` is
    what the standard-library PathDistribution sets and is used when present.
    """
    base: Any = getattr(dist, "_path", None)
    if base is None:
        return ENVIRONMENT
    location = Path(str(base))
    if location.suffix == ".egg-info" and not location.is_dir():
        return str(location)
    name = "PKG-INFO" if location.suffix == ".egg-info" else "METADATA"
    return str(location / name)


def _licenses(meta: Any, component: Component, source: str, notes: Notes) -> None:
    """Record the distribution's best license evidence (the module docstring's order)."""
    expression = _field(meta, "License-Expression")
    if expression and expression.upper() != "UNKNOWN":
        component.licenses.append(
            LicenseEvidence(
                expression, Origin(source, "License-Expression"), EvidenceForm.EXPRESSION
            )
        )
        return
    classifiers = [
        LicenseEvidence(text, Origin(source, "Classifier"), EvidenceForm.CLASSIFIER)
        for text in dict.fromkeys(
            str(value).strip()
            for value in (meta.get_all("Classifier") or [])
            if is_classifier(str(value)) and str(value).strip() not in _BARE_CLASSIFIERS
        )
    ]
    text = _field(meta, "License")
    if text and is_spdx_expression(text):
        component.licenses.append(
            LicenseEvidence(text, Origin(source, "License"), EvidenceForm.EXPRESSION)
        )
        component.licenses.extend(classifiers)
        return
    if classifiers:
        component.licenses.extend(classifiers)
        return
    if not text or text.upper() == "UNKNOWN":
        component.no_license_reason = "UNKNOWN"
        return
    if len(text) >= MAX_NAME_LENGTH or "\n" in text:
        component.no_license_reason = "UNKNOWN"
        notes.at(
            Origin(source, "License"),
            f"{component.name}: the License field holds {len(text)} characters of "
            "license text, not a license name; no license read from it",
        )
        return
    component.licenses.append(LicenseEvidence(text, Origin(source, "License"), EvidenceForm.NAME))


def _field(meta: Any, key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None
