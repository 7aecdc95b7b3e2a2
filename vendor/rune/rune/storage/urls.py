"""The one place that decides which database RUNE uses, and how URLs are shown.

Why a single resolver: upstream grew four competing environment variables and two
disagreeing rules for ``sqlite:///x``. Everything here (CLI, API, tests) goes through
:func:`resolve_url` and :func:`parse_url`, so the precedence and the path rules below are the
whole contract:

Precedence (first non-blank wins): the explicit argument, ``RUNE_DB_URL``,
``RUNE_API_DB_PATH`` (a plain file path, kept from the released docs), then the default
``.rune-api/jobs.db`` relative to the working directory. An environment variable never
overrides an explicit argument.

SQLite URL forms (the path part is percent-decoded):

* ``sqlite:///:memory:`` or ``sqlite://`` -- a private in-memory database.
* ``sqlite:///var/lib/rune/jobs.db`` -- **absolute** ``/var/lib/rune/jobs.db``. This follows
  the operations page and ``file:`` URL reading (empty host, absolute path). It differs from
  SQLAlchemy, where three slashes mean relative.
* ``sqlite:////var/lib/rune/jobs.db`` -- also absolute (SQLAlchemy's spelling is accepted).
* ``sqlite:///./data/jobs.db`` and ``sqlite:///../jobs.db`` -- relative to the working
  directory; a relative path must start with ``./`` or ``../``.
* No host, query string or fragment; ``~`` is not expanded.

PostgreSQL URL forms: ``postgresql://`` or ``postgres://``, optionally with ``+psycopg``.
``${NAME}`` anywhere in a URL is replaced by the environment variable ``NAME`` (an unset
name is an error that names it). A value substituted into the user or password is taken
literally and percent-encoded by us; literal user info must already be percent-encoded.

Secrets: :func:`mask_url` replaces the password (and a ``password=`` query parameter) with
``***``; every expanded password is also registered with :func:`redact`, which scrubs it
from any text the CLI, the API or the logs print.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote

from rune.storage.errors import ConfigurationError

DEFAULT_DB_PATH = ".rune-api/jobs.db"
ENV_DB_URL = "RUNE_DB_URL"
ENV_DB_PATH = "RUNE_API_DB_PATH"

SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgres+psycopg")
SUPPORTED_SCHEMES = SQLITE_SCHEMES + POSTGRES_SCHEMES

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):(.*)$", re.DOTALL)
_VAR_RE = re.compile(r"\$\{([^}]*)\}")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_QUERY_PASSWORD_RE = re.compile(r"(?i)([?&]password=)[^&#]*")
_MASK = "***"
# Shorter secrets would turn redaction into noise (every "a" replaced); mask_url still
# removes them from URLs, which is where they occur.
_MIN_REDACT_LEN = 4

_secrets_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Remember ``value`` (and its percent-encoded form) so :func:`redact` removes it."""
    if len(value) < _MIN_REDACT_LEN:
        return
    with _secrets_lock:
        _secrets.add(value)
        _secrets.add(quote(value, safe=""))


def redact(text: str) -> str:
    """Replace every registered secret in ``text`` with ``***``.

    A safety net under :func:`mask_url`: driver or OS messages can quote a connection
    string in forms we do not parse, so known secret values are scrubbed textually too.
    """
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, _MASK)
    return text


def mask_url(url: str) -> str:
    """Return ``url`` with its password replaced by ``***``; safe for any input.

    The user info is taken to end at the *last* ``@`` so that an unencoded ``@`` or ``/``
    inside a password still ends up masked; a malformed URL may therefore be over-masked,
    never under-masked.
    """
    match = _SCHEME_RE.match(url)
    if match is None:
        return redact(url)
    scheme, rest = match.group(1), match.group(2)
    prefix = scheme + ":"
    if rest.startswith("//"):
        prefix += "//"
        rest = rest[2:]
    at = rest.rfind("@")
    if at >= 0:
        userinfo = rest[:at]
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":" + _MASK
        rest = userinfo + rest[at:]
    rest = _QUERY_PASSWORD_RE.sub(lambda m: m.group(1) + _MASK, rest)
    return redact(prefix + rest)


@dataclass(frozen=True)
class ResolvedUrl:
    """A database URL and where it came from (for ``rune db status``)."""

    url: str
    source: str

    def __repr__(self) -> str:
        return f"ResolvedUrl(url={mask_url(self.url)!r}, source={self.source!r})"


