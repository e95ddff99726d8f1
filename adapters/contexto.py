"""Builds the service ``Contexto`` on MongoDB, for the API and the workers alike."""

from __future__ import annotations

import os

from pymongo.database import Database

from adapters.cache import ProdutoCache
from adapters.carrinhos_repository import MongoCarrinhoRepository
from adapters.envios_repository import MongoEnvioRepository
from adapters.estoque_repository import MongoEstoque
from adapters.gateway_simulado import GatewaySimulado
from adapters.idempotencia_repository import MongoIdempotenciaRepository
from adapters.pagamentos_repository import MongoPagamentoRepository
from adapters.pedidos_repository import MongoPedidoRepository
from adapters.rejeitados_repository import MongoRejeitadoRepository
from adapters.repositories import (
    MongoAuditoriaRepository,
    MongoChaveRepository,
    MongoClienteRepository,
    MongoProdutoRepository,
)
from adapters.sync_repositories import MongoClienteSync, MongoProdutoSync
from services.contexto import Contexto

# Per process, per client *object*: pymongo compares clients by their settings, so two
# clients to the same server (another app, the parent before a fork) are "equal" and
# must not share repositories. Entries keep their client and cache alive: ids stay unique.
_BUNDLES: dict[tuple, tuple] = {}
_BUNDLES_MAX = 64


def _repositorios(db: Database, cache: ProdutoCache | None) -> dict:
    """The repositories over ``db``, built once per process and reused by every request
    and task: they hold only collection handles, so threads can share them."""
    key = (os.getpid(), id(db.client), db.name, id(cache))
    found = _BUNDLES.get(key)
    if found is not None and found[0] is db.client and found[1] is cache and found[2] == db.codec_options:
        return found[3]
    repos = {
        "produtos": MongoProdutoRepository(db, cache),
        "clientes": MongoClienteRepository(db),
        "chaves": MongoChaveRepository(db),
        "auditoria": MongoAuditoriaRepository(db),
        "sync_produtos": MongoProdutoSync(db, cache),
        "sync_clientes": MongoClienteSync(db),
        "rejeitados": MongoRejeitadoRepository(db),
        "carrinhos": MongoCarrinhoRepository(db),
        "pedidos": MongoPedidoRepository(db),
        "idempotencia": MongoIdempotenciaRepository(db),
        "estoque": MongoEstoque(db, cache),
        "pagamentos": MongoPagamentoRepository(db),
        "gateway": GatewaySimulado(db),
        "envios": MongoEnvioRepository(db),
    }
    if len(_BUNDLES) >= _BUNDLES_MAX:
        _BUNDLES.clear()  # many apps in one process (tests): start over
    _BUNDLES[key] = (db.client, cache, db.codec_options, repos)
    return repos


def montar_contexto(
    db: Database, hasher, ator: str, request_id: str | None = None, cache: ProdutoCache | None = None, **extra
) -> Contexto:
    """Every repository on ``db``; those that read or change products share ``cache``."""
    return Contexto(hasher=hasher, ator=ator, request_id=request_id, **_repositorios(db, cache), **extra)
