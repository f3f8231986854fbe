"""Logging rules that keep secrets out of every log line."""

from __future__ import annotations

import logging

# botocore logs whole request bodies at DEBUG, which hold the password and the SecretHash.
# These libraries are never allowed below INFO, whatever level the rest of the app logs at.
_CHATTY_LIBRARIES = ("botocore", "boto3", "urllib3", "s3transfer")


def keep_secrets_out_of_logs() -> None:
    for name in _CHATTY_LIBRARIES:
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.getEffectiveLevel(), logging.INFO))
