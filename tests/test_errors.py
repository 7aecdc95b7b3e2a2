"""Problems: where they are, and the line a location names."""

from __future__ import annotations

from checker.errors import Problem
from checker.model import Origin


def test_a_problem_is_its_origin_and_message() -> None:
    problem = Problem.at(Origin("p.yaml", "line 3"), "wrong")
    assert str(problem) == "p.yaml:line 3: wrong"
    assert problem == Problem("p.yaml", "line 3", "wrong")
    assert len({problem, Problem("p.yaml", "line 3", "wrong")}) == 1


def test_the_line_of_a_location() -> None:
    assert Problem("p", "line 12", "m").line == 12
    assert Problem("p", "line 4 column 7", "m").line == 4
    assert Problem("p", "$.components[0]", "m").line is None
    assert Problem("p", "", "m").line is None
