"""The shared argument types: sizes and dates are refused at parse time with exit 2.

Why: a bad ``--max-input-size`` or ``--today`` must be a usage error naming
the value, never a traceback from deep in a reader or the register; and the
CLI's default input limit must be the library's, not a second number.
"""

from __future__ import annotations

import argparse
from datetime import date

import pytest

from checker.cli import build_parser
from checker.cli.arguments import DEFAULT_SIZE, MAX_SIZE_LIMIT, day, size
from checker.inputs import DEFAULT_MAX_BYTES


def test_the_default_size_is_the_library_limit() -> None:
    assert size(DEFAULT_SIZE) == DEFAULT_MAX_BYTES
    for command in (["check", "x.json"], ["explain", "psycopg", "x.json"]):
        assert build_parser().parse_args(command).max_input_size == DEFAULT_MAX_BYTES


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("4096", 4096),
        ("1k", 1024),
        ("1.5G", 3 * 1024**3 // 2),
        (" 2 MiB ", 2 * 1024**2),
        ("1T", MAX_SIZE_LIMIT),
    ],
)
def test_sizes_take_binary_units(text: str, value: int) -> None:
    assert size(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lots", "not a size"),
        ("0", "must be positive"),
        ("2T", "over the largest limit"),
        ("-1", "not a size"),
    ],
)
def test_bad_sizes_are_refused(text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        size(text)


def test_days_are_calendar_dates_written_iso() -> None:
    assert day(" 2026-06-01 ") == date(2026, 6, 1)
    with pytest.raises(argparse.ArgumentTypeError, match="YYYY-MM-DD"):
        day("1 June 2026")
    with pytest.raises(argparse.ArgumentTypeError, match="not a calendar date"):
        day("2026-02-30")


def test_a_bad_today_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["vex", "list", "--today", "2026-13-01"])
    assert caught.value.code == 2
    assert "not a calendar date" in capsys.readouterr().err
