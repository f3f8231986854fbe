"""Logging rules that keep secrets out of every log line."""

from __future__ import annotations

import logging

# botocore logs whole request and response bodies at DEBUG from these two loggers, and a SignUp
# body holds the password and the SecretHash. Their DEBUG records are dropped by a filter on the
# loggers themselves, so no level setting (root at DEBUG, or these loggers at DEBUG) brings them back.
_BODY_LOGGERS = ("botocore.endpoint", "botocore.parsers")


class _NoBodies(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def keep_secrets_out_of_logs() -> None:
    for name in _BODY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoBodies) for f in logger.filters):
            logger.addFilter(_NoBodies())
