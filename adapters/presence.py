"""Which workers consume which queue: each worker's main process beats into one Redis
sorted set per queue (member: its node name, score: the time), so ``/ready`` and the
worker's healthcheck know the live consumers with one round trip, without a broadcast.
"""

from __future__ import annotations

import redis


def presence_key(prefix: str, queue: str) -> str:
    """The sorted set in which each worker consuming ``queue`` beats."""
    return f"{prefix}:workers:{queue}"


class WorkerPresence:
    def __init__(self, client: redis.Redis, prefix: str):
        self.client, self._prefix = client, prefix

    def beat(self, node: str, queues: list[str], now: float, every_s: float) -> None:
        """``node`` is alive on ``queues``; beats older than three periods are dropped."""
        with self.client.pipeline(transaction=False) as pipe:
            for q in queues:
                key = presence_key(self._prefix, q)
                pipe.zadd(key, {node: now})
                pipe.zremrangebyscore(key, "-inf", now - 3 * every_s)
                pipe.expire(key, int(3 * every_s))
            pipe.execute()

    def withdraw(self, node: str, queues: list[str]) -> None:
        with self.client.pipeline(transaction=False) as pipe:
            for q in queues:
                pipe.zrem(presence_key(self._prefix, q), node)
            pipe.execute()

    def last_beats(self, node: str, queues: list[str]) -> list[float | None]:
        """When ``node`` last beat on each of ``queues`` (None: never, or dropped)."""
        with self.client.pipeline(transaction=False) as pipe:
            for q in queues:
                pipe.zscore(presence_key(self._prefix, q), node)
            return pipe.execute()

    def queues(self, queues: tuple[str, ...], since: float) -> dict[str, dict[str, int]]:
        """Per queue, the workers that beat since ``since`` and the messages waiting."""
        with self.client.pipeline(transaction=False) as pipe:
            for q in queues:
                pipe.zcount(presence_key(self._prefix, q), since, "+inf")
                pipe.llen(q)
            valores = pipe.execute()
        return {q: {"workers": valores[2 * i], "pendentes": valores[2 * i + 1]} for i, q in enumerate(queues)}

    def close(self) -> None:
        self.client.close()
