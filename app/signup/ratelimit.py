"""Rate limits that hold across every instance, on top of the `limits` library.

Limits count only attempts that would reach Cognito (a form with a typo costs nothing), and
key on the client's IP address or on the username, so that one person cannot guess codes or
pump text messages however many addresses they use, and one address cannot create accounts
in bulk. The storage is shared (Redis) when several instances run.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from typing import Any

from limits import RateLimitItem
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.errors import TooManyAttempts
from app.ops.metrics import RATE_LIMITED

log = logging.getLogger(__name__)

OUTAGE_WARNING_INTERVAL_S = 60


class Rule(StrEnum):
    """A rate limit, by what it counts. Its setting is SIGNUP_RATELIMIT_<NAME> (`setting`), its
    metric label and storage key the value; a misspelt rule is a mypy error, not a KeyError."""

    SIGNUP = "signup"  # sign-ups from one IP address (an IPv6 /64)
    CONFIRM = "confirm"  # codes tried from one IP address
    CONFIRM_PER_USER = "confirm_per_user"  # codes tried for one account from one address
    RESEND = "resend"  # new codes asked for from one IP address
    RESEND_PER_USER = "resend_per_user"  # codes sent to one username: the cooldown
    CODES_PER_DESTINATION = "codes_per_destination"  # codes sent to one email address or phone number

    @property
    def setting(self) -> str:
        """The environment variable that sets this limit."""
        return f"SIGNUP_RATELIMIT_{self.name}"


class RateLimiter:
    """Counts attempts per rule and key; over a limit it says how long to wait."""

    def __init__(
        self, storage_uri: str, rules: Mapping[Rule, tuple[RateLimitItem, ...]], *, enabled: bool = True
    ) -> None:
        # Shortest window first: see hit() for why the order matters.
        self._rules = {name: tuple(sorted(items, key=RateLimitItem.get_expiry)) for name, items in rules.items()}
        self._storage_uri = storage_uri if enabled else None
        self._last_warning = -math.inf  # time.monotonic() of the last outage warning
        self._missed = 0  # attempts let through since then

    def _outage(self, err: StorageError) -> None:
        """A storage outage must not stop sign-ups: fail open, and say so, once a minute at most.

        A warning per request would flood the log just when the operator needs to read it; the
        next warning says how many attempts went uncounted meanwhile. The error's text could name
        the store's address with its password, so only its type is logged.
        """
        self._missed += 1
        now = time.monotonic()
        if now - self._last_warning >= OUTAGE_WARNING_INTERVAL_S:
            log.warning(
                "Rate-limit storage unavailable (%s): limits not applied; %d attempt(s) let through since last said",
                _kind(err),
                self._missed,
            )
            self._last_warning, self._missed = now, 0

    @cached_property
    def _window(self) -> MovingWindowRateLimiter | None:
        """Made on first use, so in each worker after the fork: a memory store's timer or a Redis
        connection pool made in gunicorn's master would be shared, and broken, by every worker."""
        return MovingWindowRateLimiter(_storage(self._storage_uri)) if self._storage_uri else None

    def hit(self, rule: Rule, key: str, message: str) -> None:
        """Count one attempt; raise TooManyAttempts (with the wait) when any limit of the rule is used up.

        Counting is the check: the store adds the attempt only when its window has room, in one step
        (a Lua script in Redis, a lock in memory), so simultaneous attempts cannot all pass a check
        before any of them is counted. The check before it is only there so that an attempt refused
        is, as a rule, counted nowhere; when two attempts race for the last place and a longer window
        refuses, the shorter windows, taken first, keep the count, and they empty soonest.
        """
        wait = self.wait(rule, key)
        if not wait and self._take_places(rule, key):
            return
        RATE_LIMITED.labels(rule).inc()
        raise TooManyAttempts(message, code="RateLimited", retry_after=wait or max(1, self.wait(rule, key)))

    def _take_places(self, rule: Rule, key: str) -> bool:
        """A place in each window of the rule, shortest first; False at the first window that is full."""
        if self._window is None:
            return True
        window = self._window
        try:
            return all(window.hit(item, rule, key.lower()) for item in self._rules[rule])
        except StorageError as err:
            self._outage(err)
            return True

    def count(self, rule: Rule, key: str) -> None:
        """Count one attempt that has happened anyway (a code Cognito sent with the sign-up)."""
        if self._window is None:
            return
        try:
            for item in self._rules[rule]:
                self._window.hit(item, rule, key.lower())
        except StorageError as err:
            self._outage(err)

    def wait(self, rule: Rule, key: str) -> int:
        """Seconds until the rule allows another attempt for this key; 0 when it allows one now."""
        if self._window is None:
            return 0
        now = time.time()
        try:
            stats = [self._window.get_window_stats(item, rule, key.lower()) for item in self._rules[rule]]
        except StorageError as err:
            self._outage(err)
            return 0
        waits = [s.reset_time - now for s in stats if s.remaining <= 0]
        return max(1, math.ceil(max(waits))) if waits else 0


class Claim(StrEnum):
    """What a sign-up form (one page view, named by its form token) has done so far."""

    FIRST = "first"  # nothing yet: this post may create an account
    SAME = "same"  # it created, or is creating, an account for this very username: resume that one
    OTHER = "other"  # it was used for another username: a form never creates a second, different account


