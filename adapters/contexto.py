"""Builds the service ``Contexto`` on MongoDB, for the API and the workers alike."""

from __future__ import annotations

from functools import lru_cache

from pymongo.database import Database

from adapters.cache import ProdutoCache
from adapters.gateway_simulado import GatewaySimulado
from adapters.pedidos_repositories import (
    MongoCarrinhoRepository,
    MongoEnvioRepository,
    MongoEstoque,
    MongoIdempotenciaRepository,
    MongoPagamentoRepository,
    MongoPedidoRepository,
)
from adapters.repositories import (
    MongoAuditoriaRepository,
    MongoChaveRepository,
    MongoClienteRepository,
    MongoProdutoRepository,
)
from adapters.sync_repositories import MongoClienteSync, MongoProdutoSync, MongoRejeitadoRepository
from services.contexto import Contexto


@lru_cache(maxsize=64)
def _repositorios(db: Database, cache: ProdutoCache | None) -> dict:
    """The repositories over ``db``, built once per process and reused by every request
    and task: they hold only collection handles, so threads can share them."""
    return {
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


def montar_contexto(
    db: Database, hasher, ator: str, request_id: str | None = None, cache: ProdutoCache | None = None, **extra
) -> Contexto:
    """Every repository on ``db``; those that read or change products share ``cache``."""
    return Contexto(hasher=hasher, ator=ator, request_id=request_id, **_repositorios(db, cache), **extra)
