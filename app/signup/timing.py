"""With existing accounts hidden, every sign-up takes as long as its slowest way usually does.

The ways differ in their Cognito calls: a new address is one SignUp; a taken one a SignUp that
fails (and, where unfinished sign-ups may be replaced, AdminGetUser); replacing an unfinished
sign-up is four calls. Timing the answers would tell which addresses have accounts, so each way's
duration is kept as a moving average, in each process, and a hidden sign-up answers no sooner than
the slowest way's average: all of them take as long as the slowest, within its noise. A way not yet
seen by the process has no average: until then it is not waited for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum


class Way(StrEnum):
    """How a hidden sign-up went, as far as its Cognito calls go."""

    NEW = "new"  # SignUp made the account
    TAKEN = "taken"  # SignUp met an account that stays (confirmed, or not to be replaced)
    REPLACED = "replaced"  # an unfinished sign-up deleted, then SignUp


class EvenTiming:
    """The moving average of each way's duration, and the wait that brings a sign-up up to the slowest."""

    def __init__(self, weight: float = 0.2, longest_wait: float = 3.0, sleep: Callable[[float], None] = time.sleep):
        self._weight = weight  # of the newest duration: a few sign-ups follow a slower or faster Cognito
        self._longest_wait = longest_wait  # an average pushed up by a slow spell never holds a thread long
        self._sleep = sleep
        self._averages: dict[Way, float] = {}
        self._lock = threading.Lock()

    def finish(self, way: Way, started: float) -> None:
        """Count this sign-up's duration for its way, then wait until the slowest way's average has passed."""
        took = time.monotonic() - started
        with self._lock:
            last = self._averages.get(way)
            self._averages[way] = took if last is None else last + self._weight * (took - last)
            slowest = max(self._averages.values())
        wait = min(slowest - took, self._longest_wait)
        if wait > 0:
            self._sleep(wait)
