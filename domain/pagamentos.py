"""Pagamento: one per order; what each gateway answer does to it and to its order (the
gateway itself is the port ``domain.ports.Gateway``).

pendente ──▶ processado                 (card/PayPal approved)
    │  ├──▶ aguardando_confirmacao ──▶ processado   (boleto/pix paid)
    │  │                         └──▶ expirado      (unpaid in time)
    └──┴──▶ falhou                      (declined, or retries exhausted)
processado ──▶ reembolsado              (the confirmed order was cancelled)
           └─▶ reembolso_pendente       (the gateway cannot refund it: staff return it)
pendente / aguardando_confirmacao ──▶ cancelado ──▶ reembolsado (or reembolso_pendente)
        (the order was cancelled before its payment was decided: never charged after
         that; a charge that was already under way when the order was cancelled, or a
         boleto paid late, is refunded)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from domain.errors import DomainError

PENDENTE = "pendente"
AGUARDANDO = "aguardando_confirmacao"
PROCESSADO = "processado"
FALHOU = "falhou"
EXPIRADO = "expirado"
REEMBOLSADO = "reembolsado"
CANCELADO = "cancelado"
# Money taken for an order that was cancelled, which the gateway could not give back by
# itself (a paid boleto or pix is returned by bank transfer): staff act on it.
REEMBOLSO_PENDENTE = "reembolso_pendente"
STATUS = (PENDENTE, AGUARDANDO, PROCESSADO, FALHOU, EXPIRADO, REEMBOLSADO, CANCELADO, REEMBOLSO_PENDENTE)
FINAIS = (PROCESSADO, FALHOU, EXPIRADO, CANCELADO)
ABERTOS = (PENDENTE, AGUARDANDO)  # not decided yet: the order can still be cancelled without a refund

APROVADO = "aprovado"
RECUSADO = "recusado"
AGUARDANDO_CONFIRMACAO = "aguardando"


class GatewayTransitorio(DomainError):
    """The gateway failed in a way a retry may fix (5xx, connection reset, timeout)."""


@dataclass
class RespostaGateway:
    resultado: str  # APROVADO, RECUSADO or AGUARDANDO_CONFIRMACAO
    referencia: str | None = None
    motivo: str | None = None


@dataclass
class Pagamento:
    id: str
    pedido_id: str
    cliente_id: str
    metodo: str
    valor: Decimal
    status: str = PENDENTE
    token: str | None = None
    referencia: str | None = None
    motivo: str | None = None
    tentativas: int = 0
    criado_em: datetime | None = None
    atualizado_em: datetime | None = None
    historico: list[dict] = field(default_factory=list)


def chave_de_cobranca(pedido_id: str) -> str:
    """The gateway idempotency key: derived from the order, so retries charge once."""
    return f"pedido:{pedido_id}"
