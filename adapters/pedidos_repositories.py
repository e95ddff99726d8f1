"""MongoDB repositories of the money path: carts, orders, idempotency keys, stock."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from adapters.cache import ProdutoCache
from adapters.repositories import faixa, parse_oid
from domain.carrinhos import Carrinho, ItemCarrinho
from domain.envios import Envio
from domain.errors import DadosInvalidos
from domain.pagamentos import Pagamento
from domain.pedidos import CheckoutEmAndamento, ItemPedido, Pedido, PedidoFiltro, PedidoJaExiste
from domain.ports import Reivindicacao


class MongoCarrinhoRepository:
    """One open cart per customer, keyed by the customer's id."""

    def __init__(self, db: Database):
        self.col = db["carrinhos"]

    def get(self, cliente_id: str) -> Carrinho:
        doc = self.col.find_one({"_id": cliente_id}) or {}
        itens = [ItemCarrinho(i["produto_id"], i["quantidade"]) for i in doc.get("itens", [])]
        return Carrinho(cliente_id, itens, doc.get("atualizado_em"))

    def definir_item(self, cliente_id: str, produto_id: str, quantidade: int, agora: datetime, maximo: int) -> None:
        """Set a line's quantity, adding the line if needed (at most ``maximo`` lines)."""
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
                return self.definir_item(cliente_id, produto_id, quantidade, agora, maximo)
            raise DadosInvalidos({"itens": [f"No máximo {maximo} produtos diferentes por carrinho."]}) from None

    def remover_item(self, cliente_id: str, produto_id: str, agora: datetime) -> bool:
        r = self.col.update_one(
            {"_id": cliente_id, "itens.produto_id": produto_id},
            {"$pull": {"itens": {"produto_id": produto_id}}, "$set": {"atualizado_em": agora}},
        )
        return r.modified_count == 1

    def esvaziar(self, cliente_id: str, agora: datetime) -> None:
        self.col.update_one({"_id": cliente_id}, {"$set": {"itens": [], "atualizado_em": agora}})

    def list(self, offset: int, limit: int) -> tuple[list[Carrinho], int]:
        query = {"itens.0": {"$exists": True}}
        total = self.col.count_documents(query)
        if offset >= total:
            return [], total
        docs = self.col.find(query).sort([("atualizado_em", -1), ("_id", 1)]).skip(offset).limit(limit)
        return [self.get(d["_id"]) for d in docs], total


class MongoPedidoRepository:
    def __init__(self, db: Database):
        self.col = db["pedidos"]

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
        doc = self.col.find_one_and_update(
            {"_id": parse_oid(pedido_id), "status": de},
            {"$set": {"status": para, "atualizado_em": agora, **extra},
             "$push": {"historico": {"status": para, "em": agora}}, "$inc": {"versao": 1}},
            return_document=ReturnDocument.AFTER,
        )  # fmt: skip
        return self._entity(doc) if doc else None

    def tomar_liberacao(self, pedido_id: str, produto_id: str) -> bool:
        """Record that this cancelled order's stock of ``produto_id`` is being given back:
        True only the first time, so a resumed cancellation never releases twice (if the
        release itself then fails, the CRM's next absolute stock fixes the count: safer
        than selling stock that does not exist)."""
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


# How long one checkout attempt holds its key: far above a checkout's duration (tens of
# milliseconds), short enough that a retry after a crash waits little.
ARRENDAMENTO = timedelta(seconds=30)
LIBERADO = datetime(1970, 1, 1, tzinfo=UTC)


