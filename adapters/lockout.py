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

    def verificar(self, chave: str) -> None:
        """Count this attempt before its password is checked, and refuse it past the limit.

        Counted up front (one atomic INCR) so that parallel guesses cannot all pass a
        check-then-count: 30 simultaneous wrong passwords used to all be checked against
        a limit of 5. A successful log-in clears the count (``sucesso``), so what is
        limited is attempts without a success inside the window."""
        key = self._key(chave)
        with self._redis.pipeline() as pipe:
            # The window starts at the first attempt (SET NX), works on any Redis version.
            pipe.set(key, 0, ex=self._window, nx=True)
            pipe.incr(key)
            pipe.ttl(key)
            _, tentativas, ttl = pipe.execute()
        if tentativas > self._max:
            raise Bloqueado("Muitas tentativas; tente mais tarde.", retry_after=max(1, ttl))

    def falhou(self, chave: str) -> None:
        """Already counted by ``verificar``."""

    def sucesso(self, chave: str) -> None:
        self._redis.delete(self._key(chave))
