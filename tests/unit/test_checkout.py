"""Checkout on in-memory fakes (``services.pedidos``): stock reserved all or nothing, the
order stored ``pendente`` with its payment queued, one order per Idempotency-Key however
often the checkout is attempted. The same paths on MongoDB: tests/integration/test_pedidos.py
and test_checkout_retomado.py."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from domain.errors import DadosInvalidos
from domain.pedidos import CheckoutEmAndamento, EstoqueInsuficiente
from services import pedidos
from services.common import agora


def test_an_order_reserves_its_stock_and_freezes_its_items(loja):
    pedido = pedidos.fazer_pedido(loja.ctx, loja.cliente, {loja.caneca: 2, loja.camiseta: 1}, "pix")
    assert (loja.estoque(loja.caneca), loja.estoque(loja.camiseta)) == (8, 2)
    assert (pedido.status, pedido.total, pedido.pagamento_metodo) == ("pendente", Decimal("109.90"), "pix")
    assert [(i.nome, i.quantidade, i.subtotal) for i in pedido.itens] == [
        ("Caneca", 2, Decimal("50.00")),
        ("Camiseta", 1, Decimal("59.90")),
    ]
    assert pedido.endereco["cidade"] == "Recife"
    assert loja.ctx.pedidos.get(pedido.id) == pedido
    assert ("pedido", pedido.id, "criado") in [(r.recurso, r.recurso_id, r.acao) for r in loja.ctx.auditoria.registros]


def test_one_item_short_reserves_nothing_and_names_it(loja):
    with pytest.raises(EstoqueInsuficiente) as exc:
        pedidos.fazer_pedido(loja.ctx, loja.cliente, {loja.caneca: 2, loja.camiseta: 4}, "pix")
    assert exc.value.errors == {"itens": [f"Estoque insuficiente: Camiseta ({loja.camiseta})"]}
    assert (loja.estoque(loja.caneca), loja.estoque(loja.camiseta)) == (10, 3)
    assert loja.ctx.pedidos.rows == {}


def test_an_order_that_cannot_be_stored_gives_its_stock_back(loja):
    def store_down(_pedido):
        raise ConnectionError("store down")

    loja.ctx.pedidos.add = store_down
    with pytest.raises(ConnectionError):
        pedidos.fazer_pedido(loja.ctx, loja.cliente, {loja.caneca: 2}, "pix")
    assert loja.estoque(loja.caneca) == 10


@pytest.mark.parametrize("quantidades", [{}, None])
def test_an_empty_cart_or_no_address_is_refused_before_any_reservation(loja, quantidades):
    if quantidades is None:  # a customer without an address
        loja.cliente = loja.ctx.clientes.add({"nome": "Bia", "email": "bia@example.com"}, agora()).id
        quantidades = {loja.caneca: 1}
    with pytest.raises(DadosInvalidos):
        pedidos.fazer_pedido(loja.ctx, loja.cliente, quantidades, "pix")
    assert loja.estoque(loja.caneca) == 10


def test_the_sale_takes_its_place_in_the_sync_order(loja):
    loja.ctx.sequencia = itertools.count(100).__next__  # the API's counter
    pedidos.fazer_pedido(loja.ctx, loja.cliente, {loja.caneca: 1}, "pix")
    pedidos.fazer_pedido(loja.ctx, loja.cliente, {loja.camiseta: 1}, "pix", seq=42)  # a CRM cart's own number
    assert loja.ctx.estoque.seq == {loja.caneca: 100, loja.camiseta: 42}


def test_checkout_empties_the_cart_and_queues_the_payment(loja):
    pedido, pagamento = loja.comprar(metodo="cartao", token="tok_aprova", caneca=3)
    assert loja.ctx.carrinhos.get(loja.cliente).itens == []
    assert pagamento.pedido_id == pedido.id
    assert (pagamento.status, pagamento.valor, pagamento.token) == ("pendente", Decimal("75.00"), "tok_aprova")
    assert loja.ctx.despachante.pagamentos == [pagamento.id]
    assert loja.estoque(loja.caneca) == 7


def _unico(loja, chave="k1", corpo="h1"):
    return pedidos.pedido_unico(loja.ctx, loja.cliente, chave, corpo, loja.cliente, lambda: {loja.caneca: 2}, "pix")


def test_the_same_key_gives_the_same_order_once(loja):
    primeiro, criado = _unico(loja)
    segundo, de_novo = _unico(loja)
    assert (criado, de_novo, segundo.id) == (True, False, primeiro.id)
    assert loja.estoque(loja.caneca) == 8  # reserved once
    assert len(loja.ctx.pagamentos.rows) == 1
    assert len(loja.ctx.despachante.pagamentos) == 1
    with pytest.raises(DadosInvalidos):  # the same key with another body
        _unico(loja, corpo="h2")


def test_a_checkout_that_failed_for_good_frees_its_key(loja):
    loja.ctx.estoque.reservar(loja.caneca, 9, None)  # one left
    with pytest.raises(EstoqueInsuficiente):
        _unico(loja)
    loja.ctx.estoque.liberar(loja.caneca, 9)
    pedido, criado = _unico(loja)
    assert (criado, pedido.status, loja.estoque(loja.caneca)) == (True, "pendente", 8)


def test_an_attempt_that_stopped_half_way_is_resumed_without_reserving_twice(loja):
    add = loja.ctx.pagamentos.add

    def down_once(pagamento):
        loja.ctx.pagamentos.add = add
        raise ConnectionError("store down")

    loja.ctx.pagamentos.add = down_once
    with pytest.raises(ConnectionError):
        _unico(loja)
    assert (len(loja.ctx.pedidos.rows), loja.estoque(loja.caneca)) == (1, 8)  # the order is stored
    pedido, criado = _unico(loja)  # the retry, at once: the key was let go
    assert (criado, loja.estoque(loja.caneca)) == (True, 8)
    assert list(loja.ctx.pedidos.rows) == [pedido.id]
    assert loja.ctx.pagamentos.por_pedido(pedido.id) is not None


def test_a_key_held_by_another_attempt_is_refused_until_its_hold_ends(loja):
    loja.ctx.idempotencia.iniciar(loja.cliente, "k1", "h1", agora())  # an attempt in progress
    with pytest.raises(CheckoutEmAndamento):
        _unico(loja)
    assert (loja.ctx.pedidos.rows, loja.estoque(loja.caneca)) == ({}, 10)
