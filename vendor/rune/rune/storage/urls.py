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
name is an error that names it). A value substituted into the user or password (or into a
``password``/``sslpassword`` query parameter) is taken literally and percent-encoded by us;
literal user info and query values must already be percent-encoded.

Secrets: :func:`mask_url` replaces with ``***`` every part of a connection string that
libpq would read as a password: the password in the user info, the ``password`` and
``sslpassword`` query parameters (key names compared case-insensitively and after
percent-decoding, as libpq decodes them), and ``password``/``sslpassword`` in libpq
keyword/value form (``host=db password='a b'``), which operators paste where a URL is
expected. Every password found while parsing is also registered with :func:`redact`,
which scrubs it from any text the CLI, the API or the logs print (driver messages can
quote a value in forms we do not parse).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

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
# libpq parameters whose value is a secret (``sslpassword`` unlocks the client key).
SECRET_PARAMS = frozenset({"password", "sslpassword"})
# A query parameter: the key, then the value up to the next ``&`` that starts another
# ``key=`` pair. A stray ``&`` without ``=`` (an unencoded ``&`` inside a password) is
# taken as part of the value, so the mask covers the whole password.
_QUERY_PARAM_RE = re.compile(r"(?<=[?&])([^&=?#]*)=((?:[^&]|&(?![^&=]*=))*)")
# A keyword/value pair as libpq's conninfo_parse reads it: a name, optional blanks, ``=``,
# optional blanks. The name must start the text or follow a blank (or a quote or bracket,
# when a message quotes a connection string), so ``?password=`` in a URL is left to
# _QUERY_PARAM_RE.
_KEYWORD_RE = re.compile(r"(?:^|(?<=[\s'\"(\[{,;]))([A-Za-z_][A-Za-z0-9_]*)\s*=\s*")
# A URL inside other text: ``scheme://user:password@``, the password up to the last ``@``
# before a blank.
_EMBEDDED_URL_RE = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*:(\S*)@")
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


def _keyword_value_end(text: str, start: int) -> int:
    """End of the libpq keyword value starting at ``start`` (quoting and escapes as libpq).

    A value in single quotes runs to the next unescaped quote; an unquoted one to the next
    blank; a backslash escapes the next character in both. A double quote (not libpq
    syntax, but common in pasted text) is treated like a single one so that the words after
    a blank inside it stay masked too. An unterminated quote runs to the end of the text.
    """
    end = len(text)
    if start >= end:
        return end
    quote_char = text[start] if text[start] in "'\"" else ""
    pos = start + 1 if quote_char else start
    while pos < end:
        char = text[pos]
        if char == "\\":
            pos += 2
        elif quote_char and char == quote_char:
            return pos + 1
        elif not quote_char and char.isspace():
            return pos
        else:
            pos += 1
    return end


def _unescape_keyword_value(raw: str) -> str:
    """The value libpq would use for a raw keyword value (quotes and backslashes removed)."""
    if raw[:1] in ("'", '"'):
        raw = raw[1:-1] if len(raw) > 1 and raw[-1] == raw[0] else raw[1:]
    return re.sub(r"\\(.)", r"\1", raw, flags=re.DOTALL)


def _keyword_secret_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every password value in libpq keyword/value form in ``text``."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while True:
        match = _KEYWORD_RE.search(text, pos)
        if match is None:
            return spans
        if match.group(1).lower() not in SECRET_PARAMS:
            pos = match.end()
            continue
        start = match.end()
        end = _keyword_value_end(text, start)
        spans.append((start, end))
        pos = max(end, start + 1)


def _query_secret_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every ``password``/``sslpassword`` query value in ``text``.

    libpq percent-decodes query keys, so ``ssl%70assword`` is ``sslpassword``; keys are
    compared case-insensitively (libpq rejects other spellings, but masking more is safe).
    """
    return [
        match.span(2)
        for match in _QUERY_PARAM_RE.finditer(text)
        if unquote(match.group(1)).strip().lower() in SECRET_PARAMS
    ]


def _apply_mask(text: str, spans: list[tuple[int, int]]) -> str:
    """Replace the union of ``spans`` with ``***`` (overlapping spans become one mask)."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[str] = []
    pos = 0
    for start, end in merged:
        out.append(text[pos:start])
        out.append(_MASK)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def mask_keyword_dsn(text: str) -> str:
    """Mask ``password``/``sslpassword`` values of a libpq keyword/value connection string."""
    return _apply_mask(text, _keyword_secret_spans(text))


def keyword_dsn_secrets(text: str) -> list[str]:
    """The password values in libpq keyword/value form in ``text``, as libpq would read them."""
    return [_unescape_keyword_value(text[s:e]) for s, e in _keyword_secret_spans(text)]


