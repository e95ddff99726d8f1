"""The audit trail: who changed what, when, under which request. Never secrets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.seguranca import CAMPOS_SECRETOS


@dataclass
class RegistroAuditoria:
    ator: str
    recurso: str
    recurso_id: str | None
    acao: str
    campos: list[str] = field(default_factory=list)
    em: datetime | None = None
    request_id: str | None = None
    id: str | None = None


@dataclass
class AuditoriaFiltro:
    ator: str | None = None
    recurso: str | None = None
    recurso_id: str | None = None
    acao: str | None = None
    desde: datetime | None = None
    ate: datetime | None = None


def campos_auditaveis(campos) -> list[str]:
    """The names of the changed fields, without any secret (``senha`` shows as changed)."""
    nomes = set(campos)
    # senha_origem (who set the password) goes with it: "senha (alterada)" says it all.
    saida = sorted(n for n in nomes if n not in CAMPOS_SECRETOS and n != "senha_origem")
    if nomes & {"senha", "senha_hash"}:
        saida.append("senha (alterada)")
    return saida