class MongoIdempotenciaRepository:
    """``Idempotency-Key`` records: one per (customer, key), remembering the body's hash."""

    def __init__(self, db: Database):
        self.col = db["idempotencia"]

    def iniciar(self, escopo: str, chave: str, corpo_hash: str, agora: datetime) -> Reivindicacao:
        """Claim the key.

        The first claim reserves the id its order will have, so an attempt that stopped
        half-way (its process died, MongoDB failed under it) is resumed by the next one:
        the order is found under that id instead of being made twice. An attempt holds the
        key for ``ARRENDAMENTO`` (or until it lets go, ``liberar``); meanwhile another one
        gets ``CheckoutEmAndamento``. Each claim has its own ``dono`` token: an attempt that
        was taken over can no longer conclude, let go of or abandon the key.
        """
        _id = f"{escopo}:{chave}"
        novo, dono = str(ObjectId()), uuid4().hex
        try:
            self.col.insert_one(
                {"_id": _id, "hash": corpo_hash, "estado": "em_andamento", "pedido_id": novo, "dono": dono,
                 "criado_em": agora, "expira_em": agora + ARRENDAMENTO}
            )  # fmt: skip
            return Reivindicacao(novo, False, dono)
        except DuplicateKeyError:
            doc = self.col.find_one({"_id": _id})
        if doc is None:  # abandoned in between: claim again
            return self.iniciar(escopo, chave, corpo_hash, agora)
        if doc["hash"] != corpo_hash:
            raise DadosInvalidos({"Idempotency-Key": ["Chave já usada com outro corpo de requisição."]})
        if doc["estado"] == "concluido":
            return Reivindicacao(doc["pedido_id"], True, "")
        # A record of the release before holds had an end: it holds for as long from its start.
        expira = doc.get("expira_em") or doc["criado_em"] + ARRENDAMENTO
        if expira > agora:
            raise CheckoutEmAndamento("Uma requisição com esta Idempotency-Key ainda está em andamento.")
        # The holder stopped: take over (one taker wins), with the order id it reserved.
        pedido_id = doc.get("pedido_id") or novo
        atual = {"expira_em": doc["expira_em"]} if "expira_em" in doc else {"expira_em": {"$exists": False}}
        tomado = self.col.update_one(
            {"_id": _id, "estado": "em_andamento", **atual},
            {"$set": {"expira_em": agora + ARRENDAMENTO, "pedido_id": pedido_id, "dono": dono}},
        )
        if tomado.modified_count != 1:
            raise CheckoutEmAndamento("Uma requisição com esta Idempotency-Key ainda está em andamento.")
        return Reivindicacao(pedido_id, False, dono)

    def liberar(self, escopo: str, chave: str, dono: str) -> None:
        """This attempt stopped (a transient failure): the next one may take over at once."""
        self.col.update_one(
            {"_id": f"{escopo}:{chave}", "estado": "em_andamento", "dono": dono}, {"$set": {"expira_em": LIBERADO}}
        )

    def concluir(self, escopo: str, chave: str, pedido_id: str, agora: datetime, dono: str) -> None:
        self.col.update_one(
            {"_id": f"{escopo}:{chave}", "dono": dono},
            {"$set": {"estado": "concluido", "pedido_id": pedido_id, "concluido_em": agora}},
        )

    def podar(self, antes_de: datetime) -> int:
        """Forget keys older than ``antes_de`` (clients retry within minutes, not days).

        A key still in progress whose order was stored is kept: that checkout stopped
        half-way (e.g. a CRM cart now in the dead-letter store), and a replay days later
        must resume it, not order again. One whose order never came to exist is forgotten."""
        podadas = self.col.delete_many({"estado": "concluido", "criado_em": {"$lt": antes_de}}).deleted_count
        pedidos = self.col.database["pedidos"]
        parados = self.col.find({"estado": "em_andamento", "criado_em": {"$lt": antes_de}}, {"pedido_id": 1})
        for doc in parados.limit(1000):
            pedido_id = parse_oid(doc.get("pedido_id") or "")
            if pedido_id is None or pedidos.count_documents({"_id": pedido_id}, limit=1) == 0:
                podadas += self.col.delete_one({"_id": doc["_id"], "estado": "em_andamento"}).deleted_count
        return podadas

    def abandonar(self, escopo: str, chave: str, dono: str) -> None:
        """Nothing was stored (stock short, an empty cart): the key is free again."""
        self.col.delete_one({"_id": f"{escopo}:{chave}", "estado": "em_andamento", "dono": dono})


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


class _EntidadeComStatus:
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


class MongoPagamentoRepository(_EntidadeComStatus):
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


class MongoEnvioRepository(_EntidadeComStatus):
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
