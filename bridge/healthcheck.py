"""``python -m bridge.healthcheck``: exit 0 if a bridge of this host refreshed its
liveness key in Redis within the last ``ALIVE_TTL_S`` seconds (leader or standby).

Used by the container healthcheck and by systemd/monitoring scripts; it opens one
Redis connection and closes it.
"""

from __future__ import annotations

import socket
import sys

import redis

import bootstrap
import settings
from bridge.config import alive_key


def main() -> int:
    cfg = settings.load()
    client = bootstrap.redis_client(cfg, socket_timeout=3, socket_connect_timeout=3)
    try:
        pattern = alive_key(cfg["REDIS_PREFIX"], f"{socket.gethostname()}-*")
        found = next(iter(client.scan_iter(match=pattern, count=1000)), None)
    except redis.RedisError as exc:
        print(f"bridge unhealthy: Redis unreachable ({exc})", file=sys.stderr)
        return 1
    finally:
        client.close()
    if found is None:
        print("bridge unhealthy: no liveness key for this host", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
