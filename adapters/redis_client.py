"""Redis access: one connection pool per process, created after fork."""

from __future__ import annotations

import redis

from adapters.per_process import PerProcess


class RedisConnector:
    def __init__(self, url: str, timeout_s: float = 5.0):
        self.url = url
        self._client = PerProcess(
            lambda: redis.Redis.from_url(
                url,
                socket_timeout=timeout_s,
                socket_connect_timeout=timeout_s,
                health_check_interval=30,
            ),
            lambda client: client.close(),
        )

    @property
    def client(self) -> redis.Redis:
        return self._client.get()

    def close(self) -> None:
        self._client.close()
