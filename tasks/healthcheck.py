"""``python -m tasks.healthcheck``: exit 0 if this host's worker beat recently.

The worker (``tasks.observability``) writes its node name into one sorted set per
queue every ``WORKER_HEARTBEAT_S``; this checks the entry of the node name the
Procfile gives it (``${WORKER_NAME:-worker}-${PORT:-0}@<hostname>``) on each of its
queues. One Redis round trip, no broadcast to every worker.
"""

from __future__ import annotations

import os
import socket
import sys
import time

import redis

import settings
from adapters.despachante import FILAS, presence_key
from adapters.redis_client import redis_from_settings


def node_name() -> str:
    return f"{os.environ.get('WORKER_NAME') or 'worker'}-{os.environ.get('PORT') or 0}@{socket.gethostname()}"


def main() -> int:
    cfg = settings.load()
    filas = settings.lista(os.environ.get("WORKER_QUEUES") or ",".join(FILAS))
    node, limite = node_name(), time.time() - 3 * cfg["WORKER_HEARTBEAT_S"]
    client = redis_from_settings(cfg, socket_timeout=3, socket_connect_timeout=3)
    try:
        with client.pipeline(transaction=False) as pipe:
            for fila in filas:
                pipe.zscore(presence_key(cfg["REDIS_PREFIX"], fila), node)
            scores = pipe.execute()
    except redis.RedisError as exc:
        print(f"worker unhealthy: Redis unreachable ({exc})", file=sys.stderr)
        return 1
    finally:
        client.close()
    stale = [f for f, score in zip(filas, scores, strict=True) if score is None or score < limite]
    if stale:
        print(f"worker {node} unhealthy: no recent heartbeat on {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
