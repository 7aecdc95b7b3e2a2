"""The line syntax of requirements files, as pip's own parser reads it.

``pip/_internal/req/req_file.py``: a line ending in ``\\`` continues on the
next one (a whole-line comment never does), then everything from ``#`` at
the start of the line or after whitespace is a comment; the requirement is
every space-separated token before the first token that starts with ``-``,
the rest are options split with shell quoting rules.
"""

from __future__ import annotations

import codecs
import re
import shlex
from collections.abc import Iterator

from checker.errors import InputError
from checker.inputs import decode_text, excerpt

_COMMENT = re.compile(r"(^|\s+)#.*$")
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
#: What can make ``shlex.split`` answer other than a split on whitespace.
_QUOTING = re.compile(r"""['"\\]""")
#: The characters ``shlex`` splits on.
_SHELL_WHITESPACE = re.compile(r"[ \t\r\n]+")

#: pip options that take a value, by what this reader does with it.
VALUE_OPTIONS = {
    "-r": "requirement",
    "--requirement": "requirement",
    "-c": "constraint",
    "--constraint": "constraint",
    "-e": "editable",
    "--editable": "editable",
    "--hash": "hash",
    "-i": "ignored",
    "--index-url": "ignored",
    "--extra-index-url": "ignored",
    "-f": "ignored",
    "--find-links": "ignored",
    "--trusted-host": "ignored",
    "--config-settings": "ignored",
    "--global-option": "ignored",
    "--install-option": "ignored",
    "--no-binary": "ignored",
    "--only-binary": "ignored",
    "--use-feature": "ignored",
}
SHORT_VALUE_OPTIONS = ("-r", "-c", "-e", "-i", "-f")
FLAG_OPTIONS = frozenset({"--pre", "--no-index", "--require-hashes", "--prefer-binary"})


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, content) of each line after joining and comments.

    The rules are pip's: ``\\`` at the end joins the next line (a comment line
    ends the join), then comments are cut at ``#`` preceded by whitespace.
    """
    parts: list[str] = []
    first = 0
    for number, line in enumerate(text.splitlines(), 1):
        comment = _COMMENT.match(line) is not None
        if line.endswith("\\") and not comment:
            if not parts:
                first = number
            parts.append(line.strip("\\"))
            continue
        if parts:
            parts.append(" " + line if comment else line)
            joined, number = "".join(parts), first
            parts = []
        else:
            joined = line
        content = _COMMENT.sub("", joined).strip()
        if content:
            yield number, content
    if parts:
        content = _COMMENT.sub("", "".join(parts)).strip()
        if content:
            yield first, content


def decode(data: bytes, path: str) -> str:
    """UTF-8 (the default), or the encoding a PEP 263 header names, as pip does."""
    for line in data.splitlines()[:2]:
        match = _CODING.match(line)
        if match is None:
            continue
        encoding = match.group(1).decode("ascii", "replace")
        try:
            if codecs.lookup(encoding).name == "utf-8":
                break
            return data.decode(encoding)
        except (LookupError, UnicodeError, ValueError):
            raise InputError(
                path, "line 1", f"cannot be decoded as {excerpt(encoding, 40)} as its header says"
            ) from None
    return decode_text(data, path)


def split_args(line: str) -> tuple[str, str]:
    """pip's split: requirement tokens up to the first token starting with '-'."""
    tokens = line.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]).strip(), " ".join(tokens[index:])
    return line, ""


def split_option(token: str) -> tuple[str, str | None]:
    """(option, inline value) of ``--opt=value``, ``-rfile`` or ``--flag``."""
    if token.startswith("--"):
        option, sep, value = token.partition("=")
        return option, value if sep else None
    for short in SHORT_VALUE_OPTIONS:
        if token.startswith(short) and len(token) > len(short):
            return short, token[len(short) :]
    return token, None


def shell_tokens(text: str) -> list[str]:
    """``shlex.split(text)``: the options of a line, split with shell quoting rules.

    Without a quote or a backslash, shell rules split on spaces, tabs and
    line ends and nothing else, which a plain split does in a fraction of
    the time (a pip-compile file is thousands of ``--hash`` options);
    anything else goes to :mod:`shlex`. Raises ``ValueError`` for broken
    quoting, as :func:`shlex.split` does.
    """
    if _QUOTING.search(text) is None:
        return [token for token in _SHELL_WHITESPACE.split(text) if token]
    return shlex.split(text)
