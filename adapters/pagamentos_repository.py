"""MongoDB repository of payments: one per order."""

from __future__ import annotations

from datetime import datetime

from pymongo import ReturnDocument

from adapters.repositories import parse_oid
from adapters.status_repository import MongoStatusRepository
from domain.pagamentos import Pagamento


class MongoPagamentoRepository(MongoStatusRepository):
    collection_name = "pagamentos"
    entity = Pagamento

    def add(self, pagamento: Pagamento) -> Pagamento:
        doc = self._doc(pagamento)
        doc["_id"] = self.col.insert_one(doc).inserted_id
        return self._entity(doc)

    def mudar(self, pagamento_id: str, de: tuple[str, ...], para: str, agora: datetime, **extra) -> Pagamento | None:
        return self._mudar(pagamento_id, de, para, agora, extra)

    def contar_tentativa(self, pagamento_id: str) -> None:
        self.col.update_one({"_id": parse_oid(pagamento_id)}, {"$inc": {"tentativas": 1}})

    def _desde(self, status: str, antes_de: datetime) -> list[Pagamento]:
        docs = self.col.find({"status": status, "criado_em": {"$lt": antes_de}}).limit(500)
        return [self._entity(d) for d in docs]

    def aguardando_desde(self, antes_de: datetime) -> list[Pagamento]:
        return self._desde("aguardando_confirmacao", antes_de)

    def parados(self, antes_de: datetime, agora: datetime) -> list[Pagamento]:
        """Payments ``pendente`` since before ``antes_de`` and not re-enqueued since then,
        each marked as re-enqueued now (conditionally: two beats never take the same one),
        so a worker down for an hour gets one more task per payment, not one per beat."""
        filtro = {
            "status": "pendente",
            "criado_em": {"$lt": antes_de},
            "$or": [{"reenfileirado_em": {"$exists": False}}, {"reenfileirado_em": {"$lt": antes_de}}],
        }
        tomados = []
        for doc in self.col.find(filtro, {"_id": 1}).limit(500):
            marcado = self.col.find_one_and_update(
                {"_id": doc["_id"], **filtro},
                {"$set": {"reenfileirado_em": agora}},
                return_document=ReturnDocument.AFTER,
            )
            if marcado is not None:
                tomados.append(self._entity(marcado))
        return tomados
