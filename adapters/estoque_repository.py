"""MongoDB stock reservations, on the products' own documents."""

from __future__ import annotations

from pymongo import ReturnDocument
from pymongo.database import Database

from adapters.cache import ProdutoCache
from adapters.repositories import parse_oid


class MongoEstoque:
    """Atomic stock reservations: a conditional ``$inc`` that only succeeds with enough left."""

    def __init__(self, db: Database, cache: ProdutoCache | None = None):
        self.col = db["produtos"]
        self.cache = cache

    def _invalidar(self, produto_id: str) -> None:
        if self.cache is not None:
            self.cache.invalidar(produto_id)

    def reservar(self, produto_id: str, quantidade: int, seq: int | None) -> bool:
        oid = parse_oid(produto_id)
        if oid is None:
            return False
        change: dict = {"$inc": {"estoque": -quantidade, "versao": 1}}
        if seq is not None:
            # Older CRM stock events must not undo the sale; newer ones still win.
            change["$max"] = {"sync_seq": seq}
        doc = self.col.find_one_and_update(
            {"_id": oid, "excluido_em": None, "estoque": {"$gte": quantidade}},
            change,
            projection={"_id": 1},
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            self._invalidar(produto_id)
        return doc is not None

    def liberar(self, produto_id: str, quantidade: int) -> None:
        oid = parse_oid(produto_id)
        if oid is not None:
            self.col.update_one({"_id": oid}, {"$inc": {"estoque": quantidade, "versao": 1}})
            self._invalidar(produto_id)
