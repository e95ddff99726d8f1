"""Cancellation on in-memory fakes (``services.pagamentos``, ``services.envios``): the
stock comes back exactly once, an open payment is never charged afterwards, a charged
one is refunded, a shipment not yet sent is cancelled with the order, and a cancellation
that stopped half-way is finished by the beat. On MongoDB:
tests/integration/test_pedido_pagamento_envio.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import Conflito
from domain.pagamentos import chave_de_cobranca
from services import envios, pagamentos, status_pedido
from services.common import agora


def _pago_e_enviado(loja, enviar=False):
    pedido, pagamento = loja.comprar(token="tok_aprova")
    pagamentos.processar(loja.ctx, pagamento.id, ultima_tentativa=False)
    envio = envios.criar(loja.ctx, pedido.id)
    if enviar:
        envios.mudar(loja.ctx, envio.id, "enviado")
    return pedido, pagamento, envio


def test_an_order_cancelled_before_its_charge_is_never_charged(loja):
    pedido, pagamento = loja.comprar(token="tok_aprova")
    assert status_pedido.cancelar(loja.ctx, pedido.id).status == "cancelado"
    assert (loja.estoque(loja.caneca), loja.ctx.pagamentos.get(pagamento.id).status) == (10, "cancelado")
    assert pagamentos.processar(loja.ctx, pagamento.id, ultima_tentativa=False) == "cancelado"  # the queued task
    assert loja.ctx.gateway.tentativas == {}


def test_a_paid_order_cancelled_is_refunded_and_its_shipment_cancelled(loja):
    pedido, pagamento, envio = _pago_e_enviado(loja)
    status_pedido.cancelar(loja.ctx, pedido.id)
    assert loja.ctx.pagamentos.get(pagamento.id).status == "reembolsado"
    assert loja.ctx.gateway.reembolsados == {chave_de_cobranca(pedido.id)}
    assert loja.ctx.envios.get(envio.id).status == "cancelado"
    assert (loja.ctx.pedidos.get(pedido.id).status, loja.estoque(loja.caneca)) == ("cancelado", 10)
    assert loja.ctx.pedidos.cancelamento_pendente == set()


def test_a_paid_boleto_cannot_be_refunded_by_the_gateway_so_staff_are_told(loja):
    pedido, pagamento = loja.comprar(metodo="boleto")
    pagamentos.processar(loja.ctx, pagamento.id, ultima_tentativa=False)
    pagamentos.confirmar(loja.ctx, pagamento.id)
    status_pedido.cancelar(loja.ctx, pedido.id)
    assert loja.ctx.pagamentos.get(pagamento.id).status == "reembolso_pendente"
    assert ("pagamento", pagamento.id, "reembolso_pendente") in [
        (r.recurso, r.recurso_id, r.acao) for r in loja.ctx.auditoria.registros
    ]


def test_an_order_on_its_way_is_not_cancelled_and_nothing_changes(loja):
    pedido, pagamento, envio = _pago_e_enviado(loja, enviar=True)
    with pytest.raises(Conflito):
        status_pedido.cancelar(loja.ctx, pedido.id)
    assert loja.ctx.pedidos.get(pedido.id).status == "enviado"
    assert (loja.ctx.pagamentos.get(pagamento.id).status, loja.ctx.envios.get(envio.id).status) == (
        "processado",
        "enviado",
    )
    assert loja.estoque(loja.caneca) == 8


def test_cancelling_twice_gives_the_stock_back_once(loja):
    pedido, _ = loja.comprar(caneca=2, camiseta=1)
    status_pedido.cancelar(loja.ctx, pedido.id)
    with pytest.raises(Conflito):
        status_pedido.cancelar(loja.ctx, pedido.id)
    status_pedido.concluir_cancelamento(loja.ctx, loja.ctx.pedidos.get(pedido.id))  # the beat, again
    assert (loja.estoque(loja.caneca), loja.estoque(loja.camiseta)) == (10, 3)


def test_a_cancellation_that_stopped_half_way_is_finished_by_the_beat(loja):
    pedido, pagamento = loja.comprar(caneca=2, camiseta=1)
    liberar = loja.ctx.estoque.liberar

    def down_on_camisetas(produto_id, quantidade):
        if produto_id == loja.camiseta:
            raise ConnectionError("store down")
        liberar(produto_id, quantidade)

    loja.ctx.estoque.liberar = down_on_camisetas
    with pytest.raises(ConnectionError):
        status_pedido.cancelar(loja.ctx, pedido.id)
    assert loja.ctx.pedidos.get(pedido.id).status == "cancelado"
    assert (loja.estoque(loja.caneca), loja.estoque(loja.camiseta)) == (10, 2)
    loja.ctx.estoque.liberar = liberar
    depois = agora() + timedelta(minutes=5)
    assert status_pedido.concluir_cancelamentos_parados(loja.ctx, depois) == 1
    assert status_pedido.concluir_cancelamentos_parados(loja.ctx, depois) == 0
    assert (loja.estoque(loja.caneca), loja.estoque(loja.camiseta)) == (10, 3)
    assert loja.ctx.pagamentos.get(pagamento.id).status == "cancelado"


def test_cancelling_a_shipment_cancels_its_order(loja):
    pedido, pagamento, envio = _pago_e_enviado(loja)
    envios.mudar(loja.ctx, envio.id, "cancelado")
    assert (loja.ctx.pedidos.get(pedido.id).status, loja.ctx.pagamentos.get(pagamento.id).status) == (
        "cancelado",
        "reembolsado",
    )
    assert loja.estoque(loja.caneca) == 10
