"""Which index to ask: the user's installer configuration, resolved as pip and npm resolve it.

A company mirror must just work, and no registry URL may be written into
this repository, so every URL comes from the user's side:

PyPI, first found wins:

1. the ``index_url`` argument (``--index-url``);
2. ``PIP_INDEX_URL``;
3. ``UV_DEFAULT_INDEX``, then the older ``UV_INDEX_URL`` (uv's names; a
   ``name=url`` value is read as its URL);
4. ``index-url`` in pip's configuration files, merged as pip 23-25 merge them
   (``pip/_internal/configuration.py``): the global files
   (``$XDG_CONFIG_DIRS/pip/pip.conf``, default ``/etc/xdg/pip/pip.conf``,
   then ``/etc/pip.conf``), the user files (``~/.pip/pip.conf``, then
   ``$XDG_CONFIG_HOME/pip/pip.conf`` or ``~/.config/pip/pip.conf``; skipped
   when ``PIP_CONFIG_FILE`` names a file that exists), the site file
   (``$VIRTUAL_ENV/pip.conf``, else this interpreter's ``sys.prefix``), then
   ``PIP_CONFIG_FILE``; a later file overrides an earlier one, and
   ``[install]`` overrides ``[global]`` whichever file each is in (pip
   applies the command's section after the global one).
   ``PIP_CONFIG_FILE=/dev/null`` disables every file, as in pip;
5. pip's own built-in default, asked at run time from the pip this
   interpreter can import, else from the interpreter of the ``pip`` on PATH,
   else from ``python3`` on PATH.

``extra-index-url`` is not the index and is never asked: evidence comes from
one index, the one the installer treats as primary.

npm: the ``npm_registry`` argument (``--npm-registry``), then
``npm config get registry`` (which already merges ``.npmrc`` files and
``npm_config_registry``), run with a timeout.

Every URL is recorded with where it came from, for the report line
``index: https://user:***@mirror/simple (from PIP_INDEX_URL)``; credentials
are masked whenever a URL is printed. Only ``http`` and ``https`` indexes
are asked: a ``file://`` index (pip allows one) is refused with a message
saying to pass ``--index-url``, because a local folder of distributions holds
neither the PEP 691 pages nor the JSON API this resolver reads.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from checker.errors import UsageError
from checker.evidence.records import Ecosystem

__all__ = [
    "IndexConfig",
    "IndexSetting",
    "index_config",
    "mask_url",
    "pip_config_files",
    "pip_default_index",
    "strip_credentials",
]

#: How long ``npm config get registry`` and the pip default look-up may take.
SUBPROCESS_TIMEOUT = 15.0

_PIP_DEFAULT_CODE = (
    "import pip; from pip._internal.models.index import PyPI; "
    "print(pip.__version__, PyPI.simple_url)"
)
_NAMED_INDEX = re.compile(r"^[A-Za-z0-9._-]+=(?=[A-Za-z][A-Za-z0-9+.-]*:)")
_SECTIONS = ("global", "install")


def mask_url(url: str) -> str:
    """``url`` with its password (or lone token) replaced by ``***``, for printing."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, has_password, _ = userinfo.partition(":")
    shown = f"{user}:***" if has_password else "***"
    return urlunsplit(parts._replace(netloc=f"{shown}@{host}"))


def strip_credentials(url: str) -> str:
    """``url`` without any ``user:password@`` part: what an evidence record keeps."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


@dataclass(frozen=True, slots=True)
class IndexSetting:
    """One index URL (credentials included: it is asked with them) and where it came from."""

    url: str
    source: str

    @property
    def shown(self) -> str:
        """``URL (from SOURCE)`` with credentials masked: the report line's text."""
        return f"{mask_url(self.url)} (from {self.source})"


@dataclass(frozen=True, slots=True)
class IndexConfig:
    """The index of each ecosystem a run needs; an ecosystem not needed is left unresolved."""

    pypi: IndexSetting | None = None
    npm: IndexSetting | None = None

    def setting(self, ecosystem: Ecosystem) -> IndexSetting:
        found = self.pypi if ecosystem is Ecosystem.PYPI else self.npm
        if found is None:
            flag = "--index-url" if ecosystem is Ecosystem.PYPI else "--npm-registry"
            raise UsageError(f"no {ecosystem} index is configured for this run: pass {flag}")
        return found

    def lines(self) -> list[str]:
        """``index: URL (from SOURCE)`` for each resolved index, as the report prints them."""
        found = []
        if self.pypi is not None:
            found.append(f"index: {self.pypi.shown}")
        if self.npm is not None:
            found.append(f"npm registry: {self.npm.shown}")
        return found


