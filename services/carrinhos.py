"""Use cases of the cart: see it priced, set or remove a line, empty it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.carrinhos import ITENS_MAXIMO, Carrinho, LinhaCarrinho, precificar, validar_quantidade
from domain.errors import DadosInvalidos, NaoEncontrado
from services.common import agora
from services.contexto import Contexto


@dataclass
class CarrinhoPrecificado:
    cliente_id: str
    itens: list[LinhaCarrinho]
    total: Decimal
    indisponiveis: list[str]


def ver(ctx: Contexto, cliente_id: str) -> CarrinhoPrecificado:
    """The cart with current prices; lines whose product was hidden are listed apart."""
    return precificado(ctx, obter(ctx, cliente_id))


def obter(ctx: Contexto, cliente_id: str) -> Carrinho:
    """The cart's lines, without prices (an empty cart when the customer has none)."""
    return ctx.carrinhos.get(cliente_id)


def precificado(ctx: Contexto, carrinho: Carrinho) -> CarrinhoPrecificado:
    """``carrinho`` at its products' current prices (``ver``'s second half)."""
    return com_produtos(carrinho, ctx.produtos.varios([item.produto_id for item in carrinho.itens]))


def com_produtos(carrinho: Carrinho, produtos: dict) -> CarrinhoPrecificado:
    """``carrinho`` priced with ``produtos``: each line's product id -> the product, or
    None when hidden or unknown, in the cart's order."""
    linhas, total = precificar(carrinho, produtos)
    indisponiveis = [pid for pid, p in produtos.items() if p is None]
    return CarrinhoPrecificado(carrinho.cliente_id, linhas, total, indisponiveis)


def ver_de_cliente(ctx: Contexto, cliente_id: str) -> CarrinhoPrecificado:
    """A given customer's cart (``GET /carrinhos/{id}``): an unknown customer is 404, a
    known one without a cart has an empty one."""
    if ctx.clientes.get(cliente_id) is None:
        raise NaoEncontrado("Cliente não encontrado.")
    return ver(ctx, cliente_id)


def definir_item(ctx: Contexto, cliente_id: str, produto_id: str, quantidade: int) -> CarrinhoPrecificado:
    quantidade = validar_quantidade(quantidade)
    if ctx.produtos.get(produto_id) is None:
        raise DadosInvalidos({"produto_id": ["Produto inexistente ou indisponível."]})
    ctx.carrinhos.definir_item(cliente_id, produto_id, quantidade, agora(), ITENS_MAXIMO)
    return ver(ctx, cliente_id)


def alterar_quantidade(ctx: Contexto, cliente_id: str, produto_id: str, quantidade: int) -> CarrinhoPrecificado:
    """Change the quantity of a line already in the cart; a product not there is 404
    (putting one in is ``definir_item``, ``POST /carrinhos/me/itens``)."""
    quantidade = validar_quantidade(quantidade)
    if not ctx.carrinhos.get(cliente_id).tem(produto_id):
        raise NaoEncontrado("Este produto não está no carrinho.")
    return definir_item(ctx, cliente_id, produto_id, quantidade)


def remover_item(ctx: Contexto, cliente_id: str, produto_id: str) -> CarrinhoPrecificado:
    if not ctx.carrinhos.remover_item(cliente_id, produto_id, agora()):
        raise NaoEncontrado("Este produto não está no carrinho.")
    return ver(ctx, cliente_id)


def esvaziar(ctx: Contexto, cliente_id: str) -> None:
    ctx.carrinhos.esvaziar(cliente_id, agora())


def listar(ctx: Contexto, offset: int, limit: int):
    carrinhos, total = ctx.carrinhos.list(offset, limit)
    return [ver(ctx, c.cliente_id) for c in carrinhos], total
