"""The URL resolver, the URL rules and masking."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rune.storage import ConfigurationError, make_storage
from rune.storage.errors import StorageError
from rune.storage.urls import (
    PostgresTarget,
    SqliteTarget,
    keyword_dsn_secrets,
    mask_keyword_dsn,
    mask_secrets,
    mask_url,
    parse_url,
    path_to_url,
    redact,
    resolve_url,
)
from tests.conftest import isolated_secrets


# precedence ------------------------------------------------------------------------------
def test_precedence_argument_then_env_url_then_env_path_then_default() -> None:
    env = {"RUNE_DB_URL": "sqlite:///from/url.db", "RUNE_API_DB_PATH": "/from/path.db"}
    assert resolve_url("sqlite:///arg.db", env).url == "sqlite:///arg.db"
    assert resolve_url("sqlite:///arg.db", env).source == "argument"
    assert resolve_url(None, env).url == "sqlite:///from/url.db"
    assert resolve_url(None, {"RUNE_API_DB_PATH": "/from/path.db"}).url == "sqlite:///from/path.db"
    default = resolve_url(None, {})
    assert (default.url, default.source) == ("sqlite:///./.rune-api/jobs.db", "default")


def test_blank_values_fall_through() -> None:
    env = {"RUNE_DB_URL": "  ", "RUNE_API_DB_PATH": ""}
    assert resolve_url("", env).source == "default"


def test_db_path_variable_rejects_urls() -> None:
    with pytest.raises(ConfigurationError, match="RUNE_DB_URL"):
        resolve_url(None, {"RUNE_API_DB_PATH": "sqlite:///x.db"})


def test_default_is_relative_to_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = parse_url(resolve_url(None, {}).url, {})
    assert isinstance(target, SqliteTarget)
    assert target.path == tmp_path / ".rune-api" / "jobs.db"


# sqlite rules ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/lib/rune/jobs.db", "/var/lib/rune/jobs.db"),  # the seed's form: absolute
        ("sqlite:////var/lib/rune/jobs.db", "/var/lib/rune/jobs.db"),  # SQLAlchemy's absolute
        ("SQLITE:///var/lib/rune/jobs.db", "/var/lib/rune/jobs.db"),
        ("sqlite+pysqlite:///var/x.db", "/var/x.db"),
        ("sqlite:///var/my%20dir/jobs%3F.db", "/var/my dir/jobs?.db"),
    ],
)
def test_sqlite_absolute_paths(url: str, expected: str) -> None:
    target = parse_url(url, {})
    assert isinstance(target, SqliteTarget) and target.path == Path(expected)


def test_sqlite_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rel = parse_url("sqlite:///./data/jobs.db", {})
    up = parse_url("sqlite:///../jobs.db", {})
    assert isinstance(rel, SqliteTarget) and rel.path == tmp_path / "data" / "jobs.db"
    assert isinstance(up, SqliteTarget) and up.path == tmp_path.parent / "jobs.db"


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://"])
def test_sqlite_memory(url: str) -> None:
    target = parse_url(url, {})
    assert isinstance(target, SqliteTarget) and target.memory


def test_path_to_url_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for path, expected in [
        ("/var/lib/rune/jobs.db", Path("/var/lib/rune/jobs.db")),
        ("data/jobs.db", tmp_path / "data/jobs.db"),
        ("./a b/jobs#1.db", tmp_path / "a b/jobs#1.db"),
        ("../x.db", tmp_path.parent / "x.db"),
    ]:
        target = parse_url(path_to_url(path), {})
        assert isinstance(target, SqliteTarget) and target.path == expected
    assert parse_url(path_to_url(":memory:"), {}).memory  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:relative.db", "malformed sqlite URL"),
        ("sqlite://host/x.db", "must not name a host"),
        ("sqlite:///x.db?mode=ro", "query string"),
        ("sqlite:///", "no file path"),
        ("sqlite:///var/lib/", "directory"),
        ("sqlite:///${NOPE_UNSET_VAR}/x.db", "NOPE_UNSET_VAR"),
        ("no-scheme-here", "malformed database URL"),
        ("mysql://u@h/db", "supported schemes: sqlite, sqlite+pysqlite, postgresql"),
        ("postgresql://u@h:99999/db", "port must be a number"),
        ("postgresql://u@h:abc/db", "port must be a number"),
        ("postgresql:/h/db", "malformed PostgreSQL URL"),
        ("postgresql://u:${BAD-NAME}@h/db", "invalid variable reference"),
        ("postgresql://u:${UNCLOSED@h/db", "unterminated"),
        ("host=db password=x dbname=y", "looks like a libpq key=value connection string"),
        ("postgresql://h/db?password=ab&cd&sslmode=require", "must be key=value"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("+", r"\+")):
        parse_url(url, {})


def test_env_expansion_in_sqlite_path() -> None:
    target = parse_url("sqlite:///${DATA}/jobs.db", {"DATA": "/srv/rune"})
    assert isinstance(target, SqliteTarget) and target.path == Path("/srv/rune/jobs.db")


# postgres ---------------------------------------------------------------------------------
def test_postgres_seed_form_expands_and_encodes() -> None:
    env = {"DB_PASSWORD": "p@ss:w/rd?#%"}
    target = parse_url(
        "postgresql://rune:${DB_PASSWORD}@db.example.internal:5432/rune?sslmode=require", env
    )
    assert isinstance(target, PostgresTarget)
    assert target.conninfo == (
        "postgresql://rune:p%40ss%3Aw%2Frd%3F%23%25@db.example.internal:5432/rune?sslmode=require"
    )
    assert (target.user, target.host, target.dbname) == ("rune", "db.example.internal", "rune")
    assert target.masked == "postgresql://rune:***@db.example.internal:5432/rune?sslmode=require"
    assert "p@ss" not in repr(target)


def test_postgres_missing_variable_is_named() -> None:
    with pytest.raises(ConfigurationError, match="DB_PASSWORD.*not set") as info:
        parse_url("postgresql://rune:${DB_PASSWORD}@h/rune", {})
    assert "postgresql://rune:***@h/rune" in str(info.value)


@pytest.mark.parametrize(
    "scheme", ["postgresql", "postgres", "postgresql+psycopg", "postgres+psycopg", "POSTGRESQL"]
)
def test_postgres_schemes_normalised(scheme: str) -> None:
    target = parse_url(f"{scheme}://rune:s%2Fecret@h:5432/db", {})
    assert isinstance(target, PostgresTarget)
    assert target.conninfo == "postgresql://rune:s%2Fecret@h:5432/db"


def test_postgres_literal_userinfo_is_decoded_then_reencoded() -> None:
    target = parse_url("postgresql://us%40er:pa%3Ass@[::1]:5432,h2:5433/db", {})
    assert isinstance(target, PostgresTarget)
    assert target.user == "us@er" and target.host == "[::1]"
    assert target.conninfo == "postgresql://us%40er:pa%3Ass@[::1]:5432,h2:5433/db"


def test_postgres_unencoded_slash_in_password_is_refused_and_masked() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_url("postgresql://u:pa/ssWORD99@h/db", {})
    assert "ssWORD99" not in str(info.value)


def test_make_storage_postgres_unreachable_masks_password() -> None:
    with pytest.raises(StorageError, match="cannot connect to PostgreSQL") as info:
        make_storage("postgresql://rune:TopSecret123@127.0.0.1:1/db", env={}, connect_timeout=0.5)
    assert "TopSecret123" not in str(info.value)
    assert "postgresql://rune:***@127.0.0.1:1/db" in str(info.value)


# masking ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://rune:secret@h:5432/db", "postgresql://rune:***@h:5432/db"),
        ("postgresql://rune@h/db", "postgresql://rune@h/db"),
        (
            "postgresql://h/db?password=secret&sslmode=require",
            "postgresql://h/db?password=***&sslmode=require",
        ),
        ("mysql://u:secret@h/db", "mysql://u:***@h/db"),
        ("postgresql://u:se@cr/et@h/db", "postgresql://u:***@h/db"),
        ("sqlite:///var/lib/rune/jobs.db", "sqlite:///var/lib/rune/jobs.db"),
        ("not a url", "not a url"),
        # every password-bearing libpq parameter, however the key is spelled
        (
            "postgresql://u@h/db?sslmode=require&sslpassword=secret",
            "postgresql://u@h/db?sslmode=require&sslpassword=***",
        ),
        (
            "postgresql://u@h/db?ssl%70assword=secret&x=1",
            "postgresql://u@h/db?ssl%70assword=***&x=1",
        ),
        ("postgresql://u@h/db?%70assword=secret", "postgresql://u@h/db?%70assword=***"),
        ("postgresql://u@h/db?SSLPassword=secret", "postgresql://u@h/db?SSLPassword=***"),
        (
            "postgresql://u:a@h/db?password=b&sslpassword=c",
            "postgresql://u:***@h/db?password=***&sslpassword=***",
        ),
        # an unencoded "&" or "@" inside a query password: over-masked, never under-masked
        ("postgresql://h/db?password=ab&cd&sslmode=x", "postgresql://h/db?password=***&sslmode=x"),
        ("postgresql://h:5432/db?sslpassword=se@cret", "postgresql://h:***"),
        ("postgresql://u:p?password=x@h/db", "postgresql://u:***"),
        # libpq keyword/value strings where a URL was expected
        ("host=db password=secret dbname=x", "host=db password=*** dbname=x"),
        ("host=db password = secret  dbname=x", "host=db password = ***  dbname=x"),
        ("host=db password='a b c' dbname=x", "host=db password=*** dbname=x"),
        (r"host=db password='it\'s \\ ok' dbname=x", "host=db password=*** dbname=x"),
        (r"password=a\ b\'c dbname=x", "password=*** dbname=x"),
        ("host=db sslpassword='k e y' PASSWORD=pw", "host=db sslpassword=*** PASSWORD=***"),
        ("password='never closed dbname=x", "password=***"),
        ("password= host=db", "password= ***"),  # libpq skips the blanks: the value is host=db
        ("mysql:host=db password=secret", "mysql:host=db password=***"),
        # a URL quoted inside other text
        ("cannot use postgresql://u:pw@h/db here", "cannot use postgresql://u:***@h/db here"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_keyword_dsn_secrets_follow_libpq_quoting() -> None:
    text = r"host=db password='it\'s a\\b' sslpassword=x\ y dbname=z"
    assert keyword_dsn_secrets(text) == ["it's a\\b", "x y"]
    assert mask_keyword_dsn(text) == "host=db password=*** sslpassword=*** dbname=z"


def test_query_passwords_are_registered_for_redaction() -> None:
    with isolated_secrets():
        target = parse_url(
            "postgresql://u@h/db?sslpassword=Kiwi%2BMango&ssl%70assword=Plum+Pear&password=${QPW}",
            {"QPW": "Fig&Date=Lime"},
        )
        assert isinstance(target, PostgresTarget)
        text = redact(f"{target.conninfo} / Kiwi+Mango / Plum+Pear / Fig&Date=Lime")
        for secret in ("Kiwi", "Plum", "Fig&Date"):
            assert secret not in text
        assert "Fig" not in target.masked and "Lime" not in target.masked
        # a substituted query password is taken literally, like the user-info one
        assert target.conninfo.endswith("&password=Fig%26Date%3DLime")


def test_substituted_query_password_is_percent_encoded() -> None:
    target = parse_url(
        "postgresql://u@h/db?sslpassword=${P}&options=${O}", {"P": "a&b%41+c", "O": "-c%20x"}
    )
    assert isinstance(target, PostgresTarget)
    assert target.conninfo == "postgresql://u@h/db?sslpassword=a%26b%2541%2Bc&options=-c%20x"


@settings(max_examples=200, deadline=None)
@given(
    password=st.text(
        alphabet=st.characters(exclude_categories=["Cs"]), min_size=6, max_size=30
    ).filter(lambda p: p.strip() == p and "rune" not in p and "db" not in p),
    template=st.sampled_from(
        [
            "postgresql://rune:${DB_PASSWORD}@db:5432/rune",
            "postgresql://rune@db:5432/rune?sslmode=require&sslpassword=${DB_PASSWORD}",
            "postgresql://rune@db:5432/rune?password=${DB_PASSWORD}",
        ]
    ),
)
def test_expanded_passwords_never_survive_masking(password: str, template: str) -> None:
    env = {"DB_PASSWORD": password}
    with isolated_secrets():
        target = parse_url(template, env)
        assert isinstance(target, PostgresTarget)
        for shown in (
            target.masked,
            mask_url(target.conninfo),
            repr(target),
            redact(f"x {password} y"),
        ):
            assert password not in shown


def test_redact_scrubs_registered_secrets() -> None:
    parse_url("postgresql://u:${PW}@h/db", {"PW": "Zebra/Quartz:77"})
    assert redact("password Zebra/Quartz:77 rejected") == "password *** rejected"
    assert redact("url u:Zebra%2FQuartz%3A77@h") == "url u:***@h"  # the encoded form too


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "ConnectionError: cannot reach postgresql://u:secret@h/db (refused)",
            "ConnectionError: cannot reach postgresql://u:***@h/db (refused)",
        ),
        ("failed: host=h password='a b' dbname=x", "failed: host=h password=*** dbname=x"),
        ("GET /x?user=u&password=pw42&y=1", "GET /x?user=u&password=***&y=1"),
        # A log line is not one URL: nothing between the worker id's colons and the @.
        (
            "host:42:ab12: started on postgresql://u:***@h/db",
            "host:42:ab12: started on postgresql://u:***@h/db",
        ),
        ("recovery: failed 2 job(s) whose lease had expired", None),
    ],
)
def test_mask_secrets_masks_what_free_text_quotes(text: str, masked: str | None) -> None:
    assert mask_secrets(text) == (text if masked is None else masked)


def test_mask_secrets_also_scrubs_registered_secrets() -> None:
    with isolated_secrets():
        parse_url("postgresql://u:${PW}@h/db", {"PW": "Walrus-Mango-31"})
        assert mask_secrets("auth failed (Walrus-Mango-31)") == "auth failed (***)"


def test_environment_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNE_DB_URL", "sqlite:///:memory:")
    monkeypatch.setenv("RUNE_API_DB_PATH", "/nonexistent/ignored.db")
    assert resolve_url().url == "sqlite:///:memory:"
    assert os.environ["RUNE_DB_URL"]
