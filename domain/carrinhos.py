"""Carrinho: a customer's one open cart. Totals always come from current prices."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from domain.errors import DadosInvalidos
from domain.money import somar

QUANTIDADE_MAXIMA = 100  # per item: a shop limit, and a bound on stock reservations
ITENS_MAXIMO = 50


@dataclass
class ItemCarrinho:
    produto_id: str
    quantidade: int


@dataclass
class Carrinho:
    cliente_id: str
    itens: list[ItemCarrinho] = field(default_factory=list)
    atualizado_em: datetime | None = None

    def tem(self, produto_id: str) -> bool:
        return any(item.produto_id == produto_id for item in self.itens)


@dataclass
class LinhaCarrinho:
    """A cart line priced now: what the API shows."""

    produto_id: str
    nome: str
    preco_unitario: Decimal
    quantidade: int
    subtotal: Decimal


def validar_quantidade(quantidade: object) -> int:
    if isinstance(quantidade, bool) or not isinstance(quantidade, int) or not 1 <= quantidade <= QUANTIDADE_MAXIMA:
        raise DadosInvalidos({"quantidade": [f"Use um inteiro entre 1 e {QUANTIDADE_MAXIMA}."]})
    return quantidade


def precificar(carrinho: Carrinho, produtos: dict) -> tuple[list[LinhaCarrinho], Decimal]:
    """Price every line with the product's current price; hidden or unknown products are
    left out (the API shows them as unavailable through ``indisponiveis``)."""
    linhas = []
    for item in carrinho.itens:
        produto = produtos.get(item.produto_id)
        if produto is None:
            continue
        subtotal = (produto.preco * item.quantidade).quantize(Decimal("0.01"))
        linhas.append(LinhaCarrinho(produto.id, produto.nome, produto.preco, item.quantidade, subtotal))
    return linhas, somar(linha.subtotal for linha in linhas)
