"""MongoDB repository of orders: stored once, moved along their states atomically."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from adapters.read_cache import PEDIDO, ReadCache
from adapters.repositories import faixa, parse_oid
from domain.pedidos import ItemPedido, Pedido, PedidoFiltro, PedidoJaExiste


class MongoPedidoRepository:
    def __init__(self, db: Database, read_cache: ReadCache | None = None):
        self.col = db["pedidos"]
        self.read_cache = read_cache

    @staticmethod
    def _entity(doc: dict) -> Pedido:
        itens = [ItemPedido(**i) for i in doc["itens"]]
        campos = {k: doc.get(k) for k in Pedido.__dataclass_fields__ if k not in ("id", "itens")}
        return Pedido(id=str(doc["_id"]), itens=itens, **{k: v for k, v in campos.items() if v is not None})

    def add(self, pedido: Pedido) -> Pedido:
        """Store a new order, under ``pedido.id`` when given (an id reserved beforehand;
        ``PedidoJaExiste`` if another attempt of the same checkout stored it first)."""
        doc = asdict(pedido)
        pedido_id = doc.pop("id")
        if pedido_id:
            doc["_id"] = ObjectId(pedido_id)
        try:
            doc["_id"] = self.col.insert_one(doc).inserted_id
        except DuplicateKeyError:
            if pedido_id:
                raise PedidoJaExiste("Outra tentativa deste checkout guardou o pedido.") from None
            raise
        return self._entity(doc)

    def get(self, pedido_id: str, cliente_id: str | None = None) -> Pedido | None:
        oid = parse_oid(pedido_id)
        if oid is None:
            return None
        query = {"_id": oid} if cliente_id is None else {"_id": oid, "cliente_id": cliente_id}
        doc = self.col.find_one(query)
        return self._entity(doc) if doc else None

    def mudar_status(self, pedido_id: str, de: str, para: str, agora: datetime) -> Pedido | None:
        """Atomic transition from ``de`` (the state machine was checked by the caller). A
        cancellation is marked pending in the same write: what follows it (stock, payment,
        shipment) is finished by ``concluir_cancelamento`` and, if that stops, by the beat."""
        extra = {"cancelamento_pendente": True} if para == "cancelado" else {}
        try:
            doc = self._mudar(pedido_id, de, para, agora, extra)
        finally:  # even a write whose answer was lost may have moved the order
            if self.read_cache is not None:
                self.read_cache.invalidate(PEDIDO, pedido_id)
        return self._entity(doc) if doc else None

    def _mudar(self, pedido_id: str, de: str, para: str, agora: datetime, extra: dict) -> dict | None:
        return self.col.find_one_and_update(
            {"_id": parse_oid(pedido_id), "status": de},
            {"$set": {"status": para, "atualizado_em": agora, **extra},
             "$push": {"historico": {"status": para, "em": agora}}, "$inc": {"versao": 1}},
            return_document=ReturnDocument.AFTER,
        )  # fmt: skip

    def tomar_liberacao(self, pedido_id: str, produto_id: str) -> bool:
        """Mark this cancelled order's stock of ``produto_id`` as given back: True only the
        first time, so a resumed cancellation never releases twice (a release lost after
        this is fixed by the CRM's next absolute stock: safer than overselling)."""
        r = self.col.update_one(
            {"_id": parse_oid(pedido_id), "estoque_liberado": {"$ne": produto_id}},
            {"$addToSet": {"estoque_liberado": produto_id}},
        )
        return r.modified_count == 1

    def devolver_liberacao(self, pedido_id: str, produto_id: str) -> None:
        """The release recorded by ``tomar_liberacao`` failed: let a resumed cancellation do it."""
        self.col.update_one({"_id": parse_oid(pedido_id)}, {"$pull": {"estoque_liberado": produto_id}})

    def cancelamento_concluido(self, pedido_id: str) -> None:
        self.col.update_one({"_id": parse_oid(pedido_id)}, {"$unset": {"cancelamento_pendente": ""}})

    def cancelamentos_pendentes(self, antes_de: datetime) -> list[Pedido]:
        """Cancellations whose follow-up stopped (their process died, MongoDB failed)."""
        docs = self.col.find({"cancelamento_pendente": True, "atualizado_em": {"$lt": antes_de}}).limit(500)
        return [self._entity(d) for d in docs]

    def resumo(self, cliente_id: str | None) -> list[dict]:
        """Orders and their total value per status (one aggregation)."""
        match = {"cliente_id": cliente_id} if cliente_id else {}
        return list(
            self.col.aggregate(
                [
                    {"$match": match},
                    {"$group": {"_id": "$status", "quantidade": {"$sum": 1}, "valor": {"$sum": "$total"}}},
                    {"$sort": {"_id": 1}},
                ]
            )
        )

    def list(self, filtro: PedidoFiltro, offset: int, limit: int) -> tuple[list[Pedido], int]:
        query: dict = {}
        if filtro.cliente_id:
            query["cliente_id"] = filtro.cliente_id
        if filtro.status:
            query["status"] = filtro.status
        if periodo := faixa(filtro.desde, filtro.ate):
            query["criado_em"] = periodo
        total = self.col.count_documents(query)
        if offset >= total:
            return [], total
        docs = self.col.find(query).sort([("criado_em", -1), ("_id", 1)]).skip(offset).limit(limit)
        return [self._entity(d) for d in docs], total
