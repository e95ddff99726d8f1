"""The bridge, composed: a leader (``leadership``) runs the pub/sub and stream inputs
(``pubsub``, ``stream``), which turn each message into an envelope and a task
(``envelope``).

Two inputs, one order: only the leader takes input. It numbers pub/sub messages with the
Redis clock as it reads them, and a stream entry is numbered by its id's time
(``adapters/sequencia.py``). Any number of bridges may run; the others wait on the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import redis

from adapters.sequencia import RedisSequencia
from bridge.config import BridgeConfig, alive_key
from bridge.envelope import Messages
from bridge.leadership import Input, Leadership
from bridge.pubsub import PubSubIntake
from bridge.retry import DrainWait
from bridge.stats import Stats
from bridge.stream import StreamIntake

__all__ = ["Bridge", "BridgeConfig", "alive_key"]


class Bridge:
    def __init__(
        self,
        client: redis.Redis,
        despachante,
        cfg: BridgeConfig,
        hash_senha: Callable[[str, str], str],
    ):
        self.client, self.despachante, self.cfg = client, despachante, cfg
        self.stop = threading.Event()
        self.stats = Stats(client, cfg.stats_key)
        may_wait = DrainWait(self.stop, cfg.drain_max_s)
        sequencia = RedisSequencia(client, cfg.prefix)
        self.messages = Messages(despachante, self.stats, sequencia, hash_senha, may_wait)
        self.pubsub = PubSubIntake(client, cfg, self.messages, despachante, sequencia, may_wait)
        self.stream = StreamIntake(client, cfg, self.messages)
        self.leadership = Leadership(client, cfg, self.stop, self._inputs)
        self.leading = self.leadership.leading

    def _inputs(self) -> list[Input]:
        """The input threads of a term: those configured. Looked up at each term, not once."""
        inputs: list[Input] = []
        if self.cfg.channels or self.cfg.patterns:
            inputs.append(("bridge-pubsub", self.pubsub.loop))
        if self.cfg.stream:
            inputs.append(("bridge-stream", self.stream.loop))
        return inputs

    def run(self, poll_s: float = 0.5) -> None:
        """Until ``stop``: become leader when possible, then take input."""
        self.leadership.run(poll_s)

    def flush(self, lote: list[dict]) -> bool:
        """Send envelopes ``handle`` grouped (see ``Messages.flush``)."""
        return self.messages.flush(lote)

    def snapshot(self) -> dict:
        return {**self.stats.values, "lider": self.leading.is_set(), "lag_ms": self.stats.lag_ms}
