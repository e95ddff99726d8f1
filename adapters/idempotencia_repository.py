"""MongoDB repository of ``Idempotency-Key`` records: what makes a checkout happen once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from bson import ObjectId
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from adapters.repositories import parse_oid
from domain.errors import DadosInvalidos
from domain.pedidos import CheckoutEmAndamento
from domain.ports import Reivindicacao

# How long one checkout attempt holds its key: far above a checkout's duration (tens of
# milliseconds), short enough that a retry after a crash waits little.
ARRENDAMENTO = timedelta(seconds=30)
LIBERADO = datetime(1970, 1, 1, tzinfo=UTC)


class MongoIdempotenciaRepository:
    """``Idempotency-Key`` records: one per (customer, key), remembering the body's hash."""

    def __init__(self, db: Database):
        self.col = db["idempotencia"]

    def iniciar(self, escopo: str, chave: str, corpo_hash: str, agora: datetime) -> Reivindicacao:
        """Claim the key. The first claim reserves its order's id, so the next attempt
        resumes one that stopped half-way instead of ordering twice. A claim holds the key
        for ``ARRENDAMENTO`` (others get ``CheckoutEmAndamento``), and its own ``dono``
        token keeps an attempt that was taken over from touching the key again."""
        _id = f"{escopo}:{chave}"
        novo, dono = str(ObjectId()), uuid4().hex
        try:
            self.col.insert_one(
                {"_id": _id, "hash": corpo_hash, "estado": "em_andamento", "pedido_id": novo, "dono": dono,
                 "criado_em": agora, "expira_em": agora + ARRENDAMENTO}
            )  # fmt: skip
            return Reivindicacao(novo, False, dono, primeira=True)
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