def index_config(
    index_url: str | None = None,
    npm_registry: str | None = None,
    *,
    need: Collection[Ecosystem] = (Ecosystem.PYPI, Ecosystem.NPM),
    environ: Mapping[str, str] | None = None,
) -> IndexConfig:
    """Resolve the index of each ecosystem in ``need``; a UsageError says what to pass.

    An ecosystem that is not needed is not resolved, so a run without npm
    packages never needs npm installed.
    """
    env = os.environ if environ is None else environ
    pypi = _pypi(index_url, env) if Ecosystem.PYPI in need else None
    npm = _npm(npm_registry, env) if Ecosystem.NPM in need else None
    return IndexConfig(pypi=pypi, npm=npm)


def _checked(url: str, source: str, flag: str) -> IndexSetting:
    """An http(s) URL with a host, or a UsageError naming where the bad value came from."""
    url = url.strip()
    parts = urlsplit(url)
    shown = mask_url(url)
    if parts.scheme.lower() == "file":
        raise UsageError(
            f"the index {shown} (from {source}) is a file:// index; evidence resolve reads "
            f"the PEP 691 pages and JSON API of an http(s) index: pass {flag} URL"
        )
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"the index {shown!r} (from {source}) is not an http(s) URL: pass {flag} URL"
        )
    return IndexSetting(url, source)


# --------------------------------------------------------------------------- PyPI


def _pypi(explicit: str | None, env: Mapping[str, str]) -> IndexSetting:
    flag = "--index-url"
    if explicit:
        return _checked(explicit, flag, flag)
    for name in ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        value = env.get(name, "").strip()
        if value:
            if name == "UV_DEFAULT_INDEX":
                value = _NAMED_INDEX.sub("", value)
            return _checked(value, name, flag)
    configured = pip_config_index(env)
    if configured is not None:
        return _checked(*configured, flag)
    return _checked(*pip_default_index(env), flag)


def pip_config_files(env: Mapping[str, str]) -> list[Path]:
    """pip's configuration files in the order it loads them (a later one overrides)."""
    config_file = env.get("PIP_CONFIG_FILE")
    if config_file is not None and config_file == os.devnull:
        return []
    home = Path(env.get("HOME") or os.path.expanduser("~"))
    xdg_dirs = env.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    files = [Path(d, "pip", "pip.conf") for d in xdg_dirs.split(os.pathsep) if d]
    files.append(Path("/etc/pip.conf"))
    if not (config_file and os.path.exists(config_file)):
        config_home = env.get("XDG_CONFIG_HOME") or str(home / ".config")
        files += [home / ".pip" / "pip.conf", Path(config_home, "pip", "pip.conf")]
    files.append(Path(env.get("VIRTUAL_ENV") or sys.prefix, "pip.conf"))
    if config_file:
        files.append(Path(config_file))
    return files


def pip_config_index(env: Mapping[str, str]) -> tuple[str, str] | None:
    """``index-url`` from pip's configuration files and where it was set, or None."""
    return pip_config_value(env, "index-url")


def pip_config_cert(env: Mapping[str, str]) -> str | None:
    """The CA bundle pip is configured to trust (``cert``), as pip would use it.

    ``PIP_CERT`` outranks the files, as it does for pip; without either, the
    client falls back to ``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE``, then the
    system store (:func:`checker.registry.http.ca_bundle`).
    """
    explicit = env.get("PIP_CERT", "").strip()
    if explicit:
        return explicit
    found = pip_config_value(env, "cert")
    return found[0] if found else None


