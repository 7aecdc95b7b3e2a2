"""Opening PostgreSQL connections, and saying in one line why one could not be opened.

Why a module of its own: the adapter, ``rune db`` and ``rune db migrate-to-postgres`` all
connect the same way and must fail the same way. Upstream waited 30 s in
``pool.wait()`` and then crashed with a traceback, so an API started next to its
database (compose, Kubernetes) crash-looped until the database was up; and its messages
could carry the URL with the password.

Here :func:`connect` retries what time can fix (the server is not listening yet, is
starting up, has no free connection slot, the DNS server does not answer) with backoff
until ``timeout`` seconds have passed, and fails at once on what it cannot (wrong
password, unknown role or database, a host name that does not exist, TLS required but
not offered). Every error becomes a
:class:`StorageError` whose text names the problem, shows the URL masked and passes the
driver's words through :func:`redact`.

libpq reports connection failures as text only (no SQLSTATE reaches the client before
the session exists), so those are recognised by libpq's and the server's English
messages; errors raised during a session are recognised by their SQLSTATE class.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rune.storage.errors import (
    BackendUnavailableError,
    ConfigurationError,
    DatabaseBusyError,
    StorageError,
)
from rune.storage.urls import PostgresTarget, redact

if TYPE_CHECKING:
    import psycopg

DEFAULT_CONNECT_TIMEOUT = 10.0
ENV_CONNECT_TIMEOUT = "RUNE_DB_CONNECT_TIMEOUT"
INSTALL_HINT = "install rune with the pg extra: pip install 'rune[pg]'"
# libpq (and psycopg, which mimics it) never waits less than this for one attempt.
_LIBPQ_MIN_ATTEMPT_TIMEOUT = 2
_FIRST_BACKOFF = 0.1
_MAX_BACKOFF = 2.0

# Kinds of failure; the ones in _RETRYABLE can go away by themselves.
AUTH = "auth"
HBA = "hba"
ROLE = "role"
DATABASE = "database"
SSL = "ssl"
REFUSED = "refused"
DNS = "dns"
DNS_AGAIN = "dns_again"
UNREACHABLE = "unreachable"
TIMEOUT = "timeout"
STARTING = "starting"
TOO_MANY = "too_many"
LOST = "lost"
READ_ONLY = "read_only"
DISK_FULL = "disk_full"
BUSY = "busy"
PERMISSION = "permission"
BAD_PARAM = "bad_param"
OTHER = "other"
_RETRYABLE = frozenset({REFUSED, DNS_AGAIN, UNREACHABLE, TIMEOUT, STARTING, TOO_MANY, LOST})

# SQLSTATE → kind, for errors that carry one (errors inside a session).
_SQLSTATE_KINDS: dict[str, str] = {
    "28P01": AUTH,  # invalid_password
    "28000": HBA,  # invalid_authorization_specification
    "3D000": DATABASE,  # invalid_catalog_name
    "25006": READ_ONLY,  # read_only_sql_transaction
    "53100": DISK_FULL,  # disk_full
    "40001": BUSY,  # serialization_failure
    "40P01": BUSY,  # deadlock_detected
    "55P03": BUSY,  # lock_not_available
    "53300": TOO_MANY,  # too_many_connections
    "57P03": STARTING,  # cannot_connect_now
    "57P01": LOST,  # admin_shutdown
    "57P02": LOST,  # crash_shutdown
    "08006": LOST,  # connection_failure
    "57014": TIMEOUT,  # query_canceled (statement_timeout)
    "42501": PERMISSION,  # insufficient_privilege
}
# Message fragments (libpq and server, English) → kind, for connection failures.
_TEXT_KINDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind)
    for pattern, kind in (
        (
            r"password authentication failed|no password supplied|"
            r"SCRAM authentication|authentication failed",
            AUTH,
        ),
        (
            r'invalid [\w ]+ value|invalid connection option|invalid URI|missing "=" after|'
            r"unrecognized (value|option)",
            BAD_PARAM,
        ),
        (r"no pg_hba\.conf entry|pg_hba\.conf rejects", HBA),
        (r'role "[^"]*" does not exist', ROLE),
        (r'database "[^"]*" does not exist', DATABASE),
        (r"server does not support SSL|SSL was required|SSL is not enabled", SSL),
        (r"connection refused", REFUSED),
        # EAI_AGAIN (the resolver is unreachable) passes; an unknown name is a typo.
        (r"temporary failure in name resolution", DNS_AGAIN),
        (
            r"could not translate host name|failed to resolve host|name or service not known|"
            r"nodename nor servname|no address associated",
            DNS,
        ),
        (r"no route to host|network is unreachable|host is unreachable", UNREACHABLE),
        (r"timeout expired|timed out", TIMEOUT),
        (
            r"the database system is (starting up|shutting down|in recovery mode|"
            r"not yet accepting connections|not accepting connections)",
            STARTING,
        ),
        (
            r"too many clients|remaining connection slots are reserved|"
            r"too many connections",
            TOO_MANY,
        ),
        (r"read-only transaction", READ_ONLY),
        (r"no space left on device|could not extend file", DISK_FULL),
        (r"deadlock detected|could not serialize access", BUSY),
        (r"permission denied", PERMISSION),
        (
            r"server closed the connection unexpectedly|connection reset|broken pipe|"
            r"could not receive data from server|could not send data to server|"
            r"consuming input failed|the connection is closed|terminating connection",
            LOST,
        ),
    )
)
_DETAIL_PREFIX_RE = re.compile(
    r'^(connection failed:\s*)?(connection to server at "[^"]*"(\s*\([^)]*\))?, '
    r"port \d+ failed:\s*)?(FATAL:\s*)?",
    re.IGNORECASE,
)


def require_psycopg() -> None:
    """Fail with an install hint when the PostgreSQL driver is not installed."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailableError(
            f"PostgreSQL support needs the psycopg driver, which is not installed "
            f"({exc}); {INSTALL_HINT}"
        ) from exc