class FormLedger:
    """Remembers which account each sign-up form created, in the rate-limit store (so in Redis, for
    every instance, when one is configured), for as long as a form token lives.

    A person who presses Back on the code page, or sends the form twice, posts the same form again:
    that post resumes the account the form created, instead of meeting it as somebody else's. And
    one fetched form cannot feed a bot's many sign-ups. Only counters are kept, under a hash of the
    token: nothing here names a person.
    """

    def __init__(self, storage_uri: str, lifetime: int) -> None:
        self._storage_uri = storage_uri
        self._lifetime = lifetime
        # The memory store counts under a lock but reads the count back outside it; Redis counts
        # and answers in one step. Taking claims one at a time in a worker makes both exact.
        self._lock = threading.Lock()

    @cached_property
    def _store(self) -> Any:
        """Made on first use, in each worker after the fork (see RateLimiter._window)."""
        return _storage(self._storage_uri)

    def claim(self, page_view: str, username: str) -> Claim:
        """Count this post of the form for this username, and say what the form did before it.

        Two counters, taken in this order, make two simultaneous posts of one form agree: for the
        same username one of them is FIRST and the other SAME; for two usernames one is FIRST and
        the other OTHER. A store out of reach lets the post through (FIRST), as the limits do.
        """
        try:
            with self._lock:
                if self._store.incr(self._key(page_view, username), self._lifetime) > 1:
                    return Claim.SAME
                return Claim.FIRST if self._store.incr(self._key(page_view), self._lifetime) == 1 else Claim.OTHER
        except StorageError:
            return Claim.FIRST

    def release(self, page_view: str, username: str) -> None:
        """Forget the claim of a post that created nothing (an error, an existing account), so the
        same form may be sent again."""
        try:
            self._store.clear(self._key(page_view, username))
            self._store.clear(self._key(page_view))
        except StorageError:
            pass

    @staticmethod
    def _key(page_view: str, username: str | None = None) -> str:
        """The form's key, or the form-and-username's; hashed, so the store holds no address."""
        text = page_view if username is None else f"{page_view}\x00{username.lower()}"
        return f"signup-form/{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def network_key(ip: str, ipv6_prefix: int = 64) -> str:
    """The key a client address is limited by: an IPv4 address itself, an IPv6 address its network
    (a /64 unless `ipv6_prefix` says otherwise: SIGNUP_RATELIMIT_IPV6_PREFIX).

    One IPv6 subscriber (a home, a phone, a rented server) is given at least a whole /64 and can take
    a new address from it for every request; keyed on the network, they get one limit, as with one
    IPv4 address. Free tunnel brokers hand out /48s, which a prefix of 48 counts as one. An IPv4
    address seen through an IPv6 socket (::ffff:a.b.c.d) counts as itself; anything that is not an
    address is its own key.
    """
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv4Address):
        return str(address)
    if address.ipv4_mapped:
        return str(address.ipv4_mapped)
    host_bits = 128 - ipv6_prefix
    return str(ipaddress.IPv6Network((int(address) >> host_bits << host_bits, ipv6_prefix)))


class LockStripes:
    """A fixed set of locks, shared out by the key's hash: limits' memory store takes `locks[key]`
    around each count, and this gives every thread the same lock for a key, always.

    limits makes a key's lock on first use (`defaultdict(threading.RLock)`, and RLock is a Python
    function a thread can be switched out of), and drops it when the key expires or is cleared.
    Two first attempts at once could each make a lock and count under their own, and so could an
    attempt that arrived while its key's lock was being dropped: 6 of a limit of 5 got through,
    once in 50 rounds of 40 simultaneous sign-ups (tests/test_rate_limits.py). Here nothing is made
    or dropped after start-up. The store never holds two keys' locks at once, so sharing cannot
    deadlock; the locks are re-entrant as limits' are.
    """

    COUNT = 64

    def __init__(self) -> None:
        self._locks = tuple(threading.RLock() for _ in range(self.COUNT))

    def __getitem__(self, key: str) -> threading.RLock:  # type: ignore[valid-type]
        return self._locks[hash(key) % self.COUNT]

    def pop(self, key: str, default: object = None) -> None:
        """Nothing to drop: the lock serves every key with the same hash."""

    def clear(self) -> None:
        """Nothing to drop (limits' reset)."""


class CalmMemoryStorage(MemoryStorage):
    """limits' memory store with a lock per key that never changes (LockStripes), and expired
    entries freed every SWEEP_SECONDS rather than 10 ms after each count.

    Its sweep walks every key it holds: 22 ms for 10,000 keys on a 2-core machine (an hour of
    sign-ups from as many addresses, or the form ledger's two keys a form, kept a day), and with
    counts coming faster than every 10 ms it ran back to back, a core's worth, holding the GIL.
    Counting never relies on it (each count and read looks at its keys' times): expired entries
    only stay in memory a little longer. The sweep's thread is a daemon, so it never holds up a
    worker that is stopping.
    """

    SWEEP_SECONDS = 10.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.locks = LockStripes()  # type: ignore[assignment]
        self._scheduling = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # limits 5.8's private hook, called on each count
        """Start the next sweep unless one is waiting. One thread at a time: two first counts at once
        each made a timer, and the second to start the one left in `self.timer` raised RuntimeError."""
        if self.timer.is_alive():
            return
        with self._scheduling:
            if not self.timer.is_alive():
                timer = threading.Timer(self.SWEEP_SECONDS, self._MemoryStorage__expire_events)  # type: ignore[attr-defined]
                timer.daemon = True
                timer.start()
                self.timer = timer


def _storage(uri: str) -> Any:
    """The shared counter store. Redis gets short timeouts: a slow store must not hold up a sign-up."""
    if uri.startswith("memory://"):
        return CalmMemoryStorage(uri, wrap_exceptions=True)
    options: dict[str, float] = {}
    if uri.startswith("redis"):
        options = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    return storage_from_string(uri, wrap_exceptions=True, **options)


def _kind(err: StorageError) -> str:
    return type(getattr(err, "storage_error", err)).__name__
