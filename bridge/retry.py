"""The bridge's one retry policy: a few tries, waits doubling from ``base_s`` up to
``cap_s``, and a say, before each wait, in whether to wait at all (a stopping bridge
drains only for a bounded time)."""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable


def retry[T](
    action: Callable[[], T],
    *,
    attempts: float,
    base_s: float,
    may_wait: Callable[[float], bool],
    cap_s: float = math.inf,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
) -> T:
    """``action()``'s result, tried up to ``attempts`` times (``math.inf``: until it works or
    ``may_wait`` says no). After the n-th failure it waits ``min(cap_s, base_s * 2**(n-1))``
    through ``may_wait``, which waits and returns True, or returns False to give up. Giving
    up re-raises the last failure; an exception not in ``retry_on`` is never retried."""
    for attempt in itertools.count(1):
        try:
            return action()
        except retry_on:
            if attempt >= attempts or not may_wait(min(cap_s, base_s * 2 ** (attempt - 1))):
                raise
    raise AssertionError("unreachable")  # itertools.count never ends


class DrainWait:
    """``may_wait`` for the bridge's Redis and broker writes.

    Not ``stop.wait``: after SIGTERM the bridge still enqueues what it has already
    received, and a retry that did not wait would spend its tries on a broker hiccup in an
    instant and drop those messages. But the drain is bounded (``drain_max_s`` from the
    first retry after the stop), so that a Redis that stays down cannot keep the process
    alive past its stop grace, message by message."""

    def __init__(self, stop: threading.Event, drain_max_s: float):
        self._stop, self._drain_max_s = stop, drain_max_s
        self._drain_until: float | None = None  # set at the first retry after the stop

    def __call__(self, seconds: float) -> bool:
        if self._stop.is_set():
            if self._drain_until is None:
                self._drain_until = time.monotonic() + self._drain_max_s
            if time.monotonic() + seconds > self._drain_until:
                return False
        time.sleep(seconds)
        return True
