"""Dead letters: CRM events that could not be applied, kept for staff to inspect,
replay or discard. Celery on Redis has no dead-letter queue; this is Ponte's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

PENDENTE = "pendente"
REENVIADO = "reenviado"
DESCARTADO = "descartado"
ESTADOS = (PENDENTE, REENVIADO, DESCARTADO)
# What ``historico`` records: each rejection of the event, then its replay or discard.
REJEITADO = "rejeitado"
ACOES = (REJEITADO, REENVIADO, DESCARTADO)


@dataclass
class EventoRejeitado:
    id: str
    event_id: str
    canal: str
    envelope: dict  # the bridge's envelope, payload without any clear password
    motivo: str
    tentativas: int = 1
    vezes: int = 1  # how many times this very event was dead-lettered
    estado: str = PENDENTE
    em: datetime | None = None
    atualizado_em: datetime | None = None
    historico: list[dict] = field(default_factory=list)
    trace_id: str | None = None  # the trace of its last rejection, when tracing was on


@dataclass
class RejeitadoFiltro:
    estado: str | None = None
    canal: str | None = None
