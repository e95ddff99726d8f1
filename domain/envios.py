"""Envio: the shipment of a confirmed order and its timestamped tracking history.

preparando ──▶ enviado ──▶ entregue
     └──▶ cancelado

A shipment is cancelled only before it leaves, and always together with its order (which
releases the stock and refunds the payment): a parcel on its way, or a refunded order
with a parcel still to send, cannot happen. A lost or returned parcel is not modelled.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from domain.pedidos import TransicaoInvalida

PREPARANDO = "preparando"
ENVIADO = "enviado"
ENTREGUE = "entregue"
CANCELADO = "cancelado"
STATUS = (PREPARANDO, ENVIADO, ENTREGUE, CANCELADO)

TRANSICOES = {PREPARANDO: {ENVIADO, CANCELADO}, ENVIADO: {ENTREGUE}, ENTREGUE: set(), CANCELADO: set()}
# The order's status that follows each shipment status.
STATUS_DO_PEDIDO = {ENVIADO: "enviado", ENTREGUE: "entregue"}


@dataclass
class Envio:
    id: str
    pedido_id: str
    cliente_id: str
    codigo_rastreio: str
    endereco: dict | None
    status: str = PREPARANDO
    historico: list[dict] = field(default_factory=list)
    criado_em: datetime | None = None
    atualizado_em: datetime | None = None


def validar_transicao(de: str, para: str) -> None:
    if para not in TRANSICOES.get(de, set()):
        raise TransicaoInvalida(f"Envio {de} não pode passar a {para}.")


def novo_codigo_rastreio() -> str:
    """``PT`` + 9 characters + ``BR``, in the shape of the postal service's codes."""
    return "PT" + secrets.token_hex(5).upper()[:9] + "BR"
