"""The context every use case runs in: repositories, who is acting, which request.

The API builds one per request from the caller's identity; a Celery task builds one
with ``ator="sistema:..."``. Services write the audit trail through it, so every write,
whichever door it came through, is recorded the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    def auditar(self, recurso: str, recurso_id: str | None, acao: str, campos=(), ator: str | None = None) -> None:
        self.auditoria.add(
            RegistroAuditoria(
                ator=ator or self.ator,
                recurso=recurso,
                recurso_id=recurso_id,
                acao=acao,
                campos=campos_auditaveis(campos),
                em=agora(),
                request_id=self.request_id,
            )
        )
