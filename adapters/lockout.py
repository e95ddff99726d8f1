"""Account lock-out after repeated failed log-ins, counted in Redis per e-mail."""

from __future__ import annotations

import hashlib

import redis

from domain.seguranca import Bloqueado


class RedisLoginGuard:
    def __init__(self, redis_client: redis.Redis, prefix: str, max_failures: int, lockout_s: int):
        self._redis = redis_client
        self._prefix = f"{prefix}:auth:falhas:"
        self._max = max_failures
        self._window = lockout_s

    def _key(self, email: str) -> str:
        # Hashed so that Redis holds no customer e-mail addresses.
        return self._prefix + hashlib.sha256(email.encode()).hexdigest()

    def verificar(self, email: str) -> None:
        key = self._key(email)
        falhas = int(self._redis.get(key) or 0)
        if falhas >= self._max:
            raise Bloqueado("Muitas tentativas; tente mais tarde.", retry_after=max(1, self._redis.ttl(key)))

    def falhou(self, email: str) -> None:
        key = self._key(email)
        with self._redis.pipeline() as pipe:
            # The window starts at the first failure (SET NX), works on any Redis version.
            pipe.set(key, 0, ex=self._window, nx=True)
            pipe.incr(key)
            pipe.execute()

    def sucesso(self, email: str) -> None:
        self._redis.delete(self._key(email))
