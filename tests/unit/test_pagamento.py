"""Payment on in-memory fakes (``services.pagamentos``): a card charged once per order
whatever the retries, its order confirmed and shipped; a decline, the last failed try or
an unpaid boleto cancel the order and give its stock back. On MongoDB with the simulated
gateway: tests/integration/test_pedido_pagamento_envio.py and tests/e2e/test_pagamentos.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import Conflito
from domain.pagamentos import GatewayTransitorio, chave_de_cobranca
from services import pagamentos
from services.common import agora


def _estado(loja, pedido, pagamento):
    return (
        loja.ctx.pedidos.get(pedido.id).status,
        loja.ctx.pagamentos.get(pagamento.id).status,
        loja.estoque(loja.caneca),
    )


def test_an_approved_card_confirms_the_order_and_asks_for_its_shipment(loja):
    pedido, pagamento = loja.comprar(token="tok_aprova")
    assert pagamentos.processar(loja.ctx, pagamento.id, ultima_tentativa=False) == "processado"
    assert _estado(loja, pedido, pagamento) == ("confirmado", "processado", 8)
    assert loja.ctx.gateway.cobrados == {chave_de_cobranca(pedido.id): pedido.total}
    assert loja.ctx.despachante.envios == [pedido.id]
    aviso = loja.ctx.publicador.mensagens[-1]
    assert (aviso["pedido_id"], aviso["status_anterior"], aviso["status"]) == (pedido.id, "pendente", "confirmado")


def test_a_redelivered_task_never_charges_twice(loja):
    pedido, pagamento = loja.comprar(token="tok_aprova")
    for _ in range(3):
        assert pagamentos.processar(loja.ctx, pagamento.id, ultima_tentativa=False) == "processado"
    assert loja.ctx.gateway.tentativas == {chave_de_cobranca(pedido.id): 1}
    assert loja.ctx.pedidos.get(pedido.id).status == "confirmado"


def test_a_declined_card_cancels_the_order_and_gives_the_stock_back(loja):
    pedido, pagamento = loja.comprar(token="tok_recusa")
    assert pagamentos.processar(loja.ctx, pagamento.id, ultima_tentativa=False) == "falhou"
    assert _estado(loja, pedido, pagamento) == ("cancelado", "falhou", 10)
    assert loja.ctx.pagamentos.get(pagamento.id).motivo == "cartão recusado pelo emissor"
    assert loja.ctx.despachante.envios == []


def test_transient_gateway_failures_are_retried_then_approved(loja):
    pedido, pagamento = loja.comprar(token="tok_falha_2")
    for _ in range(2):
        with pytest.raises(GatewayTransitorio):
            pagamentos.processar(loja.ctx, pagamento.id, ultima_tentativa=False)
        assert _estado(loja, pedido, pagamento) == ("pendente", "pendente", 8)
    assert pagamentos.processar(loja.ctx, pagamento.id, ultima_tentativa=False) == "processado"
    assert loja.ctx.pagamentos.get(pagamento.id).tentativas == 3


def test_the_last_try_failing_cancels_the_order(loja):
    pedido, pagamento = loja.comprar(token="tok_timeout")
    with pytest.raises(GatewayTransitorio):
        pagamentos.processar(loja.ctx, pagamento.id, ultima_tentativa=False)
    assert pagamentos.processar(loja.ctx, pagamento.id, ultima_tentativa=True) == "falhou"
    assert _estado(loja, pedido, pagamento) == ("cancelado", "falhou", 10)


def test_a_boleto_waits_then_its_confirmation_confirms_the_order_once(loja):
    pedido, pagamento = loja.comprar(metodo="boleto")
    assert pagamentos.processar(loja.ctx, pagamento.id, ultima_tentativa=False) == "aguardando_confirmacao"
    assert _estado(loja, pedido, pagamento) == ("pendente", "aguardando_confirmacao", 8)
    primeira = pagamentos.confirmar(loja.ctx, pagamento.id)
    repetida = pagamentos.confirmar(loja.ctx, pagamento.id)  # gateways retry their callbacks
    assert primeira.status == repetida.status == "processado"
    assert _estado(loja, pedido, pagamento) == ("confirmado", "processado", 8)
    with pytest.raises(Conflito):  # a card payment has nothing to confirm
        pagamentos.confirmar(loja.ctx, loja.comprar(token="tok_aprova")[1].id)


def test_the_beat_expires_unpaid_boletos_and_requeues_lost_payments_once_per_period(loja):
    boleto, pag_boleto = loja.comprar(metodo="boleto")
    pagamentos.processar(loja.ctx, pag_boleto.id, ultima_tentativa=False)
    _, parado = loja.comprar(token="tok_aprova", camiseta=1)  # its task was lost
    for p in (pag_boleto, parado):  # both made ten minutes ago
        loja.ctx.pagamentos.rows[p.id].criado_em -= timedelta(minutes=10)
    loja.ctx.despachante.pagamentos.clear()
    feito = pagamentos.verificar(loja.ctx, agora(), expira_apos=timedelta(minutes=1))
    assert (feito["expirados"], feito["reenfileirados"]) == (1, 1)
    assert _estado(loja, boleto, pag_boleto) == ("cancelado", "expirado", 10)
    assert pagamentos.verificar(loja.ctx, agora(), expira_apos=timedelta(minutes=1))["reenfileirados"] == 0
    assert loja.ctx.despachante.pagamentos == [parado.id]
