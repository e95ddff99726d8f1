"""The simulated payment gateway shipped with Ponte (for development, tests and demos).

Its behaviour is chosen by the card token sent at checkout (``cartao_token``):

| token | behaviour |
|---|---|
| ``tok_aprova`` (or none) | approved |
| ``tok_recusa`` | declined |
| ``tok_falha_N`` | fails transiently N times for this order, then approves |
| ``tok_timeout`` | always times out (transient) |

``boleto`` and ``pix`` always wait for confirmation. Charges are kept in MongoDB
(``gateway_simulado``) keyed by the idempotency key, so every worker process sees the
same gateway and a key is charged at most once.
"""

from __future__ import annotations

import re
from decimal import Decimal

from pymongo import ReturnDocument
from pymongo.database import Database

from domain.pagamentos import AGUARDANDO_CONFIRMACAO, APROVADO, RECUSADO, GatewayTransitorio, RespostaGateway

_FALHA = re.compile(r"^tok_falha_(\d{1,2})$")
# Test card tokens, not secrets.
TOKEN_TIMEOUT = "tok_timeout"  # noqa: S105
TOKEN_RECUSA = "tok_recusa"  # noqa: S105


class GatewaySimulado:
    def __init__(self, db: Database):
        self.col = db["gateway_simulado"]

    def _tentativa(self, chave: str) -> int:
        doc = self.col.find_one_and_update(
            {"_id": chave}, {"$inc": {"tentativas": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        return doc["tentativas"]

    def cobrar(self, chave: str, valor: Decimal, metodo: str, token: str | None) -> RespostaGateway:
        tentativa = self._tentativa(chave)
        if metodo in ("boleto", "pix"):
            return RespostaGateway(AGUARDANDO_CONFIRMACAO, referencia=f"{metodo}:{chave}")
        token = token or "tok_aprova"
        if token == TOKEN_TIMEOUT:
            raise GatewayTransitorio("gateway: tempo esgotado")
        falha = _FALHA.match(token)
        if falha and tentativa <= int(falha.group(1)):
            raise GatewayTransitorio(f"gateway: erro 503 (tentativa {tentativa})")
        if token == TOKEN_RECUSA:
            return RespostaGateway(RECUSADO, motivo="cartão recusado pelo emissor")
        # The charge itself: recorded once per key whatever the number of calls.
        doc = self.col.find_one_and_update(
            {"_id": chave},
            {"$set": {"valor": valor}, "$inc": {"chamadas_aprovadas": 1}, "$max": {"cobrancas": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return RespostaGateway(APROVADO, referencia=f"sim:{doc['_id']}")

    def reembolsar(self, chave: str) -> bool:
        # True when the charge is refunded, by this call or an earlier one: the cancel path
        # and the payment task may both ask, and whichever records it must see True.
        r = self.col.update_one({"_id": chave, "cobrancas": 1}, {"$set": {"reembolsado": True}})
        return r.matched_count == 1
