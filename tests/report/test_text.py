"""The text trace of ``explain``: which evidence sources were asked, and which answered.

Why: a lockfile entry's license comes from somewhere else (another input of
the run, or the decision table); a reviewer asking where needs the chain
that was tried, not only the winner, to see why an SBOM beside the lockfile
did not count.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checker import evidence
from checker.evaluation import Evaluator
from checker.gate import read_all
from checker.policy import Policy, load_policy
from checker.report.text import render_trace
from checker.search import find_components

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / "policy")


def trace_text(policy: Policy, query: str, *paths: Path) -> str:
    """The trace of the component ``query`` names in the first of ``paths``."""
    results = read_all(list(paths)).results
    evaluator = Evaluator(policy, evidence.for_run(results))
    (component,) = [c for c in find_components(results, query) if c.origin.path == str(paths[0])]
    return render_trace(evaluator.trace(component))


def test_a_lockfile_entry_shows_every_source_asked_and_the_one_that_answered(
    policy: Policy,
) -> None:
    text = trace_text(policy, "psycopg", DATA / "joining" / "requirements.txt")
    lines = text.splitlines()
    start = lines.index("  evidence sources asked (the input states no license):")
    # The image knowledge base (policy/images.yaml) ranks before the decision
    # table and is asked too; it knows images, not a PyPI package.
    assert lines[start + 1 : start + 5] == [
        "    - run: no answer",
        "    - evidence-file: no answer",
        "    - knowledge-base: no answer",
        "    - decision-table: answered, decision table row psycopg",
    ]
    license_line = next(i for i, line in enumerate(lines) if "license string:" in line)
    assert license_line < start < lines.index("  verdict: PASS")


def test_a_license_joined_from_another_input_names_it(policy: Policy) -> None:
    joining = DATA / "joining"
    text = trace_text(
        policy,
        "pkg:pypi/some-agpl-lib@1.0",
        joining / "requirements.txt",
        joining / "sbom.cdx.json",
    )
    assert "    - run: answered, " in text and "(joined by purl)" in text
    assert "decision-table" not in text  # the chain stops at the first answer


def test_a_component_with_its_own_license_asks_no_source(policy: Policy) -> None:
    text = trace_text(policy, "left", DATA / "gate" / "mixed-verdicts.cdx.json")
    assert "  evidence: the input's own statements (no other source asked)" in text
