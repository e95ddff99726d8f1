"""MongoDB repository of shipments: one per order."""

from __future__ import annotations

from datetime import datetime

from pymongo import ReturnDocument

from adapters.status_repository import MongoStatusRepository
from domain.envios import Envio


class MongoEnvioRepository(MongoStatusRepository):
    collection_name = "envios"
    entity = Envio

    def criar_para_pedido(self, envio: Envio) -> Envio:
        """One shipment per order: a second call returns the first (idempotent)."""
        found = self.col.find_one_and_update(
            {"pedido_id": envio.pedido_id},
            {"$setOnInsert": self._doc(envio)},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return self._entity(found)

    def mudar(self, envio_id: str, de: str, para: str, agora: datetime) -> Envio | None:
        return self._mudar(envio_id, (de,), para, agora, {})