def path_to_url(path: str) -> str:
    """Turn a plain file path (``RUNE_API_DB_PATH`` style) into a sqlite URL."""
    if path == ":memory:":
        return "sqlite:///:memory:"
    if "://" in path:
        raise ConfigurationError(
            f"{ENV_DB_PATH} takes a file path, not a URL ({mask_url(path)}); "
            f"put URLs in {ENV_DB_URL}"
        )
    quoted = quote(path, safe="/")
    if path.startswith("/"):
        return "sqlite://" + quoted
    if path.startswith(("./", "../")):
        return "sqlite:///" + quoted
    return "sqlite:///./" + quoted


def resolve_url(explicit: str | None = None, env: Mapping[str, str] | None = None) -> ResolvedUrl:
    """Pick the database URL: argument, ``RUNE_DB_URL``, ``RUNE_API_DB_PATH``, default.

    Blank values count as unset, so ``RUNE_DB_URL=`` in a compose file falls through.
    """
    environ = os.environ if env is None else env
    if explicit is not None and explicit.strip():
        return ResolvedUrl(explicit.strip(), "argument")
    value = environ.get(ENV_DB_URL, "").strip()
    if value:
        return ResolvedUrl(value, ENV_DB_URL)
    value = environ.get(ENV_DB_PATH, "").strip()
    if value:
        return ResolvedUrl(path_to_url(value), ENV_DB_PATH)
    return ResolvedUrl(path_to_url(DEFAULT_DB_PATH), "default")


