"""The rules for which ``vex add`` options make an entry (:mod:`checker.vex.flags`).

Why: these rules used to live in the CLI's argument handling; as library
code they are tested directly, and the CLI's messages (asserted through the
command line in ``tests/vex/test_vex_cli.py``) come from here.
"""

from __future__ import annotations

import argparse

import pytest

from checker.cli import build_parser
from checker.vex.flags import (
    ADD_OPTIONS,
    KIND_ONLY,
    REQUIRED,
    ExportFormat,
    add_problem,
    flag,
)
from checker.vex.vocabulary import EntryKind

LICENSE = EntryKind.LICENSE
VULNERABILITY = EntryKind.VULNERABILITY


@pytest.mark.parametrize(
    ("kind", "given", "problem"),
    [
        (LICENSE, {"component", "license", "reason"}, None),
        (LICENSE, {"image", "license", "reason", "versions"}, None),
        (LICENSE, {"license"}, "--kind license needs --component (or --image), --reason"),
        (
            LICENSE,
            {"component", "image", "license", "reason"},
            "give --component or --image, not both",
        ),
        (
            LICENSE,
            {"component", "license", "reason", "cvss", "patch_sla"},
            "--cvss, --patch-sla do(es) not go with --kind license",
        ),
        (VULNERABILITY, {"vulnerability", "product", "status"}, None),
        (VULNERABILITY, {"vulnerability"}, "--kind vulnerability needs --product, --status"),
        (
            VULNERABILITY,
            {"vulnerability", "product", "status", "reason"},
            "--reason do(es) not go with --kind vulnerability",
        ),
    ],
)
def test_add_problem(kind: EntryKind, given: set[str], problem: str | None) -> None:
    assert add_problem(kind, given) == problem


def test_misplaced_options_are_reported_before_missing_ones() -> None:
    assert add_problem(LICENSE, {"status"}) == "--status do(es) not go with --kind license"


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            subparser: argparse.ArgumentParser = action.choices[name]
            return subparser
    raise AssertionError(f"no subcommand {name}")


def test_every_kind_option_is_a_flag_of_vex_add() -> None:
    add = _subparser(_subparser(build_parser(), "vex"), "add")
    flags = {(a.dest, s) for a in add._actions for s in a.option_strings}
    for name in ADD_OPTIONS:
        assert (name, flag(name)) in flags, name


def test_every_kind_has_its_rules() -> None:
    assert set(KIND_ONLY) == set(REQUIRED) == set(EntryKind)
    assert set(ADD_OPTIONS) == {n for names in KIND_ONLY.values() for n in names}
    assert [f.display_name for f in ExportFormat] == ["OpenVEX", "CycloneDX VEX"]
