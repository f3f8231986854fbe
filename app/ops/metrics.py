"""Prometheus metrics, correct under several gunicorn workers.

With PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py sets it up), every worker writes its counts to
files in that directory and the exposition adds them up, so a scrape sees the whole instance
whichever worker answers it. Labels only take values from small fixed sets (error codes, outcome
names), never anything a person typed.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

SIGNUPS_STARTED = Counter("signup_signups_started_total", "Sign-up forms that passed every check of the form")
SIGNUPS_SUCCEEDED = Counter("signup_signups_succeeded_total", "Sign-ups Cognito accepted")
SIGNUPS_FAILED = Counter("signup_signups_failed_total", "Sign-ups that did not go through, by error", ["error"])
CONFIRMATIONS = Counter("signup_confirmations_total", "Codes entered, by outcome", ["outcome"])
RESENDS = Counter("signup_resends_total", "New codes asked for, by outcome", ["outcome"])
UNCONFIRMED_REPLACED = Counter(
    "signup_unconfirmed_replaced_total", "Unconfirmed accounts deleted for a new sign-up (SIGNUP_REPLACE_UNCONFIRMED)"
)
PASSWORDS_SET = Counter(
    "signup_passwords_set_total",
    "New passwords set with a code (a sign-up finished elsewhere, a forgotten password), by outcome",
    ["outcome"],
)
SIGN_OUTS = Counter(
    "signup_sign_outs_total", "Other sessions signed out after a new password: signed_out or not_possible", ["outcome"]
)
SIGN_INS = Counter("signup_sign_ins_total", "Immediate sign-ins after confirmation, by outcome", ["outcome"])
BOT_SIGNALS = Counter(
    "signup_bot_signals_total", "Sign-ups that looked automated but were let through, by signal: quick", ["signal"]
)
RATE_LIMITED = Counter("signup_rate_limited_total", "Requests refused by a rate limit, by rule", ["rule"])
COGNITO_IN_FLIGHT = Gauge(
    "signup_cognito_calls_in_flight", "Calls waiting on Cognito now, summed over workers", multiprocess_mode="livesum"
)
# Each worker's own cap, the same in every worker: the value the last worker to start set.
COGNITO_MAX_IN_FLIGHT = Gauge(
    "signup_cognito_max_in_flight",
    "Calls one worker lets wait on Cognito at once (SIGNUP_COGNITO_MAX_IN_FLIGHT, or three quarters of its threads)",
    multiprocess_mode="livemostrecent",
)
COGNITO_REFUSED = Counter(
    "signup_cognito_calls_refused_total",
    "Calls not made because the worker's cap on calls in flight was reached (SIGNUP_COGNITO_MAX_IN_FLIGHT)",
    ["operation"],
)
COGNITO_LATENCY = Histogram(
    "signup_cognito_request_duration_seconds",
    "Time Cognito took to answer, by operation",
    ["operation"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format: the whole instance's when several processes write them."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
