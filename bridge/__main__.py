"""``python -m bridge``: run the Redis bridge until SIGTERM/SIGINT (then drain, exit 0)."""

from __future__ import annotations

import logging
import signal
import sys

import settings
from adapters import logs, malloc, tracing
from adapters.despachante import CeleryDespachante, celery_produtor
from adapters.passwords import Argon2Hasher
from adapters.redis_client import celery_broker_ssl, redis_from_settings
from bridge.core import Bridge, BridgeConfig

logger = logging.getLogger("bridge")


def build(cfg: dict) -> Bridge:
    client = redis_from_settings(cfg, health_check_interval=30, socket_connect_timeout=5)
    hasher = Argon2Hasher(
        cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_KIB"], cfg["ARGON2_PARALLELISM"], cfg["SECRET_KEY"].encode()
    )
    return Bridge(
        client,
        CeleryDespachante(celery_produtor(cfg["REDIS_URL"], celery_broker_ssl(cfg))),
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
        hasher.hash_for_account,
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
