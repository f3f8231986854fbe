"""Rate limits: per IP and per username, counted only when Cognito would be asked, shared through Redis."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from limits import parse_many

from app import create_app
from app.errors import ConfigError, TooManyAttempts
from app.signup.ratelimit import CalmMemoryStorage, Claim, FormLedger, RateLimiter, Rule, network_key
from app.signup.steps import Visitor
from local import emulator

from .conftest import ROOT, SIGNUP, StrictStubber, app_with, base_env, csrf_token, form_action, submit, text
from .servers import LoopbackClient, gunicorn, redis_server

SIGNED_UP = {
    "UserConfirmed": False,
    "UserSub": "s",
    "CodeDeliveryDetails": {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"},
}


def test_sign_ups_from_one_address_are_limited_with_a_429_that_keeps_the_form(stubber: StrictStubber) -> None:
    for _ in range(2):
        stubber.add_response("sign_up", SIGNED_UP)
    app = app_with(stubber, SIGNUP_RATELIMIT_SIGNUP="2/minute")
    for n in range(2):
        assert submit(app.test_client(), "/signup", {**SIGNUP, "username": f"p{n}@example.com"}).status_code == 302
    refused = submit(app.test_client(), "/signup", {**SIGNUP, "username": "p3@example.com"})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    page = text(refused)
    assert "Too many sign-ups from your network." in page
    assert re.search(r"You can try again in \d+\u00a0seconds?\.", page)  # never broken before "seconds"
    assert 'value="p3@example.com"' in page and 'value="Example Ltd"' in page


def test_codes_to_one_address_are_limited_whatever_the_usernames_asked_for(stubber: StrictStubber) -> None:
    """Message bombing: one address given to many usernames gets no more codes than the limit, and
    the sign-up over it never reaches Cognito (the Stubber would refuse a fourth SignUp)."""
    for _ in range(3):
        stubber.add_response("sign_up", SIGNED_UP)
    app = app_with(
        stubber,
        SIGNUP_CONFIG=str(ROOT / "tests/declarations/username.toml"),
        SIGNUP_RATELIMIT_CODES_PER_DESTINATION="3/hour",
    )
    person = {"password": SIGNUP["password"], "email": "bomb@example.com"}
    for n in range(3):
        assert submit(app.test_client(), "/signup", {**person, "username": f"u{n}"}).status_code == 302
    refused = submit(app.test_client(), "/signup", {**person, "username": "u3", "email": "Bomb@Example.com"})
    assert refused.status_code == 429
    assert "We have sent too many codes to this address." in text(refused)


def test_every_call_that_sends_a_code_counts_against_the_addresss_limit(stubber: StrictStubber) -> None:
    """A sign-up, a new code on its page, a password reset and a new code on the new-password page
    all count for the address (an email-address pool: the address is the username), and the call
    over the limit never reaches Cognito (the Stubber has no answer ready for it)."""
    stubber.add_response("sign_up", SIGNED_UP)
    stubber.add_response("resend_confirmation_code", {})
    stubber.add_response("forgot_password", {})
    limits = {"SIGNUP_RATELIMIT_CODES_PER_DESTINATION": "3/hour", "SIGNUP_RATELIMIT_RESEND_PER_USER": "10/hour"}
    client = app_with(stubber, **limits).test_client()
    code_page = submit(client, "/signup", SIGNUP).headers["Location"]
    assert submit(client, code_page, {}, resend=True).status_code == 302
    password_page = submit(client, "/signup/forgot", {"username": SIGNUP["username"]}).headers["Location"]
    refused = submit(client, password_page, {}, resend=True)
    assert refused.status_code == 429
    assert "We have sent too many codes to this address." in text(refused)


def test_typing_mistakes_do_not_count_against_the_limit(stubber: StrictStubber) -> None:
    stubber.add_response("sign_up", SIGNED_UP)
    app = app_with(stubber, SIGNUP_RATELIMIT_SIGNUP="1/minute")
    client = app.test_client()
    for _ in range(5):
        assert submit(client, "/signup", {**SIGNUP, "custom_seats": "0"}).status_code == 422
    assert submit(client, "/signup", SIGNUP).status_code == 302


def test_codes_guessed_for_an_account_from_one_address_are_limited_but_not_its_owners(
    stubber: StrictStubber,
) -> None:
    # Counting per account alone let anyone lock an owner out with a few wrong codes from
    # elsewhere; Cognito's own limit on wrong codes per account stays the backstop.
    for _ in range(3):
        stubber.add_client_error("confirm_sign_up", "CodeMismatchException", "Invalid code")
    app = app_with(stubber, SIGNUP_RATELIMIT_CONFIRM_PER_USER="2/hour")
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "198.51.100.66"
    for code in ("111111", "222222"):
        answer = submit(guesser, "/signup/confirm", {"username": "Ann@Example.com", "code": code})
        assert answer.status_code == 422
    refused = submit(guesser, "/signup/confirm", {"username": "ann@example.com", "code": "333333"})
    assert refused.status_code == 429
    assert "Too many codes tried." in text(refused)
    assert int(refused.headers["Retry-After"]) > 60
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "203.0.113.5"
    assert submit(owner, "/signup/confirm", {"username": "ann@example.com", "code": "444444"}).status_code == 422


def test_the_resend_button_shows_its_cooldown_and_the_server_enforces_it(stubber: StrictStubber) -> None:
    stubber.add_response("sign_up", SIGNED_UP)
    app = app_with(stubber, SIGNUP_RATELIMIT_RESEND_PER_USER="1/minute;5/hour")
    client = app.test_client()
    code_page = submit(client, "/signup", SIGNUP).headers["Location"]
    page = text(client.get(code_page))
    wait = re.search(r'data-countdown="(\d+)"[^>]*>You can ask for a new code in (\d+)\u00a0seconds\.', page)
    assert wait and 55 <= int(wait.group(1)) <= 60 and wait.group(1) == wait.group(2)
    refused = client.post(form_action(page, resend=True), data={"csrf_token": csrf_token(page), "code": ""})
    assert refused.status_code == 429
    assert "You cannot ask for another code yet." in text(refused)
    assert 'name="code"' in text(refused)  # still the code page
    # One wait on the page, the countdown's, not a second one in the message.
    assert "You can try again in" not in text(refused) and 'id="resend-wait"' in text(refused)


def test_limits_can_be_turned_off(stubber: StrictStubber) -> None:
    for _ in range(3):
        stubber.add_response("sign_up", SIGNED_UP)
    app = app_with(stubber, SIGNUP_RATELIMIT_SIGNUP="1/minute", SIGNUP_RATELIMIT_ENABLED="0")
    for n in range(3):
        assert submit(app.test_client(), "/signup", {**SIGNUP, "username": f"q{n}@example.com"}).status_code == 302


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SIGNUP_RATELIMIT_SIGNUP": "lots"}, "SIGNUP_RATELIMIT_SIGNUP must look like '5/minute;20/hour'"),
        ({"SIGNUP_RATELIMIT_STORAGE_URI": "postgres://db"}, "SIGNUP_RATELIMIT_STORAGE_URI must start with one of"),
        # memcached cannot keep a moving window: before, it passed here and every sign-up got a 500.
        ({"SIGNUP_RATELIMIT_STORAGE_URI": "memcached://m:11211"}, "SIGNUP_RATELIMIT_STORAGE_URI must start with"),
    ],
)
def test_limit_settings_are_checked(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)):
        create_app(base_env(**env))


def sign_up_through(instance: int, username: str) -> int:
    client = LoopbackClient(f"http://127.0.0.1:{instance}", source="127.0.0.7")
    status, _, _ = client.submit("/signup", {**SIGNUP, "username": username})
    return status


def test_limits_hold_across_instances_that_share_redis(local_pool: emulator.LocalPool, tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as redis_port:
        env = base_env(
            **local_pool.environment(),
            SIGNUP_RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{redis_port}/0",
            SIGNUP_RATELIMIT_SIGNUP="2/minute",
        )
        with gunicorn(env, tmp_path / "a.log") as a, gunicorn(env, tmp_path / "b.log") as b:
            assert sign_up_through(a, "one@example.com") == 302
            assert sign_up_through(b, "two@example.com") == 302
            assert sign_up_through(a, "three@example.com") == 429
            assert sign_up_through(b, "four@example.com") == 429


def test_a_redis_outage_lets_sign_ups_through(local_pool: emulator.LocalPool, tmp_path: Path) -> None:
    closed = emulator.free_port()
    env = base_env(**local_pool.environment(), SIGNUP_RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{closed}/0")
    with gunicorn(env, tmp_path / "a.log") as a:
        assert sign_up_through(a, "outage@example.com") == 302
    assert "Rate-limit storage unavailable" in (tmp_path / "a.log").read_text()


@pytest.fixture
def quick_turns() -> Iterator[None]:
    """Threads take turns every 10 µs instead of 5 ms, so a gap between checking and counting shows."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def let_through_at_once(limiter: RateLimiter, attempts: int = 40) -> int:
    """How many of `attempts` sign-ups from one address, all sent at the same instant, the limiter allows."""
    start = threading.Barrier(attempts)

    def attempt(_: int) -> bool:
        start.wait()
        try:
            limiter.hit("signup", "203.0.113.9", "Too many sign-ups")
        except TooManyAttempts:
            return False
        return True

    with ThreadPoolExecutor(attempts) as pool:
        return sum(pool.map(attempt, range(attempts)))


