"""Version ranges: the leading numeric release compared, anything else never matches."""

from __future__ import annotations

import pytest

from checker.versions import Comparator, parse_range, release_key


def test_a_range_contains_the_releases_it_bounds() -> None:
    rng = parse_range(">=24.3, <25")
    assert rng.contains("24.3.1") and rng.contains("v24.9") and rng.contains("1:24.3+maria~1")
    assert not rng.contains("25.0") and not rng.contains("24.2.9")
    assert not rng.contains("latest") and not rng.contains(None)
    assert parse_range("!=2").contains("2.1") and not parse_range("!=2").contains("2.0.0")


def test_clauses_keep_the_version_as_written() -> None:
    assert [tuple(c) for c in parse_range(">=1.4.0,<2").clauses] == [
        (Comparator.GE, (1, 4), "1.4.0"),
        (Comparator.LT, (2,), "2"),
    ]
    assert release_key("17.6.0-debian-12-r4") == (17, 6)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (">=1,", "empty comparator in version range '>=1,'"),
        ("~1.2", "comparator '~1.2' in '~1.2' must start with one of >=, <=, ==, !=, >, <"),
        (">=x", "'>=x' in '>=x' does not compare against a numeric version"),
    ],
)
def test_a_range_that_does_not_parse_says_why(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_range(text)
    assert str(caught.value) == message
