"""The report registry: one line per format, and everything that lists formats reads it.

Why: the CLI used to keep its own tuple of format names and an if-chain
that had to be edited in step with it. Now ``--format``'s choices, its help
and the dispatch come from :data:`checker.report.FORMATS`, and a writer is
imported only when its format is asked for.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.cli import build_parser
from checker.gate import check
from checker.policy import load_policy
from checker.report import DEFAULT_FORMAT, FORMATS, ReportOptions, format_names, reporter
from checker.report import sarif as sarif_report
from checker.results import RunResult

ROOT = Path(__file__).resolve().parents[2]
GATE = ROOT / "tests" / "data" / "gate"


@pytest.fixture(scope="module")
def result() -> RunResult:
    return check([GATE / "mixed-verdicts.cdx.json"], load_policy(ROOT / "policy"))


def _format_action() -> argparse.Action:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    check_parser: argparse.ArgumentParser = sub.choices["check"]
    return next(a for a in check_parser._actions if a.dest == "format")


def test_names_are_unique_and_the_default_is_registered() -> None:
    assert len(set(format_names())) == len(FORMATS)
    assert DEFAULT_FORMAT in format_names()


def test_the_cli_offers_exactly_the_registered_formats() -> None:
    action = _format_action()
    assert tuple(action.choices or ()) == format_names()
    assert action.default == DEFAULT_FORMAT
    for entry in FORMATS:
        assert f"{entry.name} (" in (action.help or "")
        if entry.summary:
            assert entry.summary in (action.help or "")


@pytest.mark.parametrize("name", format_names())
def test_each_format_renders_through_its_module(name: str, result: RunResult) -> None:
    entry = reporter(name)
    assert entry.name == name
    module = importlib.import_module(next(f.module for f in FORMATS if f.name == name))
    options = ReportOptions(base=ROOT)
    assert entry.render(result, options) == module.report(result, options)


def test_options_reach_the_writer_that_needs_them(result: RunResult, tmp_path: Path) -> None:
    """SARIF paths are relative to ``options.base``: elsewhere they are file:// URIs."""
    here = json.loads(reporter("sarif").render(result, ReportOptions(base=ROOT)))
    away = json.loads(reporter("sarif").render(result, ReportOptions(base=tmp_path)))
    uri = here["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": "tests/data/gate/mixed-verdicts.cdx.json", "uriBaseId": "%SRCROOT%"}
    far = away["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert far["uri"].startswith("file://")
    assert reporter("sarif").render(result, ReportOptions(base=ROOT)) == sarif_report.render(
        result, base=ROOT
    )


def test_an_unknown_format_is_a_key_error_naming_the_formats() -> None:
    with pytest.raises(KeyError, match="formats: text, json"):
        reporter("html")


def test_the_registry_imports_no_writer() -> None:
    probe = "import sys, checker.report; print(sorted(m for m in sys.modules if 'report.' in m))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
