"""Ponte's Celery application: ``celery -A tasks worker``.

Tasks are thin: they decode their arguments and call a service from ``services``; their
base class (``tasks.base.PonteTask``) retries transient failures. Each worker process gets
its own MongoDB client after the prefork pool forks (``worker_process_init``).
"""

from __future__ import annotations

import logging
import sys
from functools import cache

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_process_shutdown

import settings
from adapters.metrics_dir import prepare_multiprocess

if "worker" in sys.argv[1:]:
    # Celery imports this module in the worker's main process before it forks the pool;
    # prometheus-client must learn its multiprocess directory before it is imported
    # (by tasks.observability below), so the pool's children report through files.
    prepare_multiprocess(settings.load()["METRICS_DIR"], "worker")

from adapters import logs, malloc
from adapters.cache import ProdutoCache
from adapters.contexto import montar_contexto
from adapters.mongo import MongoConnector
from adapters.passwords import Argon2Hasher
from adapters.publicador import RedisPublicador
from adapters.redis_client import RedisConnector, tls_options
from adapters.tokens import JwtTokens
from tasks import faults, observability

logger = logging.getLogger(__name__)

app = Celery("ponte", include=["tasks.sync", "tasks.pagamentos", "tasks.envios", "tasks.backups"])
app.config_from_object("celeryconfig")


class _Resources:
    """This worker process's connections, built lazily after fork."""

    mongo: MongoConnector | None = None
    _redis: RedisConnector | None = None

    @cache  # noqa: B019 - one instance per process, for the process's life
    def cfg(self) -> dict:
        return settings.load()

    def get_mongo(self) -> MongoConnector:
        if self.mongo is None:
            cfg = self.cfg()
            self.mongo = MongoConnector(
                cfg["MONGO_URI"], cfg["MONGO_DB"], cfg["MONGO_TIMEOUT_MS"], appname="ponte-worker"
            )
        return self.mongo

    @cache  # noqa: B019
    def hasher(self) -> Argon2Hasher:
        cfg = self.cfg()
        return Argon2Hasher(cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_KIB"], cfg["ARGON2_PARALLELISM"])

    @cache  # noqa: B019
    def despachante(self):
        from adapters.despachante import CeleryDespachante

        return CeleryDespachante(app)

    def redis(self) -> RedisConnector:
        if self._redis is None:
            cfg = self.cfg()
            self._redis = RedisConnector(cfg["REDIS_URL"], master=cfg["REDIS_SENTINEL_MASTER"], tls=tls_options(cfg))
        return self._redis

    @cache  # noqa: B019
    def produto_cache(self) -> ProdutoCache | None:
        ttl = self.cfg()["PRODUTO_CACHE_TTL_S"]
        return ProdutoCache(self.redis().client, self.cfg()["REDIS_PREFIX"], ttl) if ttl > 0 else None

    def contexto(self, ator: str, request_id: str | None = None):
        return montar_contexto(
            self.get_mongo().db(),
            self.hasher(),
            ator,
            request_id,
            despachante=self.despachante(),
            publicador=RedisPublicador(self.redis().client),
            carrinho_java_pagamento=self.cfg()["CARRINHO_JAVA_PAGAMENTO"],
            cache=self.produto_cache(),
            tokens=self.tokens(),
        )

    @cache  # noqa: B019
    def tokens(self) -> JwtTokens:
        """Only to end a customer's sessions (a CRM password change); workers issue none."""
        cfg = self.cfg()
        return JwtTokens(cfg["SECRET_KEY"], cfg["TOKEN_TTL_S"], self.redis().client, cfg["REDIS_PREFIX"])


resources = _Resources()
observability.install(app, resources.cfg)


@worker_init.connect
def _install_faults(**_) -> None:
    # In the worker's main process, before the pool forks: the children inherit it, and
    # importing ``tasks`` (beat, a producer) reads no setting.
    faults.install(resources.cfg())


@worker_process_init.connect
def _init_worker_process(**_):
    malloc.tune()
    logs.after_fork(resources.cfg(), "worker")
    # One MongoClient per pool process, created after the fork. Building it does not
    # block on the server: a worker starts while MongoDB is down and its tasks retry.
    resources.mongo = None
    client = resources.get_mongo().client
    logger.debug("worker process MongoClient ready: %r", client.topology_description.topology_type_name)


@worker_process_shutdown.connect
def _close_worker_process(**_):
    if resources.mongo is not None:
        resources.mongo.close()
    if resources._redis is not None:
        resources._redis.close()