def pip_config_value(env: Mapping[str, str], wanted: str) -> tuple[str, str] | None:
    """One key of pip's configuration files and where it was set, or None.

    Later files override earlier ones, and ``[install]`` outranks
    ``[global]``, as pip reads them.
    """
    found: dict[str, tuple[str, str]] = {}
    for path in pip_config_files(env):
        if not path.is_file():
            continue
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError, OSError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise UsageError(
                f"pip configuration file {path} cannot be read ({reason}); fix it, or pass "
                "--index-url"
            ) from None
        for section in _SECTIONS:
            if not parser.has_section(section):
                continue
            for key, value in parser.items(section):
                # pip's own key normalization: lower case, "_" as "-", no leading "--"
                if key.lower().replace("_", "-").removeprefix("--") == wanted and value:
                    found[section] = (value.strip(), f"{path} [{section}] {wanted}")
    return found.get("install") or found.get("global")


def pip_default_index(
    env: Mapping[str, str],
    run: Callable[[list[str]], str | None] | None = None,
) -> tuple[str, str]:
    """pip's built-in default index, asked of an installed pip; UsageError if none is found."""
    ask = _run_python if run is None else run
    answer = _pip_in_process()
    if answer is None:
        for interpreter in _interpreters(env):
            answer = ask([interpreter, "-c", _PIP_DEFAULT_CODE])
            if answer is not None:
                answer = f"{answer} in {interpreter}"
                break
    if answer is None:
        raise UsageError(
            "no index is configured (no --index-url, PIP_INDEX_URL, UV_DEFAULT_INDEX, "
            "UV_INDEX_URL or index-url in a pip configuration file) and no pip was found "
            "to ask for its default: pass --index-url URL"
        )
    version, url, *where = answer.split(" ", 2)
    place = f" {where[0]}" if where else ""
    return url, f"pip {version}'s built-in default{place}"


def _pip_in_process() -> str | None:
    try:
        import pip
        from pip._internal.models.index import PyPI
    except Exception:  # an absent or broken pip: ask another interpreter
        return None
    url = getattr(PyPI, "simple_url", None)
    return f"{pip.__version__} {url}" if isinstance(url, str) and url else None


def _interpreters(env: Mapping[str, str]) -> list[str]:
    """The interpreter of the ``pip`` on PATH (its shebang), then ``python3`` on PATH."""
    found: list[str] = []
    path = env.get("PATH")
    pip = shutil.which("pip", path=path) or shutil.which("pip3", path=path)
    if pip is not None:
        try:
            with open(pip, "rb") as script:
                first = script.readline(512)
        except OSError:
            first = b""
        if first.startswith(b"#!"):
            words = first[2:].decode("utf-8", "replace").split()
            if words and os.path.isabs(words[0]) and not words[0].endswith("/env"):
                found.append(words[0])
    python = shutil.which("python3", path=path)
    if python is not None and python not in found:
        found.append(python)
    return found


def _run_python(command: list[str]) -> str | None:
    """The first line a command prints, or None if it fails or takes too long."""
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.strip().splitlines()
    return lines[0].strip() if done.returncode == 0 and lines else None


# --------------------------------------------------------------------------- npm


def _npm(explicit: str | None, env: Mapping[str, str]) -> IndexSetting:
    flag = "--npm-registry"
    if explicit:
        return _checked(explicit, flag, flag)
    npm = shutil.which("npm", path=env.get("PATH"))
    if npm is None:
        raise UsageError(
            "the lockfiles name npm packages, and npm is not on PATH to say which registry "
            "to ask: pass --npm-registry URL"
        )
    try:
        done = subprocess.run(
            [npm, "config", "get", "registry"],
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
            env=dict(env),
        )
    except subprocess.TimeoutExpired:
        raise UsageError(
            f"npm config get registry did not answer within {SUBPROCESS_TIMEOUT:.0f} s: "
            "pass --npm-registry URL"
        ) from None
    except OSError as exc:
        raise UsageError(
            f"npm config get registry cannot be run ({exc.strerror}): pass --npm-registry URL"
        ) from None
    value = done.stdout.strip().splitlines()[-1].strip() if done.stdout.strip() else ""
    if done.returncode != 0 or not value or value == "undefined":
        raise UsageError(
            "npm config get registry gave no registry"
            + (f" (exit {done.returncode})" if done.returncode else "")
            + ": pass --npm-registry URL"
        )
    return _checked(value, "npm config get registry", flag)
