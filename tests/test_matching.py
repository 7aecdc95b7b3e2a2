"""Recognising components: the quick purl split agrees with packageurl-python."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from checker.matching import _parse_purl_fully, parse_purl

segment = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=12
)


@given(
    purl_type=st.sampled_from(["pypi", "npm", "maven", "deb", "golang", "generic", "gem"]),
    namespace=st.one_of(st.none(), segment),
    name=segment,
    version=st.one_of(st.none(), segment),
    qualifiers=st.dictionaries(
        st.sampled_from(["arch", "distro", "type"]), segment.filter(str.strip), max_size=2
    ),
)
@settings(max_examples=400, deadline=None)
def test_quick_split_matches_the_library(
    purl_type: str,
    namespace: str | None,
    name: str,
    version: str | None,
    qualifiers: dict[str, str],
) -> None:
    try:
        text = PackageURL(purl_type, namespace, name, version, qualifiers or None).to_string()
        full = _parse_purl_fully(text)
    except (ValueError, TypeError):
        return
    if full is None:
        return
    quick = parse_purl(text)
    assert quick is not None
    assert (quick.type, quick.namespace, quick.name, quick.version) == (
        full.type,
        full.namespace,
        full.name,
        full.version,
    )


def test_unencoded_npm_scope_and_pypi_spelling() -> None:
    scoped = parse_purl("pkg:npm/@sap/hana-client@2.27.19")
    assert scoped is not None and (scoped.namespace, scoped.name) == ("@sap", "hana-client")
    pypi = parse_purl("pkg:pypi/Psycopg_Binary@3.3.9")
    assert pypi is not None and pypi.name == "psycopg-binary"
    assert parse_purl("not-a-purl") is None
    assert parse_purl("pkg:npm") is None


def test_index_agrees_with_trying_every_row_in_order() -> None:
    """The indexed lookup must pick the row a plain top-to-bottom scan picks."""
    from pathlib import Path

    import pytest

    from checker.gate import read_all
    from checker.policy import load_policy

    root = Path(__file__).resolve().parents[1]
    corpus = root.parent / "shared" / "corpus"
    if not corpus.is_dir():
        pytest.skip(f"shared corpus absent at {corpus}")
    policy = load_policy(root / "policy")
    inputs = read_all([corpus, root / "tests" / "data" / "gate"])
    checked = 0
    for result in inputs.results:
        for component in result.components:
            naive = next(
                (
                    (d, hit)
                    for d in policy.decisions
                    if (hit := d.matcher.matches(component)) is not None
                ),
                None,
            )
            assert policy.decide(component) == naive, component
            assert policy.is_stack(component) == policy.stack.matches(component), component
            checked += 1
    assert checked > 5000


def test_identify_is_decide_then_stack() -> None:
    from pathlib import Path

    import pytest

    from checker.gate import read_all
    from checker.policy import load_policy

    root = Path(__file__).resolve().parents[1]
    corpus = root.parent / "shared" / "corpus"
    if not corpus.is_dir():
        pytest.skip(f"shared corpus absent at {corpus}")
    policy = load_policy(root / "policy")
    for result in read_all([corpus]).results:
        for component in result.components:
            decided = policy.decide(component)
            expected = (decided, None if decided else policy.is_stack(component))
            assert policy.identify(component) == expected, component
