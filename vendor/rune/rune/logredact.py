"""The one log filter that keeps secrets out of RUNE's logs (the API's and the worker's).

Why one filter for both: the worker had its own that scrubbed the message only, so a
password quoted in an exception (a driver error naming the DSN, a handler's failure)
reached the worker's log through the traceback while the API's log masked it. Both now
attach :class:`RedactingFilter` to their handlers.

Why the record is changed in place rather than the formatted line: a filter runs before
the handler's formatter, and what leaks are the parts the formatter adds later -- the
arguments merged into the message, the traceback (``exc_text``) and the stack
(``stack_info``). Each is scrubbed with :func:`rune.storage.urls.mask_secrets`: URL
passwords and ``password=`` values found in the text, and every password RUNE parsed
(registered with :func:`rune.storage.urls.register_secret`), even in forms it cannot parse.
"""

from __future__ import annotations

import logging

from rune.storage.urls import mask_secrets

__all__ = ["RedactingFilter"]


class RedactingFilter(logging.Filter):
    """Scrub secrets from the message, its arguments, the traceback and the stack.

    The message is formatted here (its arguments merged and then dropped), so that a
    secret in an argument is scrubbed like one in the text. The traceback is formatted
    here too, with the standard formatting, and stored as ``exc_text``, which formatters
    print instead of formatting ``exc_info`` again.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_secrets(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True
