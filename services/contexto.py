"""The context every use case runs in: repositories, who is acting, which request.

``bootstrap`` builds it for every entrypoint: per request in the API (from the caller's
identity), per task in a worker (``ator="sistema:java"`` for the CRM's events). Services
write the audit trail through it, so every write, whichever door it came through, is
recorded the same way. Each field is a port of ``domain.ports``; unit tests fill them
with the fakes of ``tests/fakes.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.auditoria import RegistroAuditoria, campos_auditaveis
from domain.ports import (
    AuditoriaRepository,
    CarrinhoRepository,
    ChaveRepository,
    ClienteRepository,
    ClienteSync,
    Despachante,
    EnvioRepository,
    Estoque,
    Gateway,
    IdempotenciaRepository,
    PagamentoRepository,
    PasswordHasher,
    PedidoRepository,
    ProdutoRepository,
    ProdutoSync,
    Publicador,
    RejeitadoRepository,
    TokenService,
)
from services.common import agora


@dataclass
class Contexto:
    produtos: ProdutoRepository
    clientes: ClienteRepository
    chaves: ChaveRepository
    auditoria: AuditoriaRepository
    hasher: PasswordHasher
    # CRM sync: conditional writes keyed by CRM id, and the dead-letter store.
    sync_produtos: ProdutoSync
    sync_clientes: ClienteSync
    rejeitados: RejeitadoRepository
    # The money path: carts, orders, Idempotency-Key claims, stock reservations, payments.
    carrinhos: CarrinhoRepository
    pedidos: PedidoRepository
    idempotencia: IdempotenciaRepository
    estoque: Estoque
    pagamentos: PagamentoRepository
    gateway: Gateway
    envios: EnvioRepository
    ator: str = "sistema"
    request_id: str | None = None
    # The numbers that order API writes with the CRM's events (the bridge's counter); None
    # in the workers, whose CRM events carry their own.
    sequencia: Callable[[], int] | None = None
    despachante: Despachante | None = None  # the task queue (payments, shipments, replays)
    publicador: Publicador | None = None  # order status changes, for the Java CRM (Redis channel "pedidos")
    tokens: TokenService | None = None  # customers' sessions: a CRM password change ends them
    carrinho_java_pagamento: str = "boleto"

    def proxima_seq(self) -> int | None:
        return self.sequencia() if self.sequencia else None

    def registro(self, recurso: str, recurso_id: str | None, acao: str, campos=(), ator: str | None = None,
                 request_id: str | None = None) -> RegistroAuditoria:  # fmt: skip
        return RegistroAuditoria(
            ator=ator or self.ator,
            recurso=recurso,
            recurso_id=recurso_id,
            acao=acao,
            campos=campos_auditaveis(campos),
            em=agora(),
            request_id=request_id or self.request_id,
        )

    def auditar(self, recurso: str, recurso_id: str | None, acao: str, campos=(), ator: str | None = None) -> None:
        self.auditoria.add(self.registro(recurso, recurso_id, acao, campos, ator))
