"""The bridge, composed: a leader (``lideranca``) runs the pub/sub and stream inputs
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
from bridge.envelope import Mensagens
from bridge.lideranca import Entrada, Lideranca
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
        self.mensagens = Mensagens(despachante, self.stats, sequencia, hash_senha, may_wait)
        self.pubsub = PubSubIntake(client, cfg, self.mensagens, despachante, sequencia, may_wait)
        self.stream = StreamIntake(client, cfg, self.mensagens)
        self.lideranca = Lideranca(client, cfg, self.stop, self._entradas)
        self.leading = self.lideranca.leading

    def _entradas(self) -> list[Entrada]:
        """The input threads of a term: those configured. Looked up at each term, not once."""
        entradas: list[Entrada] = []
        if self.cfg.channels or self.cfg.patterns:
            entradas.append(("bridge-pubsub", self.pubsub.loop))
        if self.cfg.stream:
            entradas.append(("bridge-stream", self.stream.loop))
        return entradas

    def run(self, poll_s: float = 0.5) -> None:
        """Until ``stop``: become leader when possible, then take input."""
        self.lideranca.run(poll_s)

    def flush(self, lote: list[dict]) -> bool:
        """Send envelopes ``handle`` grouped (see ``Mensagens.flush``)."""
        return self.mensagens.flush(lote)

    def snapshot(self) -> dict:
        return {**self.stats.values, "lider": self.leading.is_set(), "lag_ms": self.stats.lag_ms}
