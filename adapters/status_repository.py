"""What the MongoDB repositories of payments and shipments share."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from pymongo import ReturnDocument
from pymongo.database import Database

from adapters.repositories import parse_oid


class MongoStatusRepository:
    """What payments and shipments share: a dataclass per document, one per order, and
    status changes that are atomic and recorded in ``historico``."""

    collection_name: str
    entity: type

    def __init__(self, db: Database):
        self.col = db[self.collection_name]

    def _entity(self, doc: dict):
        campos = {k: doc[k] for k in self.entity.__dataclass_fields__ if k in doc and k != "id"}
        return self.entity(id=str(doc["_id"]), **campos)

    def _doc(self, entidade) -> dict:
        doc = asdict(entidade)
        doc.pop("id")
        return doc

    def get(self, entity_id: str, cliente_id: str | None = None):
        oid = parse_oid(entity_id)
        if oid is None:
            return None
        query = {"_id": oid} if cliente_id is None else {"_id": oid, "cliente_id": cliente_id}
        doc = self.col.find_one(query)
        return self._entity(doc) if doc else None

    def por_pedido(self, pedido_id: str):
        doc = self.col.find_one({"pedido_id": pedido_id})
        return self._entity(doc) if doc else None

    def _mudar(self, entity_id: str, de: tuple[str, ...], para: str, agora: datetime, extra: dict):
        """Atomic status change, only from one of ``de``: each transition happens once."""
        doc = self.col.find_one_and_update(
            {"_id": parse_oid(entity_id), "status": {"$in": list(de)}},
            {"$set": {"status": para, "atualizado_em": agora, **extra},
             "$push": {"historico": {"status": para, "em": agora}}},
            return_document=ReturnDocument.AFTER,
        )  # fmt: skip
        return self._entity(doc) if doc else None
