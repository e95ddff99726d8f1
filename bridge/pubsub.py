"""Pub/sub, what the CRM does today: ``SUBSCRIBE`` to the channels and ``PSUBSCRIBE`` to
the patterns, then gather what arrives into batches. Redis drops what is published while
nobody listens, and a message read cannot be read again: a Redis hiccup is retried here."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from contextlib import suppress

import redis

from adapters.sequencia import RedisSequencia
from bridge.config import BridgeConfig
from bridge.envelope import Messages
from bridge.leadership import Term
from bridge.retry import retry

logger = logging.getLogger(__name__)


class PubSubIntake:
    """The pub/sub input thread of a leader's term (``loop``)."""

    def __init__(
        self,
        client: redis.Redis,
        cfg: BridgeConfig,
        messages: Messages,
        despachante,
        sequencia: RedisSequencia,
        may_wait: Callable[[float], bool],
    ):
        self.client, self.cfg, self.messages, self.despachante = client, cfg, messages, despachante
        self._sequencia, self._may_wait = sequencia, may_wait
        self._queue_unreadable_until = 0.0  # after a failed look at the sync queue, do not gather

    def loop(self, term: Term) -> None:
        """Subscribe, then take messages until the term ends. No error ends it: each is
        logged and retried after a short pause."""
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            self._subscribe(pubsub, term)
            while term.active():
                try:
                    self._batch(pubsub, term)
                except Exception:
                    logger.exception("pub/sub intake failed; retrying")
                    term.pause(0.5)
            # Stop listening, then enqueue what already arrived: nothing received is dropped.
            try:
                pubsub.unsubscribe()
                pubsub.punsubscribe()
                while self._batch(pubsub, term):
                    pass
            except Exception:
                logger.exception("pub/sub: could not drain on the way out")
        finally:
            with suppress(Exception):
                pubsub.close()

    def _subscribe(self, pubsub, term: Term) -> None:
        """Subscribe, tried again every 0.5 s until it works or the term ends."""

        def pause(s: float) -> bool:
            logger.exception("pub/sub subscribe failed; retrying")  # each failure, with its traceback
            term.pause(s)
            return term.active()

        def subscribe() -> None:
            if self.cfg.channels:
                pubsub.subscribe(*self.cfg.channels)
            if self.cfg.patterns:
                pubsub.psubscribe(*self.cfg.patterns)

        if term.active():
            with suppress(Exception):  # given up only when the term ended: nothing to listen for
                retry(subscribe, attempts=math.inf, base_s=0.5, cap_s=0.5, may_wait=pause)

    def _batch(self, pubsub, term: Term) -> bool:
        """Wait up to 0.2 s for a message, take whatever else has already arrived (up to
        ``batch_max``), send it as one batch. A lone message goes at once while the
        workers keep up: batching adds no latency then; it happens when messages are
        queuing up, here or in the sync queue (``_gather_while_busy``)."""
        lote: list[dict] = []
        brutos: list[tuple[str, bytes]] = []
        got = self.read(pubsub, timeout=0.2, brutos=brutos)
        mais = got
        while mais and len(brutos) < self.cfg.batch_max:
            mais = self.read(pubsub, timeout=0, brutos=brutos)
        self._handle_batch(brutos, lote)
        if lote and len(lote) < self.cfg.batch_max and term.active():
            self._gather_while_busy(pubsub, lote, term)
        self.messages.flush(lote)
        return got

    def _gather_while_busy(self, pubsub, lote: list[dict], term: Term) -> None:
        """Keep gathering while the sync queue holds a task no worker has taken: a task sent
        now would only wait behind it, and a steady stream near the workers' rate would
        become one small task per message, a backlog never drained. Bounded by
        ``batch_wait_ms`` (held in memory, as pub/sub is); cut short by a stop or a lost
        leader lock, since a new leader may be listening already."""
        limite = time.monotonic() + self.cfg.batch_wait_ms / 1000
        while len(lote) < self.cfg.batch_max and time.monotonic() < limite and term.active() and self._queue_busy():
            # Between looks at the queue, take what arrives for a few milliseconds.
            fatia = min(limite, time.monotonic() + 0.01)
            while len(lote) < self.cfg.batch_max and (resta := fatia - time.monotonic()) > 0:
                brutos: list[tuple[str, bytes]] = []
                if self.read(pubsub, timeout=resta, brutos=brutos):
                    while len(lote) + len(brutos) < self.cfg.batch_max and self.read(pubsub, 0, brutos):
                        pass
                self._handle_batch(brutos, lote)

    def _queue_busy(self) -> bool:
        """The sync queue holds a task no worker has taken yet."""
        if time.monotonic() < self._queue_unreadable_until:
            return False
        try:
            return self.despachante.sync_em_espera() > 0
        except Exception:  # the broker is having trouble: send now (flush retries it)
            logger.warning("bridge could not read the sync queue's length; not gathering for 5 s", exc_info=True)
            self._queue_unreadable_until = time.monotonic() + 5
            return False

    def read(self, pubsub, timeout: float, brutos: list) -> bool:
        """Read one pub/sub message (waiting up to ``timeout``) into ``brutos``; True if
        anything arrived."""
        try:
            msg = pubsub.get_message(timeout=timeout)
        except redis.RedisError:
            logger.exception("pub/sub connection error; reconnecting")
            time.sleep(0.5)
            return False
        if msg is None or msg["type"] not in ("message", "pmessage"):
            return msg is not None
        # A channel name is bytes from any publisher: one that is not UTF-8 must not lose the batch.
        canal = msg["channel"].decode("utf-8", "replace") if isinstance(msg["channel"], bytes) else msg["channel"]
        brutos.append((canal, msg["data"]))
        return True

    def _handle_batch(self, brutos: list[tuple[str, bytes]], lote: list[dict]) -> None:
        """Number the messages read together (one INCRBY) and handle them in order."""
        if not brutos:
            return
        primeiro = self._reserve(len(brutos))
        for n, (canal, raw) in enumerate(brutos):
            seq = None if primeiro is None else primeiro + n
            self.messages.safe_handle(canal, raw, "pubsub", lote=lote, seq=seq)

    def _reserve(self, n: int) -> int | None:
        """The first of ``n`` consecutive sequence numbers (the counter API writes share),
        or None if Redis keeps failing (each message then tries on its own). Stream entries
        are numbered as they are read instead (``bridge.stream``)."""
        try:
            return retry(
                lambda: self._sequencia.reservar(n),
                attempts=5, base_s=0.2, may_wait=self._may_wait, retry_on=(redis.RedisError,),
            )  # fmt: skip
        except redis.RedisError:
            return None
