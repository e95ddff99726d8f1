"""MongoDB dead-letter store: the CRM events that could not be applied, for staff to
replay or discard (``eventos_rejeitados``, one document per event id)."""

from __future__ import annotations

from datetime import datetime

from pymongo import ReturnDocument
from pymongo.database import Database

from adapters import tracing
from adapters.repositories import parse_oid
from domain.rejeitados import PENDENTE, REJEITADO, EventoRejeitado, RejeitadoFiltro


class MongoRejeitadoRepository:
    """The ``eventos_rejeitados`` collection: one document per event id."""

    def __init__(self, db: Database):
        self.col = db["eventos_rejeitados"]
        self._oid = parse_oid

    @staticmethod
    def _entity(doc: dict) -> EventoRejeitado:
        names = set(EventoRejeitado.__dataclass_fields__)
        return EventoRejeitado(id=str(doc["_id"]), **{k: v for k, v in doc.items() if k in names and k != "id"})

    def add(self, envelope: dict, motivo: str, tentativas: int, agora: datetime) -> EventoRejeitado:
        """Record (or re-record) a dead letter; idempotent per event id. With tracing on, it
        names the trace of this rejection (``trace_id``, in its history entry too)."""
        trace_id = tracing.trace_id(envelope["event_id"])
        traced = {"trace_id": trace_id} if trace_id else {}
        # A rejection without a trace must not keep an earlier rejection's.
        untraced = {} if trace_id else {"$unset": {"trace_id": ""}}
        doc = self.col.find_one_and_update(
            {"event_id": envelope["event_id"]},
            {
                "$set": {
                    "envelope": envelope,
                    "canal": envelope.get("canal", "?"),
                    "motivo": motivo,
                    "tentativas": tentativas,
                    "estado": PENDENTE,
                    "atualizado_em": agora,
                    **traced,
                },
                "$setOnInsert": {"em": agora},
                "$inc": {"vezes": 1},
                "$push": {"historico": {"em": agora, "acao": REJEITADO, "motivo": motivo, **traced}},
                **untraced,
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return self._entity(doc)

    def get(self, rejeitado_id: str) -> EventoRejeitado | None:
        oid = self._oid(rejeitado_id)
        doc = self.col.find_one({"_id": oid}) if oid else None
        return self._entity(doc) if doc else None

    def list(self, filtro: RejeitadoFiltro, offset: int, limit: int) -> tuple[list[EventoRejeitado], int]:
        query = {k: v for k, v in (("estado", filtro.estado), ("canal", filtro.canal)) if v}
        total = self.col.count_documents(query)
        if offset >= total:
            return [], total
        cursor = self.col.find(query).sort([("em", -1), ("_id", 1)]).skip(offset).limit(limit)
        return [self._entity(d) for d in cursor], total

    def marcar(self, rejeitado_id: str, de: str, para: str, agora: datetime, ator: str) -> EventoRejeitado | None:
        """Move a dead letter from state ``de`` to ``para`` (atomic: replay/discard once)."""
        oid = self._oid(rejeitado_id)
        if oid is None:
            return None
        doc = self.col.find_one_and_update(
            {"_id": oid, "estado": de},
            {
                "$set": {"estado": para, "atualizado_em": agora},
                "$push": {"historico": {"em": agora, "acao": para, "por": ator}},
            },
            return_document=ReturnDocument.AFTER,
        )
        return self._entity(doc) if doc else None

    def pendentes(self) -> int:
        return self.col.count_documents({"estado": PENDENTE})
