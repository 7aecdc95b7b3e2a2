"""Recognising components: the quick purl split agrees with packageurl-python."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from checker.matching import (
    _normalize_name,
    _parse_purl_fully,
    _purl_path,
    parse_purl,
    purl_parts,
)

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


def _name_ends_in_slash(text: str) -> bool:
    path = _purl_path(text) or ""
    at = path.find("@", path.rfind("/") + 1)
    return (path[:at] if at >= 0 else path).endswith("/")


@given(
    text=st.one_of(
        st.builds(
            lambda t, ns, n, v, tail: f"pkg:{t}/{ns}{n}{v}{tail}",
            st.sampled_from(["pypi", "npm", "deb", "PyPI", "/deb", "de%62", ""]),
            st.sampled_from(["", "debian/", "@scope/", "%40s/", "a//b/"]),
            st.text(alphabet="aZ_-.%2041@ ", min_size=0, max_size=8),
            st.sampled_from(["", "@1.0", "@", "@%31.0", "@1#x"]),
            st.sampled_from(["", "?arch=x", "#sub", "?a=b#c"]),
        ),
        st.text(max_size=30),
    )
)
@settings(max_examples=600, deadline=None)
def test_the_strict_parts_agree_with_the_fast_split(text: str) -> None:
    # parse_purl inlines the split purl_parts shares; whatever purl_parts
    # accepts, parse_purl reads the same way (it only normalizes the name).
    # One known divergence is left out: a name followed by slashes
    # (``pkg:pypi/debian/``), which purl_parts strips as the purl spec says
    # and parse_purl refuses; changing parse_purl changes matching.
    parts = purl_parts(text)
    if parts is None or _name_ends_in_slash(text):
        return
    quick = parse_purl(text)
    assert quick is not None
    purl_type, namespace, name, version = parts
    assert quick.type == purl_type
    assert quick.namespace == namespace.strip("/").lower()
    assert quick.name == _normalize_name(purl_type, name)
    assert quick.version == version


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


#: Pattern text: ``?`` would start a purl qualifier, so globs here are ``*`` and ``[...]``.
_GLOB_SEGMENT = st.text(alphabet="ab-*[]!", min_size=1, max_size=5)


@given(
    rows=st.lists(
        st.lists(
            st.builds(
                lambda t, ns, n: f"pkg:{t}/{ns}{n}",
                st.sampled_from(["deb", "pypi", "*", "d*"]),
                st.one_of(st.just(""), _GLOB_SEGMENT.map(lambda s: s + "/")),
                _GLOB_SEGMENT,
            ),
            min_size=1,
            max_size=4,
        ),
        min_size=1,
        max_size=6,
    ),
    purls=st.lists(
        st.builds(
            lambda t, ns, n: f"pkg:{t}/{ns}{n}@1",
            st.sampled_from(["deb", "pypi"]),
            st.sampled_from(["", "a/", "ab/", "b-/", "[/"]),
            st.text(alphabet="ab-*[]!", min_size=1, max_size=6),
        ),
        min_size=1,
        max_size=8,
    ),
)
@settings(max_examples=300, deadline=None)
def test_index_of_globs_agrees_with_every_pattern_in_order(
    rows: list[list[str]], purls: list[str]
) -> None:
    """Indexed by literal start and compared without regexes, globs answer as fnmatch does."""
    from checker.matching import Matcher, MatchIndex, PurlPattern
    from checker.model import Component, Origin

    matchers = [Matcher(purls=tuple(PurlPattern.parse(text) for text in row)) for row in rows]
    index = MatchIndex(matchers)
    for purl in purls:
        component = Component("x", Origin("bom.json"), purl=purl)
        naive = next(
            ((row, hit) for row, m in enumerate(matchers) if (hit := m.matches(component))),
            None,
        )
        assert index.first(component) == naive, purl