def connect_timeout_from_env(env: Mapping[str, str]) -> float:
    """``RUNE_DB_CONNECT_TIMEOUT`` in seconds, or the default when unset or blank."""
    raw = env.get(ENV_CONNECT_TIMEOUT, "").strip()
    if not raw:
        return DEFAULT_CONNECT_TIMEOUT
    return parse_connect_timeout(raw, ENV_CONNECT_TIMEOUT)


def parse_connect_timeout(raw: str, name: str) -> float:
    """A positive, finite number of seconds; anything else names ``name`` in the error."""
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ConfigurationError(
            f"{name} must be a positive number of seconds, got {redact(raw)!r}"
        )
    return value


def classify_pg_error(exc: BaseException) -> str:
    """The kind of failure (one of this module's constants); ``OTHER`` when unknown."""
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate in _SQLSTATE_KINDS:
        return _SQLSTATE_KINDS[sqlstate]
    try:
        import psycopg
    except ImportError:  # pragma: no cover - without the driver nothing raises its errors
        psycopg = None  # type: ignore[assignment]
    if psycopg is not None and isinstance(exc, psycopg.errors.ConnectionTimeout):
        return TIMEOUT
    text = str(exc)
    for pattern, kind in _TEXT_KINDS:
        if pattern.search(text):
            return kind
    if psycopg is not None and isinstance(exc, psycopg.errors.DiskFull):
        return DISK_FULL  # pragma: no cover - covered by the SQLSTATE table
    return OTHER


def is_retryable(exc: BaseException) -> bool:
    """True when waiting could make the same connection attempt succeed."""
    return classify_pg_error(exc) in _RETRYABLE


def _detail(exc: BaseException) -> str:
    """The driver's text on one line, without libpq's 'connection to server' preamble."""
    lines = (" ".join(line.split()) for line in str(exc).splitlines())
    text = "; ".join(line for line in lines if line)
    text = _DETAIL_PREFIX_RE.sub("", text, count=1)
    return redact(text or type(exc).__name__)


def _endpoint(exc: BaseException, target: PostgresTarget) -> tuple[str, str, str, str]:
    """``(host, port, user, dbname)`` as libpq used them, else as the URL gives them."""
    host, port, user, dbname = target.host, "", target.user, target.dbname
    try:
        from psycopg.conninfo import conninfo_to_dict

        params = conninfo_to_dict(target.conninfo)
        host = str(params.get("host") or host)
        port = str(params.get("port") or "")
        user = str(params.get("user") or user)
        dbname = str(params.get("dbname") or dbname)
    except Exception:  # noqa: S110 - best effort: the URL was validated already
        pass
    pgconn = getattr(exc, "pgconn", None)
    if pgconn is not None:
        for attr in ("host", "port", "user", "db"):
            raw = getattr(pgconn, attr, b"")
            value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
            if not value:
                continue
            if attr == "host":
                host = value
            elif attr == "port":
                port = value
            elif attr == "user":
                user = value
            else:
                dbname = value
    return host or "localhost", port or "5432", user, dbname


