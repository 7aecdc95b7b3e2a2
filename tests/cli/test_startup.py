"""Start-up: building the parser loads no reader, register or report writer.

Why: ``rune-policy --help`` and every pre-commit run pay for what the CLI
imports before it knows which command runs. The parser is built from the
subcommand modules, so a top-level import of a heavy module there would
slow every invocation; this pins the boundary. Each check runs in a fresh
interpreter, since this test process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GATE = ROOT / "tests" / "data" / "gate"


def modules_after(code: str) -> set[str]:
    """The ``checker`` modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return {m for m in json.loads(done.stdout.splitlines()[-1]) if m.startswith("checker")}


def test_building_the_parser_imports_only_the_cli_and_the_vocabularies() -> None:
    loaded = modules_after("from checker.cli import build_parser\nbuild_parser()")
    assert loaded == {
        "checker",
        "checker.adr_folder",
        "checker.cli",
        "checker.cli.arguments",
        "checker.cli.check",
        "checker.cli.command",
        "checker.cli.console",
        "checker.cli.evidence",
        "checker.cli.explain",
        "checker.cli.vex",
        "checker.report",
        "checker.vex",
        "checker.vex.flags",
        "checker.vex.vocabulary",
    }


def test_a_text_report_loads_no_other_writer_and_no_register_without_vex() -> None:
    code = (
        "import contextlib, io\n"
        "from checker.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['check', {str(GATE / 'psycopg-lgpl.cdx.json')!r}, '--policy', "
        f"{str(ROOT / 'policy')!r}, '--no-vex'])"
    )
    loaded = modules_after(code)
    assert "checker.report.text" in loaded
    for unused in (
        "checker.report.json",
        "checker.report.junit",
        "checker.report.markdown",
        "checker.report.sarif",
        "checker.vex.loader",
        "checker.vex.register",
        "checker.vex.openvex",
        "checker.vex.cyclonedx",
    ):
        assert unused not in loaded, unused