def _expand(text: str, environ: Mapping[str, str], original: str) -> str:
    """Replace ``${NAME}`` with the environment value; unset names are errors."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if not _NAME_RE.match(name):
            raise ConfigurationError(
                f"invalid variable reference ${{{name}}} in database URL {mask_url(original)}"
            )
        if name not in environ:
            raise ConfigurationError(
                f"environment variable {name} referenced in the database URL is not set "
                f"(URL: {mask_url(original)})"
            )
        return environ[name]

    expanded = _VAR_RE.sub(sub, text)
    if "${" in _VAR_RE.sub("", text):
        raise ConfigurationError(f"unterminated '${{' in database URL {mask_url(original)}")
    return expanded


def _expand_userinfo_part(text: str, environ: Mapping[str, str], original: str) -> str:
    """Decode literal text, insert variable values verbatim (they are encoded later)."""
    out: list[str] = []
    pos = 0
    for match in _VAR_RE.finditer(text):
        out.append(unquote(text[pos : match.start()]))
        out.append(_expand(match.group(0), environ, original))
        pos = match.end()
    tail = text[pos:]
    if "${" in tail:
        raise ConfigurationError(f"unterminated '${{' in database URL {mask_url(original)}")
    out.append(unquote(tail))
    return "".join(out)


@dataclass(frozen=True)
class SqliteTarget:
    """A parsed SQLite URL; ``path`` is absolute, or None for an in-memory database."""

    url: str
    path: Path | None

    backend = "sqlite"

    @property
    def memory(self) -> bool:
        return self.path is None

    @property
    def masked(self) -> str:
        return mask_url(self.url)


@dataclass(frozen=True)
class PostgresTarget:
    """A parsed PostgreSQL URL. ``conninfo`` holds the secret; ``repr`` never shows it."""

    url: str = field(repr=False)
    conninfo: str = field(repr=False)
    user: str
    host: str
    dbname: str

    backend = "postgresql"

    @property
    def masked(self) -> str:
        return mask_url(self.conninfo)


Target = SqliteTarget | PostgresTarget


def parse_url(url: str, env: Mapping[str, str] | None = None) -> Target:
    """Parse a database URL into a target; errors never contain the password."""
    environ = os.environ if env is None else env
    match = _SCHEME_RE.match(url.strip())
    if match is None:
        raise ConfigurationError(
            f"malformed database URL {mask_url(url)}: expected scheme://...; "
            f"supported schemes: {', '.join(SUPPORTED_SCHEMES)}"
        )
    scheme = match.group(1).lower()
    if scheme in SQLITE_SCHEMES:
        return _parse_sqlite(url.strip(), match.group(2), environ)
    if scheme in POSTGRES_SCHEMES:
        return _parse_postgres(url.strip(), match.group(2), environ)
    raise ConfigurationError(
        f"unsupported database URL scheme {scheme!r}; "
        f"supported schemes: {', '.join(SUPPORTED_SCHEMES)}"
    )


def _parse_sqlite(url: str, rest: str, environ: Mapping[str, str]) -> SqliteTarget:
    rest = _expand(rest, environ, url)
    if not rest.startswith("//"):
        raise ConfigurationError(
            f"malformed sqlite URL {mask_url(url)}: write sqlite:///absolute/path, "
            "sqlite:///./relative/path or sqlite:///:memory:"
        )
    rest = rest[2:]
    if "?" in rest or "#" in rest:
        raise ConfigurationError(
            f"sqlite URL {mask_url(url)} must not have a query string or fragment "
            "(percent-encode '?' and '#' in file names)"
        )
    slash = rest.find("/")
    host, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    if host:
        raise ConfigurationError(
            f"sqlite URL {mask_url(url)} must not name a host; write sqlite:///path"
        )
    decoded = unquote(path)
    if "\x00" in decoded:
        raise ConfigurationError("sqlite URL path contains a NUL byte")
    if decoded in ("", "/:memory:"):
        return SqliteTarget("sqlite:///:memory:", None)
    if decoded.startswith(("/./", "/../")):
        resolved = Path(os.path.abspath(decoded[1:]))
    elif decoded.strip("/") and decoded.startswith("/"):
        resolved = Path("/" + decoded.lstrip("/"))
    else:
        raise ConfigurationError(f"sqlite URL {mask_url(url)} has no file path")
    if decoded.endswith("/"):
        raise ConfigurationError(f"sqlite URL {mask_url(url)} names a directory, not a file")
    return SqliteTarget("sqlite://" + quote(str(resolved), safe="/"), resolved)


def _parse_postgres(url: str, rest: str, environ: Mapping[str, str]) -> PostgresTarget:
    if not rest.startswith("//"):
        raise ConfigurationError(
            f"malformed PostgreSQL URL {mask_url(url)}: expected postgresql://user@host/db"
        )
    rest = rest[2:]
    if "#" in rest:
        raise ConfigurationError(f"PostgreSQL URL {mask_url(url)} must not have a fragment")
    end = len(rest)
    for sep in ("/", "?"):
        idx = rest.find(sep)
        if 0 <= idx < end:
            end = idx
    authority, tail = rest[:end], rest[end:]
    if "@" in tail.split("?", 1)[0]:
        raise ConfigurationError(
            f"malformed PostgreSQL URL {mask_url(url)}: '/' or '?' in the user info must "
            "be percent-encoded (or use ${NAME} for the password)"
        )
    user = password = ""
    has_password = False
    hostport = authority
    if "@" in authority:
        userinfo, hostport = authority.rsplit("@", 1)
        raw_user, sep, raw_password = userinfo.partition(":")
        has_password = bool(sep)
        user = _expand_userinfo_part(raw_user, environ, url)
        password = _expand_userinfo_part(raw_password, environ, url)
        if password:
            register_secret(password)
    hostport = _expand(hostport, environ, url)
    host = _check_hosts(hostport, url)
    path, _, query = tail.partition("?")
    path = _expand(path, environ, url)
    query = _expand(query, environ, url)
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.lower() == "password" and value:
            register_secret(value)
    dbname = unquote(path[1:]) if path.startswith("/") else ""
    if "/" in dbname:
        raise ConfigurationError(f"malformed PostgreSQL URL {mask_url(url)}: bad database name")
    conninfo = "postgresql://"
    if user or has_password:
        conninfo += quote(user, safe="")
        if has_password:
            conninfo += ":" + quote(password, safe="")
        conninfo += "@"
    conninfo += hostport + path + ("?" + query if query else "")
    return PostgresTarget(url=url, conninfo=conninfo, user=user, host=host, dbname=dbname)


def _check_hosts(hostport: str, url: str) -> str:
    """Validate ``host[:port]`` (comma-separated for libpq multi-host); return the first host."""
    first = ""
    for item in hostport.split(",") if hostport else []:
        host, port = item, ""
        if item.startswith("["):
            close = item.find("]")
            if close < 0:
                raise ConfigurationError(f"malformed PostgreSQL URL {mask_url(url)}: bad IPv6 host")
            host, port = item[: close + 1], item[close + 1 :].removeprefix(":")
        elif ":" in item:
            host, port = item.rsplit(":", 1)
        if port and (not port.isdigit() or not 0 < int(port) < 65536):
            raise ConfigurationError(
                f"malformed PostgreSQL URL {mask_url(url)}: port must be a number 1-65535"
            )
        first = first or host
    return first
