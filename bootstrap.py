"""The composition root: each process's handles on MongoDB, Redis, Celery and argon2, and
the service ``Contexto`` built on them (as cosmicpython's ``bootstrap.py``).

Every entrypoint gets its infrastructure here and nowhere else: the API and its CLI
(``for_web``), the workers and beat (``for_worker``), the bridge (``for_bridge``), the
healthchecks (``presence``, ``redis_client``). Nothing connects here: each client is made on
first use, in the process that uses it, after any fork (``adapters.per_process``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import redis
from celery import Celery
from pymongo.database import Database

from adapters import metrics
from adapters.backups import MongoDatabaseDump
from adapters.cache import ProdutoCache
from adapters.carrinhos_repository import MongoCarrinhoRepository
from adapters.despachante import FILAS, CeleryDespachante, celery_produtor
from adapters.envios_repository import MongoEnvioRepository
from adapters.estoque_repository import MongoEstoque
from adapters.gateway_simulado import GatewaySimulado
from adapters.idempotencia_repository import MongoIdempotenciaRepository
from adapters.lockout import RedisLoginGuard
from adapters.mongo import MongoConnector
from adapters.pagamentos_repository import MongoPagamentoRepository
from adapters.passwords import Argon2Hasher
from adapters.pedidos_repository import MongoPedidoRepository
from adapters.per_process import PerProcess
from adapters.presence import WorkerPresence
from adapters.publicador import RedisPublicador
from adapters.read_cache import ReadCache
from adapters.redis_client import RedisConnector, celery_broker_ssl, redis_from_settings, tls_options
from adapters.rejeitados_repository import MongoRejeitadoRepository
from adapters.repositories import (
    MongoAuditoriaRepository,
    MongoChaveRepository,
    MongoClienteRepository,
    MongoProdutoRepository,
)
from adapters.sequencia import RedisSequencia
from adapters.sync_repositories import MongoClienteSync, MongoProdutoSync
from adapters.tokens import JwtTokens
from services.contexto import Contexto

Cfg = Mapping[str, Any]


def password_hasher(cfg: Cfg) -> Argon2Hasher:
    """The one argon2id hasher. ``SECRET_KEY`` keys only the CRM passwords' salts
    (``hash_for_account``, the bridge's); ``hash`` and ``verify`` do not use it."""
    return Argon2Hasher(
        cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_KIB"], cfg["ARGON2_PARALLELISM"], cfg["SECRET_KEY"].encode()
    )


def redis_client(cfg: Cfg, **options) -> redis.Redis:
    """A client of its own with its own timeouts (the bridge blocks on its reads; a probe
    gives up after a few seconds), unlike the per-process pool of ``Resources.redis``."""
    return redis_from_settings(cfg, **options)


def presence(cfg: Cfg, timeout_s: float) -> WorkerPresence:
    """The workers' presence in Redis, on a client of its own (heartbeat, healthcheck)."""
    client = redis_client(cfg, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    return WorkerPresence(client, cfg["REDIS_PREFIX"])


def _producer(cfg: Cfg) -> Celery:
    """Celery as a producer only (the API, the bridge): tasks are sent by name."""
    return celery_produtor(cfg["REDIS_URL"], celery_broker_ssl(cfg))


@dataclass(frozen=True)
class BridgeParts:
    redis: redis.Redis
    despachante: CeleryDespachante
    hash_senha: Callable[[str, str], str]


def for_bridge(cfg: Cfg) -> BridgeParts:
    """No read timeout: the bridge blocks on its inputs (health checks find a dead socket)."""
    client = redis_client(cfg, health_check_interval=30, socket_connect_timeout=5)
    return BridgeParts(client, CeleryDespachante(_producer(cfg)), password_hasher(cfg).hash_for_account)


# Per process, per client *object*: pymongo compares clients by their settings, so two
# clients to the same server (another app, the parent before a fork) are "equal" and
# must not share repositories. Entries keep their client and cache alive: ids stay unique.
_BUNDLES: dict[tuple, tuple] = {}
_BUNDLES_MAX = 64


def _repositorios(db: Database, cache: ProdutoCache | None, leituras: ReadCache | None) -> dict:
    """The repositories over ``db``, built once per process and reused by every request
    and task: they hold only collection handles, so threads can share them."""
    key = (os.getpid(), id(db.client), db.name, id(cache), id(leituras))
    found = _BUNDLES.get(key)
    if found is not None and found[0] is db.client and found[1] == (cache, leituras) and found[2] == db.codec_options:
        return found[3]
    repos = {
        "produtos": MongoProdutoRepository(db, cache),
        "clientes": MongoClienteRepository(db, leituras),
        "chaves": MongoChaveRepository(db),
        "auditoria": MongoAuditoriaRepository(db),
        "sync_produtos": MongoProdutoSync(db, cache),
        "sync_clientes": MongoClienteSync(db, leituras),
        "rejeitados": MongoRejeitadoRepository(db),
        "carrinhos": MongoCarrinhoRepository(db, leituras),
        "pedidos": MongoPedidoRepository(db, leituras),
        "idempotencia": MongoIdempotenciaRepository(db),
        "estoque": MongoEstoque(db, cache),
        "pagamentos": MongoPagamentoRepository(db),
        "gateway": GatewaySimulado(db),
        "envios": MongoEnvioRepository(db),
    }
    if len(_BUNDLES) >= _BUNDLES_MAX:
        _BUNDLES.clear()  # many apps in one process (tests): start over
    _BUNDLES[key] = (db.client, (cache, leituras), db.codec_options, repos)
    return repos


def montar_contexto(
    db: Database,
    hasher,
    ator: str,
    request_id: str | None = None,
    cache: ProdutoCache | None = None,
    leituras: ReadCache | None = None,
    **extra,
) -> Contexto:
    """Every repository on ``db``; those that read or change products share ``cache``,
    those that change what a customer reads of their own invalidate ``leituras``."""
    return Contexto(hasher=hasher, ator=ator, request_id=request_id, **_repositorios(db, cache, leituras), **extra)


_DEFAULT: Any = object()


class Resources:
    """One process's connections and the ports built on them, for the API (and its CLI) or
    a worker; ``extensions["ponte"]`` of the Flask app, ``tasks.resources`` of a worker."""

    def __init__(self, cfg: Cfg, *, appname: str, celery: Celery | None, numerar: bool):
        self.cfg = cfg
        self.mongo = MongoConnector(cfg["MONGO_URI"], cfg["MONGO_DB"], cfg["MONGO_TIMEOUT_MS"], appname=appname)
        self.redis = RedisConnector(cfg["REDIS_URL"], master=cfg["REDIS_SENTINEL_MASTER"], tls=tls_options(cfg))
        self.hasher = password_hasher(cfg)
        self._celery = celery  # a worker's own app; otherwise a producer, made at the first send
        self._numerar = numerar
        ttl = cfg["PRODUTO_CACHE_TTL_S"]
        self._cache = PerProcess(lambda: ProdutoCache(self.redis.client, cfg["REDIS_PREFIX"], ttl)) if ttl > 0 else None
        # Always there, whatever its TTL: every writer invalidates (adapters.read_cache).
        self._leituras = PerProcess(
            lambda: ReadCache(self.redis.client, cfg["REDIS_PREFIX"], cfg["LEITURA_CACHE_TTL_S"])
        )

    def contexto(self, ator: str, request_id: str | None = None, cache: ProdutoCache | None = _DEFAULT) -> Contexto:
        """The context of one request or task: this process's repositories and ports."""
        return montar_contexto(
            self.mongo.db(),
            self.hasher,
            ator,
            request_id,
            cache=self.produto_cache if cache is _DEFAULT else cache,
            leituras=self.read_cache,
            # API writes take a number in the CRM's order; a worker's CRM events carry theirs.
            sequencia=self.sequencia() if self._numerar else None,
            despachante=self.despachante(),
            publicador=RedisPublicador(self.redis.client),
            tokens=self.tokens(),
            carrinho_java_pagamento=self.cfg["CARRINHO_JAVA_PAGAMENTO"],
        )

    @property
    def produto_cache(self) -> ProdutoCache | None:
        """One per process; None when ``PRODUTO_CACHE_TTL_S`` is 0."""
        return self._cache.get() if self._cache is not None else None

    @property
    def read_cache(self) -> ReadCache:
        """One per process: what ``webapp.leitura_autenticada`` reads and every writer invalidates."""
        return self._leituras.get()

    def chaves_repo(self) -> MongoChaveRepository:
        return MongoChaveRepository(self.mongo.db())

    def tokens(self) -> JwtTokens:
        return JwtTokens(self.cfg["SECRET_KEY"], self.cfg["TOKEN_TTL_S"], self.redis.client, self.cfg["REDIS_PREFIX"])

    def login_guard(self) -> RedisLoginGuard:
        cfg = self.cfg
        return RedisLoginGuard(
            self.redis.client, cfg["REDIS_PREFIX"], cfg["LOGIN_MAX_FAILURES"], cfg["LOGIN_LOCKOUT_S"]
        )

    def sequencia(self) -> RedisSequencia:
        return RedisSequencia(self.redis.client, self.cfg["REDIS_PREFIX"])

    def despachante(self) -> CeleryDespachante:
        if self._celery is None:
            self._celery = _producer(self.cfg)
        return CeleryDespachante(self._celery)

    def database_dump(self) -> MongoDatabaseDump:
        """The database side of a backup (``services.backups``)."""
        return MongoDatabaseDump(self.mongo.db())

    def presence(self) -> WorkerPresence:
        return WorkerPresence(self.redis.client, self.cfg["REDIS_PREFIX"])

    @cached_property
    def metrics_registry(self):
        """What ``GET /metrics`` renders: every process group's files on this host
        (multiprocess mode) or this process's own metrics, plus scrape-time figures."""
        state = metrics.StateCollector(lambda: self.redis.client, self.mongo.db, FILAS, self.cfg["REDIS_PREFIX"])
        return metrics.registry(self.cfg["METRICS_DIR"], extra=[state])

    def close(self) -> None:
        self.mongo.close()
        self.redis.close()


def for_web(cfg: Cfg) -> Resources:
    """The API's (and its CLI's): its writes are numbered in the CRM's order."""
    return Resources(cfg, appname="ponte", celery=None, numerar=True)


def for_worker(cfg: Cfg, celery: Celery) -> Resources:
    """A worker's or beat's: tasks it sends go through its own Celery app."""
    return Resources(cfg, appname="ponte-worker", celery=celery, numerar=False)
