"""Job handlers for the worker tests, importable as ``tests.worker_handlers:<name>``.

``record`` appends the job id to the file named by ``WORKER_TEST_RECORD`` with ``O_APPEND``
-- one ``write`` per execution, so lines from concurrent worker processes never interleave
-- which lets a test count how often each job really ran, independently of the store.
"""

from __future__ import annotations

import logging
import os
import time

from rune.storage.port import JobRecord, JSONDict

ENV_RECORD = "WORKER_TEST_RECORD"
# A connection string whose password was never parsed by RUNE (so not registered for
# redaction): only masking what the log text itself quotes can hide it.
LEAKY_DSN = "postgresql://u:secret@h/db"


def record(job: JobRecord) -> JSONDict:
    """Sleep ``payload["sleep"]`` seconds (default 0), note the execution, then succeed."""
    time.sleep(float(job.request_payload.get("sleep", 0)))
    fd = os.open(os.environ[ENV_RECORD], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{job.job_id} {os.getpid()}\n".encode())
    finally:
        os.close(fd)
    return {"pid": os.getpid()}


def log_dsn_failure(job: JobRecord) -> JSONDict:
    """Log an error with a traceback whose exception text, and whose message argument,
    quote :data:`LEAKY_DSN`; then succeed."""
    try:
        raise ConnectionError(f"cannot reach {LEAKY_DSN}")
    except ConnectionError:
        logging.getLogger("tests.worker_handlers").exception("job %s: %s", job.job_id, LEAKY_DSN)
    return {}


NOT_CALLABLE = 42
