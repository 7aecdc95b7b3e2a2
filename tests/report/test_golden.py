"""Golden snapshots: every report format of one fixed run, compared byte for byte.

Why: each writer's own tests pin properties (valid SARIF, escaped Markdown,
JUnit counts); a snapshot pins the whole text, so any change a reviewer
would see in a report, a reordered section, a reworded line, a lost field,
shows up as a diff of ``tests/report/golden/`` in the pull request, where
it is either intended (and refreshed) or a regression.

The run is ``rune-policy check`` through :func:`checker.cli.main`, so the
CLI's dispatch and the report registry are exercised too. It runs from the
repository root on relative paths, with ``--today 2026-06-01``, over
fixtures under ``tests/data`` chosen so that every section of every format
renders: denied, unknown (error and warning), ambiguous, rejected and
unapproved components, an unpinned image, a dependency path and a license
joined from another input (``joining/``), an input warning (a Dockerfile
``FROM`` on a build argument), an unreadable input (truncated JSON), a
folder passed over (a cache under ``report/tree``), and the register
``report/register.yaml`` with an accepted, an expired, an unused exception
and a vulnerability statement. The output holds no absolute path, time or
machine name, so it is the same on every machine.

Refresh, after a change to a report that is meant:

    RUNE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/report/test_golden.py

and review ``git diff tests/report/golden/``. The golden files are written
only by this test, from a real run; never edit them by hand. A new format
in the registry fails here until its golden file is created the same way.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest

from checker.cli import main
from checker.errors import EXIT_INPUT
from checker.model import Severity
from checker.report import format_names
from checker.rules import RuleId

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "report" / "golden"
UPDATE = os.environ.get("RUNE_UPDATE_GOLDEN") == "1"
TODAY = "2026-06-01"
INPUTS = (
    "tests/data/gate/mixed-verdicts.cdx.json",
    "tests/data/vex/agpl-service.cdx.json",
    "tests/data/joining",
    "tests/data/artifacts/Dockerfile.args",
    "tests/data/cyclonedx/truncated.json",
    "tests/data/report/tree",
)
ARGS = (
    "check",
    *INPUTS,
    "--policy",
    "policy",
    # registry evidence of its own, not the repository's policy/evidence.json
    "--evidence",
    "tests/data/report/evidence.json",
    "--vex",
    "tests/data/report/register.yaml",
    "--today",
    TODAY,
)
#: File name suffix per format; a format not listed is stored as ``report.<name>``.
SUFFIXES = {"text": "txt", "markdown": "md", "junit": "junit.xml"}


def golden_file(fmt: str) -> Path:
    return GOLDEN / f"report.{SUFFIXES.get(fmt, fmt)}"


def render(fmt: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The report of the golden run in ``fmt``, as ``check`` prints it."""
    monkeypatch.chdir(ROOT)
    code = main([*ARGS, "--format", fmt])
    out, err = capsys.readouterr()
    assert code == EXIT_INPUT, err  # the truncated input is unreadable
    return out


@pytest.mark.parametrize("fmt", format_names())
def test_report_matches_its_golden_file(
    fmt: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    actual = render(fmt, capsys, monkeypatch).encode("utf-8")
    golden = golden_file(fmt)
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(actual)
    assert golden.is_file(), (
        f"no golden file {golden.relative_to(ROOT)}; create it with RUNE_UPDATE_GOLDEN=1 "
        "(see this module's docstring)"
    )
    expected = golden.read_bytes()
    if actual != expected:
        diff = difflib.unified_diff(
            expected.decode("utf-8", "replace").splitlines(),
            actual.decode("utf-8", "replace").splitlines(),
            str(golden.relative_to(ROOT)),
            "this run",
            lineterm="",
        )
        shown = "\n".join(list(diff)[:80])
        pytest.fail(
            f"the {fmt} report differs from its golden file; if the change is meant, refresh "
            f"with RUNE_UPDATE_GOLDEN=1 (see the module docstring):\n{shown}"
        )


def test_the_golden_run_renders_every_section(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fixture keeps covering what the snapshots are for (a trimmed input would not)."""
    report = json.loads(render("json", capsys, monkeypatch))
    rules = {f["rule"] for f in report["findings"]}
    assert {
        RuleId.DENIED_LICENSE,
        RuleId.UNKNOWN_LICENSE,
        RuleId.AMBIGUOUS_LICENSE,
        RuleId.EXPIRED_EXCEPTION,
        RuleId.UNUSED_EXCEPTION,
        RuleId.INPUT_WARNING,
        RuleId.UNREADABLE_INPUT,
    } <= rules
    assert any("accepted" in f for f in report["findings"])
    assert any("path" in f for f in report["findings"])
    # a release in the lock and the SBOM: one finding, naming the other place
    assert any(f.get("also") for f in report["findings"])
    assert {f["severity"] for f in report["findings"]} == {Severity.ERROR, Severity.WARNING}
    assert report["skipped_folders"]
    text = render("text", capsys, monkeypatch)
    assert "vex: 1 vulnerability statement read" in text


def test_every_golden_file_belongs_to_a_registered_format() -> None:
    """A format removed from the registry leaves no stale snapshot behind."""
    expected = {golden_file(fmt).name for fmt in format_names()}
    stored = {p.name for p in GOLDEN.iterdir() if p.is_file() and not p.name.startswith(".")}
    assert stored == expected
