"""Pedido: the order, its items' snapshot and the one state machine every change obeys.

pendente ──▶ confirmado ──▶ enviado ──▶ entregue
    │             │
    └──────┬──────┘
           ▼
       cancelado
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from domain.errors import Conflito, DadosInvalidos
from domain.money import somar

PENDENTE = "pendente"
CONFIRMADO = "confirmado"
ENVIADO = "enviado"
ENTREGUE = "entregue"
CANCELADO = "cancelado"
STATUS = (PENDENTE, CONFIRMADO, ENVIADO, ENTREGUE, CANCELADO)

TRANSICOES = {
    PENDENTE: {CONFIRMADO, CANCELADO},
    CONFIRMADO: {ENVIADO, CANCELADO},
    ENVIADO: {ENTREGUE},
    ENTREGUE: set(),
    CANCELADO: set(),
}

METODOS_PAGAMENTO = ("cartao", "boleto", "pix", "paypal")


class TransicaoInvalida(Conflito):
    """A status change the state machine does not allow (HTTP 409)."""


class CheckoutEmAndamento(Conflito):
    """Another attempt of the same checkout (same Idempotency-Key, or the same CRM cart)
    holds it right now (HTTP 409; the CRM's task retries it)."""


class PedidoJaExiste(CheckoutEmAndamento):
    """The order id this attempt reserved was stored by another attempt of the same checkout
    (this one ran past its hold and was taken over)."""


class EstoqueInsuficiente(Conflito):
    """Some items cannot be reserved; ``errors`` names them (HTTP 409)."""


@dataclass
class ItemPedido:
    """What was bought, frozen at checkout: later price or name changes do not touch it."""

    produto_id: str
    nome: str
    preco_unitario: Decimal
    quantidade: int
    subtotal: Decimal


@dataclass
class Pedido:
    id: str
    cliente_id: str
    itens: list[ItemPedido]
    total: Decimal
    status: str
    pagamento_metodo: str
    endereco: dict | None = None
    criado_em: datetime | None = None
    atualizado_em: datetime | None = None
    historico: list[dict] = field(default_factory=list)
    versao: int = 1


@dataclass
class PedidoFiltro:
    cliente_id: str | None = None
    status: str | None = None
    desde: datetime | None = None
    ate: datetime | None = None


def validar_transicao(de: str, para: str) -> None:
    if para not in TRANSICOES.get(de, set()):
        raise TransicaoInvalida(f"Pedido {de} não pode passar a {para}.")


def validar_metodo(metodo: object) -> str:
    if metodo not in METODOS_PAGAMENTO:
        raise DadosInvalidos({"pagamento_metodo": [f"Use um de: {', '.join(METODOS_PAGAMENTO)}."]})
    return metodo


def itens_do_pedido(quantidades: dict[str, int], produtos: dict) -> tuple[list[ItemPedido], Decimal]:
    """Snapshot each product at its current price. Unknown or hidden products are refused."""
    ausentes = sorted(pid for pid in quantidades if produtos.get(pid) is None)
    if ausentes:
        raise DadosInvalidos({"itens": [f"Produto indisponível: {pid}" for pid in ausentes]})
    itens = []
    for pid in sorted(quantidades):
        produto, qtd = produtos[pid], quantidades[pid]
        itens.append(ItemPedido(pid, produto.nome, produto.preco, qtd, (produto.preco * qtd).quantize(Decimal("0.01"))))
    return itens, somar(item.subtotal for item in itens)
