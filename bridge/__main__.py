"""``python -m bridge``: run the Redis bridge until SIGTERM/SIGINT (then drain, exit 0)."""

from __future__ import annotations

import logging
import signal
import sys

import bootstrap
import settings
from adapters import logs, malloc, tracing
from bridge.core import Bridge, BridgeConfig

logger = logging.getLogger("bridge")


def build(cfg: dict) -> Bridge:
    """The bridge on what ``bootstrap`` makes for it: its Redis client, the task producer,
    the CRM passwords' hashing."""
    parts = bootstrap.for_bridge(cfg)
    return Bridge(
        parts.redis,
        parts.despachante,
        BridgeConfig(
            channels=settings.lista(cfg["BRIDGE_CHANNELS"]),
            patterns=settings.lista(cfg["BRIDGE_PATTERNS"]),
            stream=cfg["BRIDGE_STREAM"],
            group=cfg["BRIDGE_GROUP"],
            prefix=cfg["REDIS_PREFIX"],
            lock_ttl_ms=cfg["BRIDGE_LOCK_TTL_MS"],
            batch_max=cfg["BRIDGE_BATCH_MAX"],
            batch_wait_ms=cfg["BRIDGE_BATCH_ESPERA_MS"],
        ),
        parts.hash_senha,
    )


def main() -> int:
    cfg = settings.load()
    logs.configure(cfg, "bridge")
    malloc.tune()
    tracing.setup(cfg, "bridge")
    bridge = build(cfg)

    def _stop(signum, _frame):
        logger.info("signal %s: draining and stopping", signal.Signals(signum).name)
        bridge.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    bridge.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
