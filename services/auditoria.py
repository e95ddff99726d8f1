"""Reading the audit trail (writing goes through ``Contexto.auditar``)."""

from __future__ import annotations

from domain.auditoria import AuditoriaFiltro, RegistroAuditoria
from services.contexto import Contexto


def listar(ctx: Contexto, filtro: AuditoriaFiltro, offset: int, limit: int) -> tuple[list[RegistroAuditoria], int]:
    return ctx.auditoria.list(filtro, offset, limit)