# kind -> (error class, message). One table instead of one ``if`` per kind, so that every
# message is written the same way and a new kind is one entry. The fields are filled by
# describe_pg_error (str.format reads the template only, so braces in the URL or the
# driver's text are harmless).
_MESSAGES: dict[str, tuple[type[StorageError], str]] = {
    AUTH: (
        ConfigurationError,
        "{connect}: password authentication failed for user {user}; check the password in "
        "the database URL (or the secret it comes from) ({detail})",
    ),
    HBA: (
        ConfigurationError,
        "{connect}: the server's pg_hba.conf does not allow user {user} to connect from this "
        "host to database {dbname!r} ({detail})",
    ),
    ROLE: (
        ConfigurationError,
        "{connect}: role {user} does not exist on the server; create it or fix the user in "
        "the database URL ({detail})",
    ),
    DATABASE: (
        ConfigurationError,
        "{connect}: database {dbname!r} does not exist on {host} port {port}; create it "
        "(createdb) or fix the database name in the URL ({detail})",
    ),
    SSL: (
        ConfigurationError,
        "{connect}: the server does not support SSL, but SSL was required by the sslmode in "
        "the URL; enable TLS on the server or change sslmode ({detail})",
    ),
    BAD_PARAM: (
        ConfigurationError,
        "{connect}: the URL has an invalid connection parameter ({detail})",
    ),
    REFUSED: (
        StorageError,
        "{connect}: connection refused by {host} port {port}; is PostgreSQL running and "
        "listening on that address and port? ({detail})",
    ),
    DNS: (
        StorageError,
        "{connect}: host name {host!r} cannot be resolved (no such host); check the host in "
        "the URL ({detail})",
    ),
    DNS_AGAIN: (
        StorageError,
        "{connect}: host name {host!r} cannot be resolved right now (temporary DNS failure) "
        "({detail})",
    ),
    UNREACHABLE: (
        StorageError,
        "{connect}: host {host} port {port} is unreachable from here; check the address, "
        "routes and firewalls ({detail})",
    ),
    TIMEOUT: (
        StorageError,
        "{connect}: no answer from {host} port {port} in time (the host may be down, or a "
        "firewall drops the packets) ({detail})",
    ),
    STARTING: (StorageError, "{at} is not accepting connections yet ({detail})"),
    TOO_MANY: (
        StorageError,
        "{at} has no free connection slot (too many clients); lower RUNE_PG_POOL_MAX on the "
        "replicas or raise max_connections on the server ({detail})",
    ),
    READ_ONLY: (
        StorageError,
        "{at} accepts only reads (a standby, or default_transaction_read_only is on); point "
        "the URL at the primary ({detail})",
    ),
    DISK_FULL: (StorageError, "disk full: {at} cannot write ({detail})"),
    BUSY: (
        DatabaseBusyError,
        "{at}: the transaction was aborted because of a concurrent one (serialization "
        "failure, deadlock or lock timeout); retry ({detail})",
    ),
    PERMISSION: (
        StorageError,
        "{at}: permission denied for user {user}; grant it the privileges rune needs (it "
        "creates its tables when it migrates) ({detail})",
    ),
    LOST: (StorageError, "lost the connection to {at} ({detail})"),
    OTHER: (StorageError, "PostgreSQL error on {where}: {detail}"),
}


def describe_pg_error(exc: BaseException, target: PostgresTarget) -> StorageError:
    """Turn a driver (or pool) error into a one-line, password-free StorageError."""
    error_class, template = _MESSAGES.get(classify_pg_error(exc), _MESSAGES[OTHER])
    where = target.masked
    host, port, user, dbname = _endpoint(exc, target)
    at = f"PostgreSQL at {where}"
    return error_class(
        template.format(
            where=where,
            at=at,
            connect=f"cannot connect to {at}",
            host=host,
            port=port,
            user=repr(user) if user else "(the default user)",
            dbname=dbname,
            detail=_detail(exc),
        )
    )


def connect(
    target: PostgresTarget,
    *,
    timeout: float = DEFAULT_CONNECT_TIMEOUT,
    autocommit: bool = False,
    application_name: str = "rune",
) -> psycopg.Connection[Any]:
    """Open one connection, waiting up to ``timeout`` s for a server that is not up yet.

    One attempt never waits less than libpq's 2 s minimum, so a silent host can make
    the whole call last up to that much longer than ``timeout``.
    """
    require_psycopg()
    import psycopg

    start = time.monotonic()
    deadline = start + timeout
    backoff = _FIRST_BACKOFF
    attempts = 0
    while True:
        attempts += 1
        remaining = deadline - time.monotonic()
        attempt_timeout = max(_LIBPQ_MIN_ATTEMPT_TIMEOUT, math.ceil(remaining))
        try:
            return psycopg.connect(
                target.conninfo,
                autocommit=autocommit,
                application_name=application_name,
                connect_timeout=attempt_timeout,
            )
        except psycopg.Error as exc:
            error = describe_pg_error(exc, target)
            if not is_retryable(exc):
                raise error from exc
            now = time.monotonic()
            if now >= deadline:
                raise type(error)(
                    f"{error}; gave up after {now - start:.1f} s and {attempts} attempt(s) "
                    f"(connect timeout {timeout:g} s, set by {ENV_CONNECT_TIMEOUT} or "
                    "--connect-timeout)"
                ) from exc
            # The last sleep ends at the deadline, so the last attempt is made right then.
            time.sleep(min(backoff, deadline - now))
            backoff = min(backoff * 2, _MAX_BACKOFF)
