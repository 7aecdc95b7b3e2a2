"""The options of a requirements line split as the shell splits them, quickly where it can."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from checker.lockfiles.requirements.syntax import shell_tokens

#: What options are made of, and everything that could make a plain split go wrong:
#: quotes, backslashes, ``#``, and whitespace shlex does not split on (``\x0b``, NBSP).
_OPTION_TEXT = st.text(
    alphabet=st.sampled_from([*"-=:ab09./#", *" \t\r\n\x0b\x0c\x1f\xa0\u2003", *"'\"\\"]),
    max_size=40,
)


@given(_OPTION_TEXT)
@example("--hash=sha256:00ff --hash=sha256:11ee")
@example("-r 'base file.txt'")
@example('--hash="sha256:00"')
@example("--config-settings=a\\ b")
@example("-c\xa0x")
@settings(max_examples=2000, deadline=None)
def test_shell_tokens_are_what_shlex_gives(text: str) -> None:
    try:
        expected: list[str] | None = shlex.split(text)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(ValueError):
            shell_tokens(text)
    else:
        assert shell_tokens(text) == expected
