"""Builds the service ``Contexto`` on MongoDB, for the API and the workers alike."""

from __future__ import annotations

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


def montar_contexto(
    db: Database, hasher, ator: str, request_id: str | None = None, cache: ProdutoCache | None = None, **extra
) -> Contexto:
    """Every repository on ``db``; those that read or change products share ``cache``."""
    return Contexto(
        produtos=MongoProdutoRepository(db, cache),
        clientes=MongoClienteRepository(db),
        chaves=MongoChaveRepository(db),
        auditoria=MongoAuditoriaRepository(db),
        hasher=hasher,
        ator=ator,
        request_id=request_id,
        sync_produtos=MongoProdutoSync(db, cache),
        sync_clientes=MongoClienteSync(db),
        rejeitados=MongoRejeitadoRepository(db),
        carrinhos=MongoCarrinhoRepository(db),
        pedidos=MongoPedidoRepository(db),
        idempotencia=MongoIdempotenciaRepository(db),
        estoque=MongoEstoque(db, cache),
        pagamentos=MongoPagamentoRepository(db),
        gateway=GatewaySimulado(db),
        envios=MongoEnvioRepository(db),
        **extra,
    )
