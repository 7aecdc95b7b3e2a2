"""The shared log filter: no secret reaches a log through the message, its arguments, the
traceback or the stack, whether the API or the worker logs it."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

import rune.api
from rune.logredact import RedactingFilter
from rune.storage.urls import parse_url
from tests.conftest import isolated_secrets

DSN = "postgresql://u:secret@h/db"


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose one handler carries the filter, writing to a buffer."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.logredact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield logger, out
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def test_the_api_and_the_worker_share_one_filter() -> None:
    assert rune.api.RedactingFilter is RedactingFilter


def test_message_arguments_and_traceback_are_masked(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log
    try:
        raise ConnectionError(f"cannot reach {DSN}")
    except ConnectionError:
        logger.exception("connecting to %s failed", DSN)
    text = out.getvalue()
    assert "secret" not in text, text
    assert "connecting to postgresql://u:***@h/db failed" in text
    assert "Traceback" in text and "ConnectionError: cannot reach postgresql://u:***@h/db" in text


def test_an_exc_text_set_earlier_and_the_stack_are_masked(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log
    record = logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "failed", (), None)
    record.exc_text = f"Traceback (most recent call last):\nOSError: {DSN}"
    record.stack_info = f"Stack (most recent call last):\n  connect({DSN!r})"
    logger.handle(record)
    text = out.getvalue()
    assert "secret" not in text and text.count("postgresql://u:***@h/db") == 2, text


def test_registered_secrets_are_masked_in_any_form(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log
    with isolated_secrets():
        parse_url("postgresql://u:${PW}@h/db", {"PW": "Otter-Plum-58"})
        try:
            raise RuntimeError("the driver said: bad password Otter-Plum-58")
        except RuntimeError:
            logger.exception("value %r", "Otter-Plum-58")
    text = out.getvalue()
    assert "Otter-Plum-58" not in text and "value '***'" in text, text