def _userinfo_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the password in the user info of URLs in ``text``.

    When ``text`` is one URL, its user info is taken to end at the *last* ``@`` so that an
    unencoded ``@``, ``/`` or ``?`` inside a password still ends up masked. A URL inside
    other text (an exception message) ends at the first blank.
    """
    spans: list[tuple[int, int]] = []
    match = _SCHEME_RE.match(text)
    if match is not None:
        start = match.start(2)
        if text.startswith("//", start):
            start += 2
        at = text.rfind("@", start)
        colon = text.find(":", start, at) if at >= 0 else -1
        if colon >= 0:
            spans.append((colon + 1, at))
    for embedded in _EMBEDDED_URL_RE.finditer(text):
        spans.append(embedded.span(1))
    return spans


def mask_url(url: str) -> str:
    """Return ``url`` with every password replaced by ``***``; safe for any input.

    A malformed URL may be over-masked, never under-masked. The user-info, query and
    keyword spans are all found on the original text and masked together, so no rule can
    hide a secret from another (a ``@`` inside a query password, a ``?password=`` inside the
    user info). Text that is not a URL at all (a libpq keyword/value DSN given where a URL
    was expected, an error message quoting one) is masked by the same rules.
    """
    # Structure first, registered secrets after: replacing a secret before parsing could
    # remove the quote that makes the rest of a keyword value part of it.
    spans = _userinfo_spans(url) + _query_secret_spans(url) + _keyword_secret_spans(url)
    return redact(_apply_mask(url, spans))


def mask_secrets(text: str) -> str:
    """``text`` -- a log line, a traceback -- with every password it quotes as ``***``.

    For free text that may quote a connection string somewhere inside: the passwords of
    the URLs in it, ``password``/``sslpassword`` query and keyword values, then every
    registered secret. Unlike :func:`mask_url` it does not read the whole text as one URL:
    that rule would mask a log line such as ``host:42:ab12: started on postgresql://...``
    from its first colon to the URL's ``@``.
    """
    spans = [match.span(1) for match in _EMBEDDED_URL_RE.finditer(text)]
    spans += _query_secret_spans(text) + _keyword_secret_spans(text)
    return redact(_apply_mask(text, spans))


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


def _expand_query_param(param: str, environ: Mapping[str, str], original: str) -> str:
    """Expand one ``key=value`` query parameter of a PostgreSQL URL.

    A password (``password``, ``sslpassword``) is taken literally, as in the user info: what
    a variable inserts there is percent-encoded, so an ``&``, ``%`` or ``+`` in the secret
    reaches libpq unchanged instead of splitting the query or being decoded. Elsewhere
    variables are inserted verbatim (``?options=${PGOPTIONS}`` keeps working).
    """
    key, sep, value = param.partition("=")
    if not sep or unquote(key).strip().lower() not in SECRET_PARAMS:
        return _expand(param, environ, original)
    out: list[str] = []
    pos = 0
    for match in _VAR_RE.finditer(value):
        out.append(value[pos : match.start()])
        out.append(quote(_expand(match.group(0), environ, original), safe=""))
        pos = match.end()
    tail = value[pos:]
    if "${" in tail:
        raise ConfigurationError(f"unterminated '${{' in database URL {mask_url(original)}")
    return key + "=" + "".join(out) + tail


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
        secrets = keyword_dsn_secrets(url)
        for secret in secrets:
            register_secret(secret)
        hint = ""
        if secrets or _KEYWORD_RE.match(url.strip()):
            hint = (
                " (this looks like a libpq key=value connection string; write it as "
                "postgresql://user:password@host:port/dbname?param=value)"
            )
        raise ConfigurationError(
            f"malformed database URL {mask_url(url)}: expected scheme://...{hint}; "
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
            register_secret(_expand(raw_password, environ, url))  # as written, encoded
    hostport = _expand(hostport, environ, url)
    host = _check_hosts(hostport, url)
    path, _, query = tail.partition("?")
    path = _expand(path, environ, url)
    query = "&".join(_expand_query_param(part, environ, url) for part in query.split("&"))
    for segment in query.split("&"):
        if segment and "=" not in segment:
            # libpq would refuse it and quote the segment, which may be part of a password
            # whose "&" was not percent-encoded.
            raise ConfigurationError(
                f"malformed PostgreSQL URL {mask_url(url)}: every query parameter must be "
                "key=value (percent-encode '&' inside a value)"
            )
    for match in _QUERY_PARAM_RE.finditer("?" + query):
        # Not parse_qsl: it turns "+" into a blank, which libpq does not.
        if unquote(match.group(1)).strip().lower() in SECRET_PARAMS and match.group(2):
            register_secret(match.group(2))
            register_secret(unquote(match.group(2)))
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
