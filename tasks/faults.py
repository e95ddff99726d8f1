"""Fault injection for tests and drills, kept out of the tasks' bodies.

With ``SYNC_FAULT_DELAY_MS`` set, each ``tasks.sync.aplicar_evento`` run first sleeps a
random time between ``SYNC_FAULT_DELAY_MIN_MS`` and it: parallel work is reordered, and a
task can be caught in hand (killed, or a worker stopped under it). Unset, as in
production, nothing is connected and the tasks run untouched.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from celery.signals import task_prerun

DELAYED_TASK = "tasks.sync.aplicar_evento"
DISPATCH_UID = "ponte-fault-delay"


class _Delay:
    """A ``task_prerun`` receiver: it runs in the pool process, just before the task."""

    def __init__(self, low_ms: float, high_ms: float, sleep: Callable[[float], None]):
        self.low_ms, self.high_ms, self._sleep = low_ms, high_ms, sleep

    def __call__(self, task=None, **_) -> None:
        if task is not None and task.name == DELAYED_TASK:
            self._sleep(random.uniform(self.low_ms, self.high_ms) / 1000)  # noqa: S311 - not crypto


def install(cfg: dict, sleep: Callable[[float], None] = time.sleep) -> _Delay | None:
    """Connect the delay if ``cfg`` asks for one; return it (to ``uninstall``), or None."""
    high = cfg["SYNC_FAULT_DELAY_MS"]
    if not high:
        return None
    delay = _Delay(min(cfg["SYNC_FAULT_DELAY_MIN_MS"], high), high, sleep)
    task_prerun.connect(delay, weak=False, dispatch_uid=DISPATCH_UID)
    return delay


def uninstall() -> None:
    task_prerun.disconnect(dispatch_uid=DISPATCH_UID)
