"""The store clients' failures, grouped by what they mean to the caller.

Entrypoints decide from these (retry a task, answer 503, call a probe failed) without
naming pymongo, redis or kombu: the drivers stay behind ``adapters``.
"""

from __future__ import annotations

import redis
from kombu.exceptions import OperationalError as KombuOperationalError
from pymongo.errors import ConnectionFailure, ExecutionTimeout, WTimeoutError

# MongoDB does not answer (server selection timed out, connection refused or reset).
MONGO_DOWN: tuple[type[Exception], ...] = (ConnectionFailure,)
# Redis does not answer; Kombu's OperationalError is the broker (Redis) refusing an enqueue.
REDIS_DOWN: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError, KombuOperationalError)
# Any failure of a Redis command, down or not (a probe or a best-effort write gives up on it).
REDIS_ERRORS: tuple[type[Exception], ...] = (redis.RedisError,)
# What a retry may fix: a store down, an operation or write concern timed out.
TRANSIENT: tuple[type[Exception], ...] = (
    ConnectionFailure, ExecutionTimeout, WTimeoutError, redis.ConnectionError, redis.TimeoutError
)  # fmt: skip
# Redis lost a script this process loaded (a restart, SCRIPT FLUSH): load it again.
SCRIPT_PERDIDO: tuple[type[Exception], ...] = (redis.exceptions.NoScriptError,)
