"""Logs: one JSON object a line, a line per request and per Cognito call, and never a secret.

gunicorn.conf.py installs JsonFormatter for the whole process (gunicorn's own logs included), so
operators can search every field. Nothing that could be a secret is ever put in a record: no
password, client secret, SecretHash, confirmation code or cookie; email addresses are masked in
every line, whoever logs them. The lines are written by a thread of their own (BackgroundStreamHandler),
so no request waits for the stream.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import re
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from flask import Flask, g, has_request_context, request
from werkzeug.wrappers import Response

# botocore logs whole request and response bodies at DEBUG from these two loggers, and a SignUp
# body holds the password and the SecretHash. Their DEBUG records are dropped by a filter on the
# loggers themselves, so no level setting (root at DEBUG, or these loggers at DEBUG) brings them back.
_BODY_LOGGERS = ("botocore.endpoint", "botocore.parsers")
# Every log line goes through this pattern, request paths included, so it must take time in
# proportion to the text. A match may only start where a run of local-part characters starts (the
# lookbehind): without it, every character of a long run started a scan to the run's end, which
# is quadratic (0.4 s for an 8 KB path). The local part is never given back (`*+`): `@` is not in it.
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*+@([\w-])[\w.-]*\.([a-z]{2,})", re.IGNORECASE)
_REQUEST_ID = re.compile(r"[\w.:;=/+-]{1,128}")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

requests_log = logging.getLogger("signup.request")


class _NoBodies(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def keep_secrets_out_of_logs() -> None:
    for name in _BODY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoBodies) for f in logger.filters):
            logger.addFilter(_NoBodies())


def mask_emails(text: str) -> str:
    """a.person@example.com becomes a***@e***.com: enough to tell lines apart, not to identify anyone."""
    return _EMAIL.sub(r"\1***@\2***.\3", text) if "@" in text else text


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, any extra fields, and the request id."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_emails(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = mask_emails(value) if isinstance(value, str) else value
        if "request_id" not in entry and has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        if record.exc_info:
            entry["exception"] = mask_emails(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_requests(app: Flask) -> None:
    """A line per request: method, route, status, duration, request id and client address.

    The id comes from X-Request-ID or X-Amzn-Trace-Id (a load balancer's) when they look like one,
    else it is made up; the response carries it back in X-Request-ID.
    """

    @app.before_request
    def start() -> None:
        g.started = time.perf_counter()
        given = request.headers.get("X-Request-ID") or request.headers.get("X-Amzn-Trace-Id") or ""
        g.request_id = given if _REQUEST_ID.fullmatch(given) else os.urandom(16).hex()

    @app.after_request
    def finish(response: Response) -> Response:
        started = g.get("started", time.perf_counter())
        request_id = g.get("request_id") or os.urandom(16).hex()
        response.headers["X-Request-ID"] = request_id
        requests_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "route": request.url_rule.rule if request.url_rule else "unmatched",
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "request_id": request_id,
                "client": request.remote_addr,
            },
        )
        return response


class BackgroundStreamHandler(logging.Handler):
    """A StreamHandler whose writing is done by a thread of its own, one per process.

    Under load a plain StreamHandler made request threads queue on its lock while the holder waited
    for the write, then for the GIL. Here a request thread only hands the record over, without the
    lock; the writer wakes at most 20 times a second, formats what has gathered and writes it in few
    calls, each of whole lines and at most PIPE_BUF bytes, so the lines of workers sharing one pipe
    never interleave. The writer finishes before a fork (a forked child gets no threads) and starts
    again when needed.
    """

    PIPE_BUF = 4096
    GATHER_SECONDS = 0.05

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream if stream is not None else sys.stderr
        self._starting = threading.Lock()
        self._reset()
        os.register_at_fork(before=self._stop, after_in_child=self._reset)
        atexit.register(self._stop)

    def _reset(self) -> None:
        self._queue: queue.SimpleQueue[logging.LogRecord | threading.Event | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None

    def handle(self, record: logging.LogRecord) -> bool:  # type: ignore[override]
        """Hand the record over as it is now (its message, its request id), without taking a lock."""
        if not self.filter(record):
            return False
        record.msg, record.args = record.getMessage(), None
        if not hasattr(record, "request_id") and has_request_context() and "request_id" in g:
            record.request_id = g.request_id
        if self._writer is None:
            with self._starting:
                if self._writer is None:
                    self._writer = threading.Thread(target=self._write, name="log-writer", daemon=True)
                    self._writer.start()
        self._queue.put(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.handle(record)

    def flush(self) -> None:
        """Return once every record handed over so far is written."""
        if self._writer is not None and self._writer.is_alive():
            written = threading.Event()
            self._queue.put(written)
            written.wait(timeout=5)

    def _stop(self) -> None:
        with self._starting:
            if self._writer is not None:
                self._queue.put(None)
                self._writer.join(timeout=5)
                self._writer = None

    def _write(self) -> None:
        while True:
            items = [self._queue.get()]
            if isinstance(items[0], logging.LogRecord):
                time.sleep(self.GATHER_SECONDS)  # one wake-up and a few writes for all the lines meanwhile
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            lines: list[str] = []
            size = 0
            for item in items:
                if not isinstance(item, logging.LogRecord):
                    self._put(lines)
                    lines, size = [], 0
                    if item is None:
                        return
                    item.set()
                    continue
                line = self._line(item)
                if size + len(line.encode()) > self.PIPE_BUF:
                    self._put(lines)
                    lines, size = [], 0
                lines.append(line)
                size += len(line.encode())
            self._put(lines)

    def _line(self, record: logging.LogRecord) -> str:
        try:
            return self.format(record) + "\n"
        except Exception:
            self.handleError(record)
            return ""

    def _put(self, lines: list[str]) -> None:
        if lines:
            try:
                self.stream.write("".join(lines))
                self.stream.flush()
            except Exception:  # noqa: S110 - a line that cannot be written has nowhere else to go
                pass
