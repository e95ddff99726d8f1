"""Leadership: one bridge at a time takes input.

Bridges elect a leader with a Redis lock (``SET NX PX``, renewed every fifth of its TTL);
only the leader runs the input threads, so nothing is enqueued twice, and if it dies
another takes over within the lock's TTL. A leader whose input thread ends gives up the
lead and starts again: it never goes on calling itself the leader while taking no input.
Every bridge, leader or standby, refreshes a liveness key for the health check.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import suppress

import redis

from bridge.config import ALIVE_EVERY_S, ALIVE_TTL_S, BridgeConfig

logger = logging.getLogger(__name__)


class Term:
    """One term as leader, shared with its input threads: over when the bridge stops or
    the lead is lost (``lost``)."""

    def __init__(self, stop: threading.Event):
        self.stop = stop
        self.lost = threading.Event()

    def active(self) -> bool:
        return not (self.stop.is_set() or self.lost.is_set())

    def pause(self, s: float) -> None:
        """Back off after a failure; cut short when the bridge stops or loses the lead."""
        fim = time.monotonic() + s
        while self.active() and (resta := fim - time.monotonic()) > 0:
            self.stop.wait(min(resta, 0.05))


# An input: a thread's name and what it runs for the length of a term.
Input = tuple[str, Callable[[Term], None]]


class Leadership:
    """The leader lock, the liveness key, and the input threads (``inputs()``, asked at
    each term) that a leader runs and watches."""

    def __init__(
        self, client: redis.Redis, cfg: BridgeConfig, stop: threading.Event, inputs: Callable[[], list[Input]]
    ):
        self.client, self.cfg, self.stop, self._inputs = client, cfg, stop, inputs
        self.lock = client.lock(cfg.lock_key, timeout=cfg.lock_ttl_ms / 1000, blocking=False, thread_local=False)
        self.leading = threading.Event()
        self._alive_at = -ALIVE_EVERY_S

    def run(self, poll_s: float = 0.5) -> None:
        """Until ``stop``: become leader when possible, then take input."""
        logger.info("bridge %s started (standby until it holds the leader lock)", self.cfg.consumer)
        while not self.stop.is_set():
            self._alive("standby")
            if not self.lock.acquire(blocking=False):
                self.stop.wait(poll_s)
                continue
            logger.info("bridge %s is the leader", self.cfg.consumer)
            self.leading.set()
            try:
                inteiro = self._lead()
            finally:
                self.leading.clear()
                with suppress(redis.RedisError, redis.exceptions.LockError):  # expired, taken over, unreachable
                    self.lock.release()
            if not inteiro:  # a worker thread died: let another bridge lead, or start them again
                self.stop.wait(poll_s)
        logger.info("bridge %s stopped", self.cfg.consumer)

    def _lead(self) -> bool:
        """Lead until stopped or the lock is lost; False if a worker thread ended on its own.

        A leader without one of its threads would go on saying it leads (liveness key,
        lock renewed) while taking no input: a thread that ends is treated as losing the
        lock, the others stop, the lock is released and ``run`` starts them all again."""
        term = Term(self.stop)
        done = threading.Event()
        renew = threading.Thread(target=self._renew, args=(term, done), name="bridge-lock", daemon=True)
        workers = [threading.Thread(target=alvo, args=(term,), name=nome) for nome, alvo in self._inputs()]
        for t in [renew, *workers]:
            t.start()
        inteiro = self._watch([renew, *workers], term)
        for t in workers:
            t.join()
        done.set()
        renew.join()
        return inteiro

    def _watch(self, threads: list[threading.Thread], term: Term) -> bool:
        """Refresh the liveness key until the term ends; False if a thread ended first."""
        while term.active():
            if mortas := [t.name for t in threads if not t.is_alive()]:
                logger.error("bridge %s: thread %s ended; giving up the lead", self.cfg.consumer, ", ".join(mortas))
                term.lost.set()
                return False
            self._alive("leader")
            self.stop.wait(0.2)
        return True

    def _renew(self, term: Term, done: threading.Event) -> None:
        """Renew the lock every fifth of its TTL; a failure ends the term."""
        interval = self.cfg.lock_ttl_ms / 1000 / 5
        while not done.wait(interval):
            try:
                if not self.lock.reacquire():
                    raise redis.exceptions.LockError("not owned")
            except Exception:
                logger.exception("bridge %s lost the leader lock", self.cfg.consumer)
                term.lost.set()
                return

    def _alive(self, papel: str) -> None:
        """Refresh this bridge's liveness key at most every ALIVE_EVERY_S."""
        now = time.monotonic()
        if now - self._alive_at < ALIVE_EVERY_S:
            return
        try:
            self.client.set(self.cfg.alive_key, papel, ex=ALIVE_TTL_S)
            self._alive_at = now
        except redis.RedisError as exc:  # the health check will report it
            logger.warning("bridge liveness not written: %s", exc)
