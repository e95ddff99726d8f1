"""The service-layer unit tests' shop: a context on in-memory fakes (``tests/fakes.py``),
one customer with an address and two products. No server is started."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from services import carrinhos, pedidos, produtos
from services.common import agora
from services.contexto import Contexto
from tests.fakes import fake_contexto

ENDERECO = {"rua": "Rua A", "numero": "1", "bairro": "Centro", "cidade": "Recife", "estado": "PE", "cep": "50000000"}


@dataclass
class Loja:
    ctx: Contexto
    cliente: str
    caneca: str  # 25.00, 10 in stock
    camiseta: str  # 59.90, 3 in stock

    def estoque(self, produto_id: str) -> int:
        return self.ctx.produtos.get(produto_id).estoque

    def no_carrinho(self, **quantidades: int) -> None:
        for nome, quantidade in quantidades.items():
            carrinhos.definir_item(self.ctx, self.cliente, getattr(self, nome), quantidade)

    def comprar(self, metodo: str = "cartao", token: str | None = None, **quantidades: int):
        """Checkout of a cart with ``quantidades`` (by product name): the order and its payment."""
        self.no_carrinho(**quantidades or {"caneca": 2})
        pedido, _ = pedidos.finalizar_carrinho(self.ctx, self.cliente, metodo, token=token)
        return pedido, self.ctx.pagamentos.por_pedido(pedido.id)


@pytest.fixture
def loja() -> Loja:
    ctx = fake_contexto(ator="sistema:tests")
    cliente = ctx.clientes.add({"nome": "Ana", "email": "ana@example.com", "endereco": dict(ENDERECO)}, agora())
    caneca = produtos.criar(ctx, {"nome": "Caneca", "preco": Decimal("25.00"), "estoque": 10})
    camiseta = produtos.criar(ctx, {"nome": "Camiseta", "preco": Decimal("59.90"), "estoque": 3})
    return Loja(ctx, cliente.id, caneca.id, camiseta.id)
