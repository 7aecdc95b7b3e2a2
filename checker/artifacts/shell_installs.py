"""Package installs in a Dockerfile's ``RUN`` scripts: what a build adds to its base image.

A ``FROM`` names the base; the packages a ``RUN`` line installs are shipped
in the image too, and a GPL extension installed from apt is as much a part
of it as one baked into the base. This module reads the script of one
``RUN`` (shell form, or the script of ``RUN ["sh", "-c", "..."]``) the way
a POSIX shell splits it, without running anything:

* words and quotes (``'...'``, ``"..."``, backslash escapes), the command
  separators ``&&``, ``||``, ``;``, ``|``, ``&``, newlines, subshell and
  group brackets; redirections (``>/dev/null``, ``2>&1``) are dropped with
  their target; ``if``/``then``/``do``/``!`` and ``VAR=value`` prefixes,
  ``sudo``, ``env`` and ``command`` are skipped before the command word;
* ``$VAR``, ``${VAR}`` and ``${VAR:-default}`` are expanded from the build
  arguments and ``ENV`` of the stage (not inside single quotes); a word that
  keeps a reference (set only by the base image or by ``--build-arg``) is
  kept as written, so ``postgresql-$PG_MAJOR-postgis-3`` still matches the
  decision table's ``postgresql-*-postgis*``, and noted;
* a word made by command substitution (``$(...)``, backticks) is not
  guessed: it is noted.

Scripts the reader cannot follow at all (heredocs, shell functions,
``eval``, unbalanced quotes) give a note naming the line and no packages:
never a crash, and never a guess.

The installers recognised, each with its options that take a value (so the
value is not read as a package): ``apt-get``/``apt``/``aptitude install``,
``apk add``, ``dnf``/``yum``/``microdnf install``, ``pip``/``pip3``/
``python -m pip``/``uv pip install`` and ``npm install``/``i``/``add``
with named packages (``-g`` or not: both ship in the image).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from checker.images import interpolate

__all__ = ["Install", "Script", "read_script"]

#: What a word is built from that the reader does not evaluate.
_SUBSTITUTION = "\x00"
#: A ``$`` inside single quotes, protected from expansion until the word is done.
_LITERAL_DOLLAR = "\x01"

_OPERATORS = ("&&", "||", ";;", "|&", ";", "|", "&", "(", ")", "\n")
_OPERATOR_STARTS = frozenset(op[0] for op in _OPERATORS)
#: Characters with no meaning to the splitter here (what may follow them is checked per char).
_PLAIN = re.compile(r"[^\s'\"\\`$#&|;()<>]+")
_REDIRECTION = re.compile(r"(?:[0-9]+|&)?(?:>>|>&|<&|<>|>\||>|<)")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_FUNCTION = re.compile(r"(?:^|[\s;&|(])(?:function\s+[A-Za-z_][\w-]*|[A-Za-z_][\w-]*\s*\(\s*\))")
_PREFIX_WORDS = frozenset(
    {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "time", "exec"}
)
_WRAPPERS = frozenset({"sudo", "env", "command", "nice", "nohup"})


class Unfollowable(Exception):
    """The script uses something the reader does not follow; the message says what."""


@dataclass(frozen=True, slots=True)
class Word:
    """One shell word after quote removal; ``text`` may still hold ``$`` references."""

    text: str
    substituted: bool = False


@dataclass(frozen=True, slots=True)
class Install:
    """One package an installer is told to install."""

    #: purl type: deb, apk, rpm, pypi or npm.
    ecosystem: str
    name: str
    version: str | None
    #: The package word as written in the script (after quote removal).
    written: str
    #: Variables the word still references (expanded from nothing the reader knows).
    unresolved: tuple[str, ...] = ()


@dataclass(slots=True)
class Script:
    """What one ``RUN`` script installs, and what the reader has to say about it."""

    installs: list[Install] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- words


def _scan_substitution(text: str, start: int) -> int:
    """The index after the ``)`` that closes the ``$(`` starting at ``start``, quotes respected."""
    depth = 0
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char in "'\"":
            end = text.find(char, index + 1)
            if end < 0:
                raise Unfollowable("has an unbalanced quote")
            index = end + 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    raise Unfollowable("has an unclosed $( command substitution")


def split_words(script: str) -> list[list[Word]]:
    """Simple commands of ``script``, each a list of words; separators and redirections dropped."""
    commands: list[list[Word]] = []
    current: list[Word] = []
    buf: list[str] = []
    in_word = False
    substituted = False
    skip_next = False
    index = 0
    length = len(script)

    def end_word() -> None:
        nonlocal in_word, substituted, skip_next
        if in_word:
            text = "".join(buf)
            if skip_next:
                skip_next = False
            else:
                current.append(Word(text, substituted))
        buf.clear()
        in_word = False
        substituted = False

    def end_command() -> None:
        nonlocal current, skip_next
        end_word()
        skip_next = False  # a redirection without a target ends with its command
        if current:
            commands.append(current)
        current = []

    while index < length:
        char = script[index]
        if char == "\\":
            if index + 1 < length and script[index + 1] == "\n":
                index += 2  # a line continuation inside the script
                continue
            buf.append(script[index + 1 : index + 2])
            in_word = True
            index += 2
            continue
        if char == "'":
            end = script.find("'", index + 1)
            if end < 0:
                raise Unfollowable("has an unbalanced single quote")
            buf.append(script[index + 1 : end].replace("$", _LITERAL_DOLLAR))
            in_word = True
            index = end + 1
            continue
        if char == '"':
            index += 1
            in_word = True
            while True:
                if index >= length:
                    raise Unfollowable("has an unbalanced double quote")
                inner = script[index]
                if inner == '"':
                    index += 1
                    break
                if inner == "\\" and index + 1 < length and script[index + 1] in '"\\$`\n':
                    if script[index + 1] == "$":
                        buf.append(_LITERAL_DOLLAR)
                    elif script[index + 1] != "\n":
                        buf.append(script[index + 1])
                    index += 2
                    continue
                if inner == "`" or script.startswith("$(", index):
                    index = _substitution_end(script, index)
                    buf.append(_SUBSTITUTION)
                    substituted = True
                    continue
                buf.append(inner)
                index += 1
            continue
        if char == "`" or script.startswith("$(", index):
            index = _substitution_end(script, index)
            buf.append(_SUBSTITUTION)
            in_word = substituted = True
            continue
        if char == "$" and script.startswith("${", index):
            end = script.find("}", index)
            if end < 0:
                raise Unfollowable("has an unclosed ${ reference")
            buf.append(script[index : end + 1])
            in_word = True
            index = end + 1
            continue
        if char == "#" and not in_word:
            newline = script.find("\n", index)
            index = length if newline < 0 else newline
            continue
        if char in " \t\r":
            end_word()
            index += 1
            continue
        # A redirection starts a word, or follows a file descriptor number (2>&1).
        fd = "".join(buf) if in_word and len(buf) <= 3 else ""
        if not in_word or (len(fd) <= 3 and fd.isdigit()):
            redirection = _REDIRECTION.match(script, index - len(fd))
            if redirection is not None and redirection.end() > index:
                buf.clear()
                in_word = False
                index = redirection.end()
                skip_next = True  # the redirection's target
                continue
        if char in _OPERATOR_STARTS:
            operator = next(op for op in _OPERATORS if script.startswith(op, index))
            end_command()
            index += len(operator)
            continue
        # A run of ordinary characters at once: a 1 MiB script stays a fraction of a second.
        plain = _PLAIN.match(script, index)
        end = plain.end() if plain is not None else index + 1
        buf.append(script[index:end])
        in_word = True
        index = end
    end_command()
    return commands


def _substitution_end(script: str, start: int) -> int:
    """The index after the command substitution (backticks or ``$(``) at ``start``."""
    if script[start] == "`":
        end = script.find("`", start + 1)
        if end < 0:
            raise Unfollowable("has an unclosed ` command substitution")
        return end + 1
    return _scan_substitution(script, start)


# --------------------------------------------------------------------------- installers


def _command(words: list[Word]) -> list[Word]:
    """The words from the command name on: keywords, assignments and wrappers skipped."""
    index = 0
    while index < len(words):
        text = words[index].text
        if text in _PREFIX_WORDS or _ASSIGNMENT.match(text):
            index += 1
        elif text in _WRAPPERS:
            index += 1
            while index < len(words) and words[index].text.startswith("-"):
                index += 1  # sudo -E, env -i
        else:
            break
    return words[index:]


@dataclass(frozen=True, slots=True)
class _Installer:
    ecosystem: str
    #: Options whose value is the next word (long options may also say ``--opt=value``).
    with_value: frozenset[str]


_APT = _Installer(
    "deb", frozenset({"-o", "-t", "-c", "--option", "--target-release", "--config-file"})
)
_APK = _Installer(
    "apk",
    frozenset(
        {
            "-t",
            "--virtual",
            "-X",
            "--repository",
            "-p",
            "--root",
            "--arch",
            "--keys-dir",
            "--cache-dir",
            "--repositories-file",
        }
    ),
)
_RPM = _Installer(
    "rpm",
    frozenset(
        {
            "-x",
            "--exclude",
            "-c",
            "--config",
            "--releasever",
            "--installroot",
            "--setopt",
            "--enablerepo",
            "--disablerepo",
            "--repo",
            "--repoid",
            "--forcearch",
            "--downloaddir",
            "--destdir",
        }
    ),
)
_PIP = _Installer(
    "pypi",
    frozenset(
        {
            "-r",
            "--requirement",
            "-c",
            "--constraint",
            "-e",
            "--editable",
            "-i",
            "--index-url",
            "--extra-index-url",
            "-f",
            "--find-links",
            "-t",
            "--target",
            "--prefix",
            "--root",
            "--trusted-host",
            "--platform",
            "--python-version",
            "--implementation",
            "--abi",
            "--only-binary",
            "--no-binary",
            "--progress-bar",
            "--cache-dir",
            "--src",
            "--upgrade-strategy",
            "-C",
            "--config-settings",
            "--global-option",
            "--python",
            "-p",
            "--index",
            "--default-index",
            "--cert",
            "--client-cert",
            "--proxy",
            "--timeout",
            "--retries",
            "--exists-action",
            "--log",
            "--report",
            "--root-user-action",
            "--keyring-provider",
            "--index-strategy",
            "--resolution",
            "--prerelease",
        }
    ),
)
_NPM = _Installer(
    "npm",
    frozenset(
        {
            "--prefix",
            "--registry",
            "-w",
            "--workspace",
            "--omit",
            "--include",
            "--tag",
            "--cache",
            "--userconfig",
            "--location",
            "--install-strategy",
        }
    ),
)

#: Files given to pip with these options are read by pip, not by this reader.
_PIP_FILES = {
    "-r": "requirements",
    "--requirement": "requirements",
    "-c": "constraints",
    "--constraint": "constraints",
}


def _installer(argv: list[str]) -> tuple[_Installer, int] | None:
    """The installer ``argv`` runs and the index of its first argument after the subcommand."""
    if not argv:
        return None
    program = argv[0].rsplit("/", 1)[-1]
    rest = argv[1:]
    if program in ("apt-get", "apt", "aptitude"):
        return _after_options(argv, 1, ("install",), _APT)
    if program == "apk":
        return _after_options(argv, 1, ("add",), _APK)
    if program in ("dnf", "yum", "microdnf", "dnf5", "tdnf"):
        return _after_options(argv, 1, ("install",), _RPM)
    if re.fullmatch(r"pip(?:3(?:\.\d+)?)?", program):
        return _after_options(argv, 1, ("install",), _PIP)
    if re.fullmatch(r"python(?:3(?:\.\d+)?)?", program):
        if len(rest) >= 2 and rest[0] == "-m" and rest[1] in ("pip", "pip3"):
            return _after_options(argv, 3, ("install",), _PIP)
        return None
    if program == "uv" and len(rest) >= 2 and rest[0] == "pip":
        return _after_options(argv, 2, ("install",), _PIP)
    if program == "npm":
        return _after_options(argv, 1, ("install", "i", "add", "isntall", "in"), _NPM)
    return None


def _after_options(
    argv: list[str], base: int, subcommands: tuple[str, ...], installer: _Installer
) -> tuple[_Installer, int] | None:
    """The installer and the index after its subcommand, skipping options (and their values)."""
    index = base
    while index < len(argv):
        word = argv[index]
        if word.startswith("-"):
            index += 2 if word in installer.with_value else 1
            continue
        return (installer, index + 1) if word in subcommands else None
    return None


# --------------------------------------------------------------------------- package words

_APT_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]*$")
_APK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+._-]*$")
_RPM_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9+._-]*$")
_RPM_VERSIONED = re.compile(r"^(?P<name>.+?)-(?P<version>[0-9][^-/]*(?:-[^-/]+)?)$")
_PYPI_REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*"
    r"(?P<spec>(?:[<>=!~]=?|===)[^;]*)?(?:;.*)?$"
)
_NPM_SPEC = re.compile(r"^(?P<name>(?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*)(?:@(?P<range>.*))?$")
#: Longer words are no package names (and are not given to the regular expressions).
_MAX_WORD = 512
_EXACT_SEMVER = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$")


def _package(ecosystem: str, word: str) -> tuple[str, str | None] | str:
    """(name, pinned version) of one package word, or why it is not a registry package."""
    if len(word) > _MAX_WORD:
        return f"is over {_MAX_WORD} characters long, not a package name"
    if ecosystem == "deb":
        if word.endswith(".deb") or word.startswith((".", "/")):
            return "is a local .deb file"
        name, eq, version = word.partition("=")
        name = name.split("/", 1)[0].split(":", 1)[0]  # pkg/release, pkg:arch
        if not _APT_NAME.match(name):
            return "is not a Debian package name (a glob or regular expression?)"
        return name, (version or None) if eq else None
    if ecosystem == "apk":
        if word.endswith(".apk") or word.startswith((".", "/")):
            return "is a local .apk file"
        match = re.match(r"^([^=<>~@]+)(?:@[^=<>~]*)?(?:(=|[<>~]=?|=~)(.*))?$", word)
        if match is None or not _APK_NAME.match(match[1]):
            return "is not an Alpine package name"
        return match[1], (match[3] or None) if match[2] == "=" else None
    if ecosystem == "rpm":
        if word.startswith(("@", ".", "/")) or word.endswith(".rpm") or "://" in word:
            return "is a group, module, file or URL, not a package name"
        if not _RPM_NAME.match(word):
            return "is not an RPM package name (a glob or a capability?)"
        versioned = _RPM_VERSIONED.match(word)
        if versioned is not None:
            return versioned["name"], versioned["version"]
        return word, None
    if ecosystem == "pypi":
        if (
            "://" in word
            or word.startswith((".", "/", "~"))
            or word.endswith((".whl", ".tar.gz", ".zip"))
            or " @ " in word
            or "@" in word.split(";", 1)[0]
        ):
            return "is a path, URL or direct reference, not a registry package"
        match = _PYPI_REQUIREMENT.match(word.strip())
        if match is None:
            return "is not a Python requirement"
        spec = (match["spec"] or "").strip()
        pinned = spec.lstrip("=").strip() if spec.startswith("==") else ""
        if pinned and "," not in pinned and "*" not in pinned:
            return match["name"], pinned
        return match["name"], None
    # npm
    if (
        word.startswith((".", "/", "~"))
        or "://" in word
        or word.endswith((".tgz", ".tar.gz"))
        or ":" in word
    ):
        return "is a path, URL, git or alias reference, not a registry package"
    match = _NPM_SPEC.match(word)
    if match is None:
        return "is not an npm package name"
    wanted = match["range"]
    return match["name"], wanted.lstrip("v") if wanted and _EXACT_SEMVER.match(wanted) else None


def _expand(word: Word, variables: Mapping[str, str | None]) -> tuple[str, list[str]]:
    text, missing = interpolate(word.text, variables)
    return text.replace(_LITERAL_DOLLAR, "$"), missing


def read_script(script: str, variables: Mapping[str, str | None]) -> Script:
    """The packages ``script`` installs; variables expanded from ``variables``.

    ``variables`` maps names to values (None: declared without a value).
    """
    found = Script()
    heredoc = re.search(r"<<-?\s*[\"']?[A-Za-z_]", script)
    if heredoc is not None:
        found.notes.append("runs a heredoc script; packages it installs are not read")
        return found
    if _FUNCTION.search(script):
        found.notes.append("defines a shell function; packages it installs are not read")
        return found
    try:
        commands = split_words(script)
    except Unfollowable as exc:
        found.notes.append(f"{exc}; packages it installs are not read")
        return found
    for words in commands:
        words = _command(words)
        if words and words[0].text in ("eval", "source", "."):
            found.notes.append(f"runs {words[0].text!r}; packages it installs are not read")
            continue
        if (
            words
            and words[0].text in ("sh", "bash", "ash", "dash")
            and len(words) >= 3
            and words[1].text == "-c"
        ):
            inner = read_script(words[2].text.replace(_LITERAL_DOLLAR, "$"), variables)
            found.installs.extend(inner.installs)
            found.notes.extend(inner.notes)
            continue
        _installs(words, variables, found)
    return found


def _installs(words: list[Word], variables: Mapping[str, str | None], found: Script) -> None:
    expanded: list[tuple[Word, str, list[str]]] = []
    for word in words:
        text, missing = _expand(word, variables)
        expanded.append((word, text, missing))
    argv = [text if not missing else word.text for word, text, missing in expanded]
    known = _installer([a.replace(_SUBSTITUTION, "$(...)") for a in argv])
    if known is None:
        return
    installer, start = known
    index = start
    while index < len(expanded):
        word, text, missing = expanded[index]
        index += 1
        if text.startswith("-") and not word.substituted:
            option, eq, _ = text.partition("=")
            if option in installer.with_value and not eq:
                if option in _PIP_FILES and installer is _PIP and index < len(expanded):
                    found.notes.append(
                        f"pip installs from the {_PIP_FILES[option]} file "
                        f"{expanded[index][1]!r}; scan that file to check what it names"
                    )
                index += 1
            elif option in _PIP_FILES and installer is _PIP and eq:
                found.notes.append(
                    f"pip installs from the {_PIP_FILES[option]} file {text.partition('=')[2]!r}; "
                    "scan that file to check what it names"
                )
            continue
        if word.substituted:
            shown = word.text.replace(_SUBSTITUTION, "$(...)").replace(_LITERAL_DOLLAR, "$")
            found.notes.append(
                f"{installer.ecosystem} package word {shown!r} comes from a command "
                "substitution; what it installs is not checked"
            )
            continue
        if missing:
            # Kept as written: the decision table's globs still see the rest of the name.
            # What is known is expanded; the references left stay as written.
            written = text
            parsed = _with_references(installer.ecosystem, written)
            if isinstance(parsed, str):
                found.notes.append(
                    f"{installer.ecosystem} package word {written!r} {parsed}; not checked"
                )
                continue
            name, version = parsed
            found.installs.append(
                Install(installer.ecosystem, name, version, written, tuple(sorted(set(missing))))
            )
            continue
        for piece in text.split() if installer.ecosystem != "pypi" else [text]:
            parsed = _package(installer.ecosystem, piece)
            if isinstance(parsed, str):
                found.notes.append(
                    f"{installer.ecosystem} package word {piece!r} {parsed}; not checked"
                )
                continue
            name, version = parsed
            found.installs.append(Install(installer.ecosystem, name, version, piece))


_VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def _with_references(ecosystem: str, word: str) -> tuple[str, str | None] | str:
    """(name, version) of a word that still has ``$`` references, the references kept.

    Each reference stands in as a token every ecosystem accepts in a name
    while the word is split; the name gets the references back, a version
    that has one is no pin.
    """
    refs = _VARIABLE.findall(word)
    tokens = [f"zvar{i}z" for i in range(len(refs))]
    pieces = _VARIABLE.split(word)
    flat = "".join(p + (tokens[i] if i < len(tokens) else "") for i, p in enumerate(pieces))
    parsed = _package(ecosystem, flat)
    if isinstance(parsed, str):
        return parsed
    name, version = parsed
    for token, ref in zip(tokens, refs, strict=True):
        name = name.replace(token, ref)
    if version is not None and any(token in version for token in tokens):
        version = None
    return name, version
