"""The order of everything Ponte receives: one Redis counter shared by the bridge and the API."""

from __future__ import annotations

import redis


def chave_sequencia(prefix: str) -> str:
    return f"{prefix}:bridge:seq"


class RedisSequencia:
    """Callable returning the next number (``INCR`` is atomic across every process)."""

    def __init__(self, client: redis.Redis, prefix: str):
        self._client = client
        self._key = chave_sequencia(prefix)

    def __call__(self) -> int:
        return int(self._client.incr(self._key))
