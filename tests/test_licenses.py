"""The license evaluator: SPDX semantics a compliance engineer relies on."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.licenses import (
    AllowedWith,
    DenyRule,
    LicenseRules,
    NormalizationRule,
    Normalizer,
    Outcome,
)
from checker.model import Kind

RULES = LicenseRules(
    denied=[
        DenyRule(("AGPL-3.0*", "SSPL-1.0", "BUSL-1.1", "Elastic-2.0"), "source-available"),
        DenyRule(("GPL-2.0*", "GPL-3.0*"), "strong copyleft", frozenset({"os-package"})),
    ],
    allowed_with=[AllowedWith("GPL-2.0-only WITH Classpath-exception-2.0", "classpath")],
    allowed=["MIT", "Apache-2.0", "BSD-3-Clause", "LGPL-3.0-only", "ISC"],
)
NORMALIZER = Normalizer(
    [
        NormalizationRule(("Apache 2.0", "Apache License, Version 2.0"), "Apache-2.0"),
        NormalizationRule(("MIT License", "MIT/X11"), "MIT"),
        NormalizationRule(("BSD", "BSD License"), "BSD-3-Clause", ambiguous=True),
        NormalizationRule(("Elastic License 2.0",), "Elastic-2.0"),
        NormalizationRule(
            ("GPL-2.0-with-classpath-exception",), "GPL-2.0-only WITH Classpath-exception-2.0"
        ),
    ]
)


def verdict(text: str, kind: Kind = Kind.LIBRARY) -> Outcome:
    normalized = NORMALIZER.normalize(text)
    assert normalized.ok, normalized.error
    return RULES.evaluate(normalized, kind).outcome


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("MIT AND AGPL-3.0-only", Outcome.DENY),  # dependency-review-action passes this
        ("MIT OR AGPL-3.0-only", Outcome.ALLOW),  # Grant blocks this
        ("(MIT OR AGPL-3.0-only) AND SSPL-1.0", Outcome.DENY),
        ("SSPL-1.0 OR Elastic License 2.0", Outcome.DENY),  # Kibana: no acceptable branch
        ("GPL-2.0-only WITH Classpath-exception-2.0", Outcome.ALLOW),
        ("GPL-2.0-or-later WITH Classpath-exception-2.0", Outcome.DENY),  # not that exact pair
        ("CDDL-1.0 OR GPL-2.0-with-classpath-exception", Outcome.ALLOW),
        ("Apache-2.0 WITH LLVM-exception", Outcome.ALLOW),
        ("GPL-2.0", Outcome.DENY),
        ("AGPL-3.0", Outcome.DENY),
        ("MIT OR LicenseRef-Proprietary", Outcome.ALLOW),
        ("MIT AND LicenseRef-Proprietary", Outcome.UNKNOWN),
        ("AGPL-3.0-only OR LicenseRef-Proprietary", Outcome.UNKNOWN),
        ("CC-BY-NC-4.0", Outcome.DENY),  # valid SPDX, not on the allow list
        ("Apache 2.0", Outcome.ALLOW),
        ("mit or apache-2.0", Outcome.ALLOW),
    ],
)
def test_spdx_semantics(expression: str, expected: Outcome) -> None:
    assert verdict(expression) is expected


def test_gpl_is_allowed_for_os_packages_but_agpl_is_not() -> None:
    assert verdict("GPL-2.0-only", Kind.OS_PACKAGE) is Outcome.ALLOW
    assert verdict("GPL-2.0-only", Kind.IMAGE) is Outcome.DENY
    assert verdict("AGPL-3.0-or-later", Kind.OS_PACKAGE) is Outcome.DENY


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("GPL-2.0", "GPL-2.0-only"),
        ("GPL-2.0+", "GPL-2.0-or-later"),
        ("AGPL-3.0", "AGPL-3.0-only"),
        ("MIT/X11", "MIT"),
        ("MIT License", "MIT"),
        ("apache-2.0", "Apache-2.0"),
    ],
)
def test_deprecated_and_informal_ids_are_mapped(text: str, canonical: str) -> None:
    assert NORMALIZER.normalize(text).expression == canonical


def test_comma_joined_list_is_read_as_and() -> None:
    normalized = NORMALIZER.normalize("LGPL-2.1-only, GPL-2.0")
    assert normalized.expression == "LGPL-2.1-only AND GPL-2.0-only"
    assert any("comma-joined" in step for step in normalized.steps)
    assert verdict("MIT, AGPL-3.0-only") is Outcome.DENY


def test_ambiguous_mapping_is_recorded() -> None:
    normalized = NORMALIZER.normalize("BSD License")
    assert normalized.expression == "BSD-3-Clause"
    assert normalized.ambiguous


@pytest.mark.parametrize(
    "text",
    [
        "",
        "NOASSERTION",
        "NONE",
        "UNKNOWN",
        "MIT AND",
        "(MIT",
        "MIT WITH GPL-2.0-only",
        "Classpath-exception-2.0",
        "x" * 3000,
        "MIT ) OR (",
        "AND OR WITH",
    ],
)
def test_unreadable_expressions_are_errors_not_exceptions(text: str) -> None:
    normalized = NORMALIZER.normalize(text)
    assert not normalized.ok
    assert normalized.error


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_normalizer_never_raises(text: str) -> None:
    normalized = NORMALIZER.normalize(text)
    assert normalized.ok or normalized.error
    if normalized.ok:
        RULES.evaluate(normalized, Kind.LIBRARY)


# A reference model of SPDX semantics over generated expression trees.

ATOMS = {
    "MIT": Outcome.ALLOW,
    "Apache-2.0": Outcome.ALLOW,
    "ISC": Outcome.ALLOW,
    "AGPL-3.0-only": Outcome.DENY,
    "SSPL-1.0": Outcome.DENY,
    "GPL-3.0-only": Outcome.DENY,
    "GPL-2.0-only WITH Classpath-exception-2.0": Outcome.ALLOW,
    "LicenseRef-Vendor": Outcome.UNKNOWN,
}


@dataclass(frozen=True)
class Tree:
    op: str
    parts: tuple[Tree | str, ...]


def render(node: Tree | str) -> str:
    if isinstance(node, str):
        return node
    return "(" + f" {node.op} ".join(render(p) for p in node.parts) + ")"


def model(node: Tree | str) -> Outcome:
    if isinstance(node, str):
        return ATOMS[node]
    results = [model(p) for p in node.parts]
    if node.op == "OR":
        if Outcome.ALLOW in results:
            return Outcome.ALLOW
        return Outcome.UNKNOWN if Outcome.UNKNOWN in results else Outcome.DENY
    if Outcome.DENY in results:
        return Outcome.DENY
    return Outcome.UNKNOWN if Outcome.UNKNOWN in results else Outcome.ALLOW


trees = st.recursive(
    st.sampled_from(sorted(ATOMS)),
    lambda children: st.builds(
        Tree, st.sampled_from(["AND", "OR"]), st.lists(children, min_size=2, max_size=3).map(tuple)
    ),
    max_leaves=8,
)


@given(trees)
@settings(max_examples=300, deadline=None)
def test_evaluator_agrees_with_spdx_semantics(tree: Tree | str) -> None:
    assert verdict(render(tree)) is model(tree)


@given(trees, trees)
@settings(max_examples=150, deadline=None)
def test_or_and_are_commutative(left: Tree | str, right: Tree | str) -> None:
    a, b = render(left), render(right)
    assert verdict(f"({a}) OR ({b})") is verdict(f"({b}) OR ({a})")
    assert verdict(f"({a}) AND ({b})") is verdict(f"({b}) AND ({a})")


@given(trees)
@settings(max_examples=150, deadline=None)
def test_adding_an_allowed_alternative_never_fails(tree: Tree | str) -> None:
    assert verdict(f"({render(tree)}) OR MIT") is Outcome.ALLOW
    assert verdict(f"({render(tree)}) AND AGPL-3.0-only") is Outcome.DENY
