"""Logs: JSON lines, one a request and one a Cognito call, gunicorn's too; no secret and no raw email."""

from __future__ import annotations

import json
import logging
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.aws.cognito import secret_hash
from app.ops.logs import JsonFormatter, mask_emails
from local import emulator

from .conftest import SIGNUP, base_env
from .servers import LoopbackClient, gunicorn

PASSWORD = "Canary-Pa55word!"
WRONG_CODE = "987650"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("user Ann.Lee+x@Example.co.uk failed", "user A***@E***.uk failed"),
        ("GET /signup?username=ann_lee@mail.example.org&x=1", "GET /signup?username=a***@m***.org&x=1"),
        ("<bob@example.com>, eve-2@sub.example.net.", "<b***@e***.com>, e***@s***.net."),
        ("not.an@address and a@b.c", "not.an@address and a@b.c"),
    ],
)
def test_emails_are_masked(text: str, expected: str) -> None:
    assert mask_emails(text) == expected


# Each is a string the old pattern took quadratic time on (a request path is logged as sent).
HOSTILE: dict[str, Callable[[int], str]] = {
    "word characters": lambda n: "a" * n,
    "a path": lambda n: "/signup/" + "x-" * (n // 2),
    "dots": lambda n: "a." * (n // 2),
    "a long local part": lambda n: "a" * n + "@",
    "a long domain": lambda n: "a@" + "b" * n,
    "a long dotted domain": lambda n: "a@" + "b." * (n // 2),
}


def seconds_to_mask(text: str) -> float:
    return min(timeit.repeat(lambda: mask_emails(text), number=1, repeat=5))


@pytest.mark.parametrize("shape", HOSTILE)
def test_masking_takes_time_in_proportion_to_the_text(shape: str) -> None:
    """Four times the text costs about four times the time (a quadratic pattern: sixteen)."""
    small, large = (seconds_to_mask(HOSTILE[shape](n)) for n in (10_000, 40_000))
    assert large < 0.05, f"{large * 1000:.0f} ms to mask 40,000 characters"
    assert large < 8 * small, f"10,000 characters: {small * 1000:.2f} ms, 40,000: {large * 1000:.2f} ms"


def test_a_record_becomes_one_json_line_with_its_fields() -> None:
    record = logging.makeLogRecord(
        {
            "name": "app.aws.cognito",
            "levelname": "INFO",
            "msg": "hello %s",
            "args": ("bob@example.com",),
            "outcome": "ok",
        }
    )
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "hello b***@e***.com"
    assert entry["outcome"] == "ok" and entry["logger"] == "app.aws.cognito" and entry["level"] == "INFO"


def test_an_exception_is_one_line_too() -> None:
    try:
        raise ValueError("broken for eve@example.org")
    except ValueError:
        record = logging.makeLogRecord({"msg": "failed", "exc_info": sys.exc_info()})
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError" in entry["exception"] and "eve@example.org" not in entry["exception"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Request-ID": "abc-123"}, "abc-123"),
        ({"X-Amzn-Trace-Id": "Root=1-67891233-abcdef012345678912345678"}, "Root=1-67891233-abcdef012345678912345678"),
        ({"X-Request-ID": 'bad id", "level": "ERROR'}, None),
        ({"X-Request-ID": "x" * 500}, None),
        ({}, None),
    ],
)
def test_the_request_id_comes_from_the_balancer_or_is_made_up(
    stub_app: Any, caplog: pytest.LogCaptureFixture, headers: dict[str, str], expected: str | None
) -> None:
    caplog.set_level(logging.INFO, logger="signup.request")
    response = stub_app.test_client().get("/signup", headers=headers)
    request_id = response.headers["X-Request-ID"]
    assert request_id == expected if expected else len(request_id) == 32
    (line,) = [r for r in caplog.records if r.name == "signup.request"]
    assert (line.method, line.route, line.status, line.request_id) == ("GET", "/signup", 200, request_id)
    assert line.duration_ms >= 0 and line.client == "127.0.0.1"


def test_gunicorn_writes_only_json_lines_without_secrets(local_pool: emulator.LocalPool, tmp_path: Path) -> None:
    env = base_env(**local_pool.environment(), SIGNUP_LOG_LEVEL="DEBUG")
    signup = {**SIGNUP, "password": PASSWORD, "password_confirm": PASSWORD}
    with gunicorn(env, tmp_path / "app.log") as port:
        client = LoopbackClient(f"http://127.0.0.1:{port}", source="127.0.0.9")
        _, headers, _ = client.submit("/signup", signup, headers={"X-Request-ID": "req-signup"})
        code_page = headers["Location"]
        client.submit(code_page, {"code": WRONG_CODE}, headers={"X-Request-ID": "req-confirm"})
        cookies = list(client.cookies.values())
    flow_token = code_page.split("flow=")[1].split("&")[0]
    lines = (tmp_path / "app.log").read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is JSON
    assert any(e["logger"] == "gunicorn.error" and "Booting worker" in e["message"] for e in entries)
    requests = [e for e in entries if e["logger"] == "signup.request" and e["route"] != "/healthz"]
    assert {"method", "route", "status", "duration_ms", "request_id", "client"} <= requests[0].keys()
    assert {"POST", "GET"} == {e["method"] for e in requests}
    assert all(e["client"] == "127.0.0.9" for e in requests)
    calls = [e for e in entries if e["logger"] == "app.aws.cognito" and "operation" in e]
    assert [(c["operation"], c["outcome"]) for c in calls] == [
        ("SignUp", "ok"),
        ("ConfirmSignUp", "CodeMismatchException"),
    ]
    assert all(c["latency_ms"] >= 0 for c in calls)
    assert calls[0]["request_id"] == "req-signup"
    text = "\n".join(lines)
    secrets = [
        PASSWORD,
        local_pool.client_secret,
        secret_hash(local_pool.client_secret, "ann@example.com", local_pool.client_id),
    ]
    for secret in [*secrets, WRONG_CODE, *cookies, "ann@example.com", flow_token]:
        assert secret not in text
