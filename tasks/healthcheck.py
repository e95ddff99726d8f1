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

import bootstrap
import settings
from adapters.despachante import FILAS
from adapters.store_errors import REDIS_ERRORS


def node_name() -> str:
    return f"{os.environ.get('WORKER_NAME') or 'worker'}-{os.environ.get('PORT') or 0}@{socket.gethostname()}"


def main() -> int:
    cfg = settings.load()
    filas = settings.lista(os.environ.get("WORKER_QUEUES") or ",".join(FILAS))
    node, limite = node_name(), time.time() - 3 * cfg["WORKER_HEARTBEAT_S"]
    presence = bootstrap.presence(cfg, timeout_s=3)
    try:
        scores = presence.last_beats(node, filas)
    except REDIS_ERRORS as exc:
        print(f"worker unhealthy: Redis unreachable ({exc})", file=sys.stderr)
        return 1
    finally:
        presence.close()
    stale = [f for f, score in zip(filas, scores, strict=True) if score is None or score < limite]
    if stale:
        print(f"worker {node} unhealthy: no recent heartbeat on {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
