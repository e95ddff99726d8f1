"""The context every use case runs in: repositories, who is acting, which request.

The API builds one per request from the caller's identity; a Celery task builds one
with ``ator="sistema:java"``. Services write the audit trail through it, so every write,
whichever door it came through, is recorded the same way. ``sequencia`` hands out the
numbers that order API writes with the CRM's events (the bridge's counter).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.auditoria import RegistroAuditoria, campos_auditaveis
from domain.ports import AuditoriaRepository, ChaveRepository, ClienteRepository, PasswordHasher, ProdutoRepository
from services.common import agora


@dataclass
class Contexto:
    produtos: ProdutoRepository
    clientes: ClienteRepository
    chaves: ChaveRepository
    auditoria: AuditoriaRepository
    hasher: PasswordHasher
    ator: str = "sistema"
    request_id: str | None = None
    sequencia: Callable[[], int] | None = None
    # CRM sync: conditional writes keyed by CRM id, the dead-letter store, the task queue.
    sync_produtos: Any = None
    sync_clientes: Any = None
    rejeitados: Any = None
    despachante: Any = None
    # The money path: carts, orders, Idempotency-Key records, stock reservations.
    carrinhos: Any = None
    pedidos: Any = None
    idempotencia: Any = None
    estoque: Any = None
    pagamentos: Any = None
    gateway: Any = None
    envios: Any = None
    publicador: Any = None  # order status changes, for the Java CRM (Redis channel "pedidos")
    tokens: Any = None  # customers' sessions (domain.ports.TokenService): a CRM password change ends them
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
