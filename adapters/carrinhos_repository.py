"""MongoDB repository of carts: one open cart per customer."""

from __future__ import annotations

from datetime import datetime

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from adapters.read_cache import CARRINHO, ReadCache
from adapters.repositories import parse_oid
from domain.carrinhos import Carrinho, ItemCarrinho
from domain.errors import DadosInvalidos


class MongoCarrinhoRepository:
    """One open cart per customer, keyed by the customer's id."""

    def __init__(self, db: Database, read_cache: ReadCache | None = None):
        self.col = db["carrinhos"]
        self.read_cache = read_cache

    def _invalidar(self, cliente_id: str) -> None:
        """After any write of this cart: ``adapters.read_cache``'s entry goes."""
        if self.read_cache is not None:
            self.read_cache.invalidate(CARRINHO, cliente_id)

    def get(self, cliente_id: str) -> Carrinho:
        return self._carrinho(cliente_id, self.col.find_one({"_id": cliente_id}) or {})

    @staticmethod
    def _carrinho(cliente_id: str, doc: dict) -> Carrinho:
        itens = [ItemCarrinho(i["produto_id"], i["quantidade"]) for i in doc.get("itens", [])]
        return Carrinho(cliente_id, itens, doc.get("atualizado_em"))

    def para_checkout(self, cliente_id: str) -> tuple[Carrinho, dict | None]:
        """A checkout needs both: one round trip instead of two. The customer is looked up
        by a literal ``_id`` (not a correlated join), so each side is one index lookup.
        Without a cart document there is no address either: an empty cart is refused first."""
        oid = parse_oid(cliente_id)
        cliente = [{"$match": {"_id": oid}}, {"$project": {"_id": 0, "endereco": 1}}] if oid else [{"$limit": 0}]
        pipeline = [
            {"$match": {"_id": cliente_id}},
            {"$lookup": {"from": "clientes", "pipeline": cliente, "as": "cliente"}},
        ]
        doc = next(self.col.aggregate(pipeline), None) or {}
        endereco = (doc.get("cliente") or [{}])[0].get("endereco")
        if endereco is not None:
            endereco = {k: v for k, v in endereco.items() if v is not None}
        return self._carrinho(cliente_id, doc), endereco

    def definir_item(self, cliente_id: str, produto_id: str, quantidade: int, agora: datetime, maximo: int) -> None:
        """Set a line's quantity, adding the line if needed (at most ``maximo`` lines)."""
        try:
            self._definir_item(cliente_id, produto_id, quantidade, agora, maximo)
        finally:  # even a write whose answer was lost may have changed the cart
            self._invalidar(cliente_id)

    def _definir_item(self, cliente_id: str, produto_id: str, quantidade: int, agora: datetime, maximo: int) -> None:
        r = self.col.update_one(
            {"_id": cliente_id, "itens.produto_id": produto_id},
            {"$set": {"itens.$.quantidade": quantidade, "atualizado_em": agora}},
        )
        if r.matched_count:
            return
        try:
            linha = {"produto_id": produto_id, "quantidade": quantidade}
            self.col.update_one(
                {"_id": cliente_id, "itens.produto_id": {"$ne": produto_id}, f"itens.{maximo - 1}": {"$exists": False}},
                {"$push": {"itens": linha}, "$set": {"atualizado_em": agora}},
                upsert=True,
            )
        except DuplicateKeyError:
            # The cart exists but the filter failed: full, or the line appeared meanwhile.
            if self.col.count_documents({"_id": cliente_id, "itens.produto_id": produto_id}):
                return self._definir_item(cliente_id, produto_id, quantidade, agora, maximo)
            raise DadosInvalidos({"itens": [f"No máximo {maximo} produtos diferentes por carrinho."]}) from None

    def remover_item(self, cliente_id: str, produto_id: str, agora: datetime) -> bool:
        try:
            r = self.col.update_one(
                {"_id": cliente_id, "itens.produto_id": produto_id},
                {"$pull": {"itens": {"produto_id": produto_id}}, "$set": {"atualizado_em": agora}},
            )
        finally:
            self._invalidar(cliente_id)
        return r.modified_count == 1

    def esvaziar(self, cliente_id: str, agora: datetime) -> None:
        try:
            self.col.update_one({"_id": cliente_id}, {"$set": {"itens": [], "atualizado_em": agora}})
        finally:
            self._invalidar(cliente_id)

    def list(self, offset: int, limit: int) -> tuple[list[Carrinho], int]:
        query = {"itens.0": {"$exists": True}}
        total = self.col.count_documents(query)
        if offset >= total:
            return [], total
        docs = self.col.find(query).sort([("atualizado_em", -1), ("_id", 1)]).skip(offset).limit(limit)
        return [self.get(d["_id"]) for d in docs], total