@pytest.mark.usefixtures("quick_turns")
@pytest.mark.parametrize("limits", ["5/minute", "5/minute;20/hour", "20/minute;5/hour"])
def test_simultaneous_attempts_get_no_more_than_the_limit_in_memory(limits: str) -> None:
    let_through = [
        let_through_at_once(RateLimiter("memory://", {"signup": tuple(parse_many(limits))})) for _ in range(50)
    ]
    assert set(let_through) == {5}, f"let through in 50 rounds of 40: {let_through}"


@pytest.fixture
def slow_new_locks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Making a lock (and so a Timer, whose Condition holds one) takes a millisecond: a thread making
    one is always switched out in the middle, as it can be, rarely, under load."""
    make = threading.RLock

    def slowly(*args: object, **kwargs: object) -> object:
        time.sleep(0.001)
        return make(*args, **kwargs)

    monkeypatch.setattr(threading, "RLock", slowly)


@pytest.mark.usefixtures("slow_new_locks")
def test_every_count_of_a_key_is_taken_under_one_lock_from_the_first_attempts_at_once_to_after_it_expires() -> None:
    """limits made a key's lock on first use and dropped it with the key: two first attempts at once
    could each count under a lock of its own, and 6 of a limit of 5 got through (1 round in 50 above)."""
    store = CalmMemoryStorage("memory://")
    start = threading.Barrier(8)

    def lock_of_a_new_key(_: int) -> object:
        start.wait()
        return store.locks["signup/203.0.113.9"]

    with ThreadPoolExecutor(8) as pool:
        locks = set(pool.map(lock_of_a_new_key, range(8)))
    store.clear("signup/203.0.113.9")  # as when the key expires
    assert locks == {store.locks["signup/203.0.113.9"]}


@pytest.mark.usefixtures("slow_new_locks")
def test_simultaneous_first_counts_start_one_sweep_and_all_count() -> None:
    """Each count starts the next sweep unless one waits: two at once each made a timer, and one of
    them raised RuntimeError (a 500 for a person signing up) starting the timer the other had made."""
    store = CalmMemoryStorage("memory://")
    time.sleep(0.05)  # the sweep limits starts with the store is over
    start = threading.Barrier(8)

    def count(_: int) -> bool:
        start.wait()
        return store.acquire_entry("signup/203.0.113.9", 100, 60)

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(count, range(8))) == [True] * 8
    sweeps = [t for t in threading.enumerate() if getattr(t, "function", None) == store._MemoryStorage__expire_events]  # type: ignore[attr-defined]
    assert len(sweeps) == 1


@pytest.mark.servers
@pytest.mark.usefixtures("quick_turns")
@pytest.mark.parametrize("limits", ["5/minute", "20/minute;5/hour"])
def test_simultaneous_attempts_get_no_more_than_the_limit_in_redis(limits: str, tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as port:
        limiter = RateLimiter(f"redis://127.0.0.1:{port}/0", {"signup": tuple(parse_many(limits))})
        assert let_through_at_once(limiter) == 5


def test_each_limit_is_set_by_a_documented_setting_named_after_its_rule() -> None:
    settings = [rule.setting for rule in Rule]
    assert settings == [
        "SIGNUP_RATELIMIT_SIGNUP",
        "SIGNUP_RATELIMIT_CONFIRM",
        "SIGNUP_RATELIMIT_CONFIRM_PER_USER",
        "SIGNUP_RATELIMIT_RESEND",
        "SIGNUP_RATELIMIT_RESEND_PER_USER",
        "SIGNUP_RATELIMIT_CODES_PER_DESTINATION",
    ]
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert [name for name in settings if f"`{name}`" not in documented] == []


def test_an_attempt_refused_says_how_long_to_wait() -> None:
    limiter = RateLimiter("memory://", {"signup": tuple(parse_many("1/minute;5/hour"))})
    limiter.hit("signup", "203.0.113.9", "Too many sign-ups")
    with pytest.raises(TooManyAttempts) as refused:
        limiter.hit("signup", "203.0.113.9", "Too many sign-ups")
    assert 55 <= refused.value.retry_after <= 60
    limiter.hit("signup", "203.0.113.10", "Too many sign-ups")  # another address has its own count


def test_a_store_that_cannot_be_reached_lets_attempts_through(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RateLimiter(f"redis://127.0.0.1:{emulator.free_port()}/0", {"signup": tuple(parse_many("1/minute"))})
    with caplog.at_level(logging.WARNING, logger="app.signup.ratelimit"):
        for _ in range(3):
            limiter.hit("signup", "203.0.113.9", "Too many sign-ups")
    assert "Rate-limit storage unavailable (ConnectionError)" in caplog.text


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),  # the same /64: the same key
        ("2001:DB8:1:2:0:0:0:FFFF", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),  # the next /64 is another network
        ("::ffff:203.0.113.9", "203.0.113.9"),  # IPv4 seen through an IPv6 socket
        ("fe80::1%eth0", "fe80::/64"),
        ("::1", "::/64"),
        ("", ""),
        ("unknown", "unknown"),
        ("203.0.113.9, 198.51.100.1", "203.0.113.9, 198.51.100.1"),
    ],
)
def test_an_ipv6_network_shares_one_limit(address: str, key: str) -> None:
    assert network_key(address) == key


def test_a_tunnel_brokers_48_counts_as_one_address_when_configured(stubber: StrictStubber) -> None:
    assert network_key("2001:db8:1:2::1", 48) == network_key("2001:db8:1:ffff::1", 48) == "2001:db8:1::/48"
    assert network_key("2001:db8:2::1", 48) == "2001:db8:2::/48"
    app = create_app(base_env(SIGNUP_RATELIMIT_IPV6_PREFIX="48"), cognito_client=stubber.client)
    steps = app.extensions["signup"].steps
    assert steps._network(Visitor(ip="2001:db8:1:2::1")) == steps._network(Visitor(ip="2001:db8:1:ff::9"))
    for wrong in ("16", "96", "sixty-four"):
        with pytest.raises(ConfigError, match="SIGNUP_RATELIMIT_IPV6_PREFIX"):
            create_app(base_env(SIGNUP_RATELIMIT_IPV6_PREFIX=wrong), cognito_client=stubber.client)


def test_new_addresses_from_one_ipv6_network_do_not_buy_new_attempts() -> None:
    limiter = RateLimiter("memory://", {"signup": tuple(parse_many("2/minute"))})
    for host in (1, 2):
        limiter.hit("signup", network_key(f"2001:db8:1:2::{host}"), "Too many sign-ups")
    with pytest.raises(TooManyAttempts):
        limiter.hit("signup", network_key("2001:db8:1:2::3"), "Too many sign-ups")
    limiter.hit("signup", network_key("2001:db8:1:3::1"), "Too many sign-ups")


@pytest.mark.servers
@pytest.mark.parametrize(
    ("env", "warned"),
    [
        ({"SIGNUP_WORKERS": "2", "SIGNUP_RATELIMIT_STORAGE_URI": ""}, True),
        ({"SIGNUP_WORKERS": "3", "SIGNUP_RATELIMIT_STORAGE_URI": "memory://"}, True),
        ({"SIGNUP_WORKERS": "1", "SIGNUP_RATELIMIT_STORAGE_URI": ""}, False),
        ({"SIGNUP_WORKERS": "2", "SIGNUP_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}, False),
        ({"SIGNUP_WORKERS": "2", "SIGNUP_RATELIMIT_STORAGE_URI": "", "SIGNUP_RATELIMIT_ENABLED": "0"}, False),
    ],
)
def test_gunicorn_warns_at_start_up_when_each_worker_would_count_alone(
    env: dict[str, str], warned: bool, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    with gunicorn(base_env(**env), log):
        # A worker sets up its signal handlers just after it logs that it boots; one stopped in
        # between makes gunicorn wait its whole graceful timeout (20 s) before it stops.
        deadline = time.monotonic() + 20
        while log.read_text().count("Booting worker") < int(env["SIGNUP_WORKERS"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    warnings = [e for e in entries if "counts rate limits on its own" in e["message"]]
    if warned:
        (warning,) = warnings
        assert (warning["level"], warning["logger"]) == ("WARNING", "gunicorn.error")
        assert f"each of the {env['SIGNUP_WORKERS']} workers counts rate limits on its own" in warning["message"]
        assert "set SIGNUP_RATELIMIT_STORAGE_URI to a Redis they all share" in warning["message"]
    else:
        assert warnings == []


def test_without_redis_the_form_ledger_forgets_a_form_after_its_lifetime(monkeypatch: pytest.MonkeyPatch) -> None:
    """A day of forms' keys is held in memory, in the limits' store (whose sweep is calm: see below)."""
    now = [1000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    ledger = FormLedger("memory://", lifetime=60)
    assert ledger.claim("form-1", "ann@example.com") == Claim.FIRST
    assert ledger.claim("form-1", "ann@example.com") == Claim.SAME
    assert ledger.claim("form-1", "bob@example.com") == Claim.OTHER
    ledger.release("form-2", "cy@example.com")  # a form never claimed: nothing to forget
    now[0] += 30
    assert ledger.claim("form-2", "cy@example.com") == Claim.FIRST
    ledger.release("form-2", "cy@example.com")
    now[0] += 31  # form-1 is past its lifetime; form-2 was released, then counted again below
    assert ledger.claim("form-1", "ann@example.com") == Claim.FIRST
    assert ledger.claim("form-2", "cy@example.com") == Claim.FIRST
    now[0] += 30  # the release dropped form-2's first count: its second lives its own lifetime
    assert ledger.claim("form-2", "dee@example.com") == Claim.OTHER


def test_in_memory_limits_sweep_every_few_seconds_from_one_daemon_thread_not_after_each_count() -> None:
    """limits' memory store walks every key it holds 10 ms after each count: with thousands of
    addresses in an hour, that sweep ran back to back and took a core. Counting never relied on it."""
    limiter = RateLimiter("memory://", {Rule.SIGNUP: tuple(parse_many("2/minute"))})
    limiter.hit(Rule.SIGNUP, "198.51.100.1", "too_many_signups")
    time.sleep(0.05)  # the store's first sweep, 10 ms after it was made, is over
    threads = threading.active_count()
    for n in range(500):
        limiter.hit(Rule.SIGNUP, f"2001:db8:{n:x}::/64", "too_many_signups")
    store = limiter._window.storage  # type: ignore[union-attr]
    assert threading.active_count() <= threads + 1
    assert (store.timer.interval, store.timer.daemon) == (CalmMemoryStorage.SWEEP_SECONDS, True)
    limiter.hit(Rule.SIGNUP, "198.51.100.1", "too_many_signups")
    with pytest.raises(TooManyAttempts):
        limiter.hit(Rule.SIGNUP, "198.51.100.1", "too_many_signups")
