"""What a bridge is told (``BridgeConfig``, built from the settings in ``__main__``) and
the Redis keys it derives from it."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from settings import DEFAULTS

ALIVE_EVERY_S = 5.0
ALIVE_TTL_S = 15


def alive_key(prefix: str, consumer: str) -> str:
    """Where a bridge says it is alive (``python -m bridge.healthcheck`` reads it)."""
    return f"{prefix}:bridge:alive:{consumer}"


@dataclass
class BridgeConfig:
    channels: list[str]
    patterns: list[str]
    stream: str
    group: str
    prefix: str
    # The defaults are the settings' own (settings.DEFAULTS): one value, one place.
    lock_ttl_ms: int = DEFAULTS["BRIDGE_LOCK_TTL_MS"]
    batch_max: int = DEFAULTS["BRIDGE_BATCH_MAX"]
    batch_wait_ms: int = DEFAULTS["BRIDGE_BATCH_ESPERA_MS"]
    # After SIGTERM, how long retries may go on enqueueing what was already received (below
    # the 60 s stop grace of docker-compose and systemd, so the process ends by itself).
    drain_max_s: float = 20.0
    consumer: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")

    @property
    def lock_key(self) -> str:
        return f"{self.prefix}:bridge:leader"

    @property
    def stats_key(self) -> str:
        return f"{self.prefix}:bridge:stats"

    @property
    def alive_key(self) -> str:
        return alive_key(self.prefix, self.consumer)

    @property
    def epoch_key(self) -> str:
        """Changes when Redis lost the stream; the CRM reads it (``GET``) to know when to
        send its recent entries again (``deploy/redis_acl.py`` lets it)."""
        return f"{self.stream}:epoca"

    @property
    def group_created_key(self) -> str:
        """Set once the consumer group was created: a group missing later was lost."""
        return f"{self.prefix}:bridge:stream_grupo_criado:{self.stream}:{self.group}"
