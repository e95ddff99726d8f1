"""An order, its payment and its shipment stay consistent whatever the interleaving:
a cancelled order is never charged (or is refunded), an approval interrupted half-way
is finished by the retry, a 409 leaves nothing half-written, and staff cannot confirm
an unpaid order. Real Redis and the MongoDB stand-in; the payment task's service is
called directly so that the interleavings are exact."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId
from pymongo.errors import AutoReconnect

from services import envios, pagamentos, status_pedido
from tests.integration.test_pedidos import cliente_logado
from webapp.deps import build_contexto


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield build_contexto(app, "sistema:tests")


def _pedido(app, client, metodo="cartao", estoque=5, quantidade=2):
    produto = client.post("/produtos", json={"nome": f"P {uuid.uuid4().hex[:6]}", "preco": 10, "estoque": estoque})
    assert produto.status_code == 201
    produto = produto.get_json()
    cliente = cliente_logado(app, f"c-{uuid.uuid4().hex[:10]}@example.com")
    r = cliente.post("/carrinhos/me/itens", json={"produto_id": produto["id"], "quantidade": quantidade})
    assert r.status_code in (200, 201)
    body = {"pagamento_metodo": metodo} | ({"cartao_token": "tok_aprova"} if metodo == "cartao" else {})
    r = cliente.post("/pedidos", json=body)
    assert r.status_code == 201, r.get_json()
    pedido = r.get_json()
    pagamento = client.get(f"/pedidos/{pedido['id']}/pagamento").get_json()
    return produto, pedido, pagamento


def _estado(client, db, produto, pedido, pagamento):
    cobranca = db.gateway_simulado.find_one({"_id": f"pedido:{pedido['id']}"}) or {}
    return (
        client.get(f"/pedidos/{pedido['id']}").get_json()["status"],
        client.get(f"/pedidos/{pedido['id']}/pagamento").get_json()["status"],
        client.get(f"/produtos/{produto['id']}").get_json()["estoque"],
        cobranca.get("cobrancas", 0),
        cobranca.get("reembolsado", False),
    )


def test_pedido_cancelado_antes_da_cobranca_nunca_e_cobrado(app, client, db, ctx):
    produto, pedido, pagamento = _pedido(app, client)
    assert client.patch(f"/pedidos/{pedido['id']}", json={"status": "cancelado"}).status_code == 200
    # The payment task runs late (or is re-enqueued by the beat job).
    assert pagamentos.processar(ctx, pagamento["id"], ultima_tentativa=False) == "cancelado"
    assert _estado(client, db, produto, pedido, pagamento) == ("cancelado", "cancelado", 5, 0, False)


def test_cancelamento_antes_de_fechar_o_pagamento_tambem_impede_a_cobranca(app, client, db, ctx):
    """The cancel stopped after the order's write (its process died): the task still
    sees that the order no longer waits for its money."""
    produto, pedido, pagamento = _pedido(app, client)
    status_pedido.mudar(ctx, pedido["id"], "cancelado")  # order + stock, as the cancel does first
    db.pagamentos.update_one({"_id": ObjectId(pagamento["id"])}, {"$set": {"status": "pendente"}})
    assert pagamentos.processar(ctx, pagamento["id"], ultima_tentativa=False) == "cancelado"
    assert _estado(client, db, produto, pedido, pagamento) == ("cancelado", "cancelado", 5, 0, False)


class _CancelaDuranteACobranca:
    """The gateway answers while staff cancel the order: the cancel lands mid-charge."""

    def __init__(self, gateway, cancelar):
        self.gateway, self.cancelar = gateway, cancelar

    def cobrar(self, *args):
        self.cancelar()
        return self.gateway.cobrar(*args)

    def reembolsar(self, chave):
        return self.gateway.reembolsar(chave)


def test_cobranca_em_andamento_quando_o_pedido_e_cancelado_e_reembolsada(app, client, db, ctx):
    produto, pedido, pagamento = _pedido(app, client)
    cancelar = lambda: client.patch(f"/pedidos/{pedido['id']}", json={"status": "cancelado"})  # noqa: E731
    ctx.gateway = _CancelaDuranteACobranca(ctx.gateway, cancelar)
    assert pagamentos.processar(ctx, pagamento["id"], ultima_tentativa=False) == "reembolsado"
    assert _estado(client, db, produto, pedido, pagamento) == ("cancelado", "reembolsado", 5, 1, True)


def test_cancelamento_logo_apos_a_aprovacao_reembolsa(app, client, db, ctx):
    """The other side of the race: approval recorded, the order cancelled before the task
    confirms it. The cancel refunds; the task, resuming, finds it done."""
    produto, pedido, pagamento = _pedido(app, client)
    pedidos_repo = ctx.pedidos

    class _CancelaAntesDeConfirmar:
        def __getattr__(self, nome):
            return getattr(pedidos_repo, nome)

        def mudar_status(self, pedido_id, de, para, momento):
            if para == "confirmado":
                assert client.patch(f"/pedidos/{pedido_id}", json={"status": "cancelado"}).status_code == 200
            return pedidos_repo.mudar_status(pedido_id, de, para, momento)

    ctx.pedidos = _CancelaAntesDeConfirmar()
    assert pagamentos.processar(ctx, pagamento["id"], ultima_tentativa=False) == "reembolsado"
    assert _estado(client, db, produto, pedido, pagamento) == ("cancelado", "reembolsado", 5, 1, True)


def test_aprovacao_interrompida_e_concluida_pela_nova_tentativa(app, client, db, ctx):
    produto, pedido, pagamento = _pedido(app, client)
    pedidos_repo, falhas = ctx.pedidos, [1]

    class _MongoCaiUmaVez:
        def __getattr__(self, nome):
            return getattr(pedidos_repo, nome)

        def mudar_status(self, *args):
            if falhas:
                falhas.pop()
                raise AutoReconnect("primary stepped down")
            return pedidos_repo.mudar_status(*args)

    ctx.pedidos = _MongoCaiUmaVez()
    with pytest.raises(AutoReconnect):  # the task retries on this
        pagamentos.processar(ctx, pagamento["id"], ultima_tentativa=False)
    assert _estado(client, db, produto, pedido, pagamento) == ("pendente", "processado", 3, 1, False)
    assert pagamentos.processar(ctx, pagamento["id"], ultima_tentativa=False) == "processado"
    assert _estado(client, db, produto, pedido, pagamento) == ("confirmado", "processado", 3, 1, False)
    assert envios.criar(ctx, pedido["id"]).status == "preparando"


def test_staff_nao_confirmam_nem_enviam_um_pedido_pelo_patch(app, client, db):
    _produto, pedido, _pagamento = _pedido(app, client, metodo="boleto")
    for status in ("confirmado", "enviado", "entregue", "pendente"):
        assert client.patch(f"/pedidos/{pedido['id']}", json={"status": status}).status_code == 422
    assert client.get(f"/pedidos/{pedido['id']}").get_json()["status"] == "pendente"


def test_confirmacao_repetida_do_boleto_responde_como_a_primeira(app, client, db, ctx):
    _produto, pedido, pagamento = _pedido(app, client, metodo="boleto")
    assert pagamentos.processar(ctx, pagamento["id"], ultima_tentativa=False) == "aguardando_confirmacao"
    url = f"/pagamentos/{pagamento['id']}/confirmacao"
    assert client.post(url).status_code == 200
    segunda = client.post(url)  # the gateway retries its callback
    assert segunda.status_code == 200 and segunda.get_json()["status"] == "processado"
    assert client.get(f"/pedidos/{pedido['id']}").get_json()["status"] == "confirmado"


def test_boleto_de_pedido_cancelado_nao_confirma_o_pedido(app, client, db, ctx):
    produto, pedido, pagamento = _pedido(app, client, metodo="boleto")
    assert pagamentos.processar(ctx, pagamento["id"], ultima_tentativa=False) == "aguardando_confirmacao"
    assert client.patch(f"/pedidos/{pedido['id']}", json={"status": "cancelado"}).status_code == 200
    assert client.post(f"/pagamentos/{pagamento['id']}/confirmacao").status_code == 409
    # The money came in and the gateway cannot return a boleto: staff must, and can see it.
    assert _estado(client, db, produto, pedido, pagamento)[:3] == ("cancelado", "reembolso_pendente", 5)


def _pago_com_envio(app, client, ctx):
    produto, pedido, pagamento = _pedido(app, client)
    assert pagamentos.processar(ctx, pagamento["id"], ultima_tentativa=False) == "processado"
    envio = envios.criar(ctx, pedido["id"])
    return produto, pedido, pagamento, envio


def test_cancelar_o_pedido_cancela_o_envio_que_nao_saiu(app, client, db, ctx):
    produto, pedido, pagamento, envio = _pago_com_envio(app, client, ctx)
    assert client.patch(f"/pedidos/{pedido['id']}", json={"status": "cancelado"}).status_code == 200
    assert client.get(f"/envios/{envio.id}").get_json()["status"] == "cancelado"
    assert _estado(client, db, produto, pedido, pagamento) == ("cancelado", "reembolsado", 5, 1, True)
    # A 409 writes nothing: the shipment of the refunded order stays cancelled.
    assert client.patch(f"/envios/{envio.id}", json={"status": "enviado"}).status_code == 409
    assert client.get(f"/envios/{envio.id}").get_json()["status"] == "cancelado"


def test_envio_que_o_pedido_nao_acompanha_nao_e_gravado(app, client, db, ctx):
    """The order was moved out from under its shipment (here: cancelled straight in the
    database, as an older release allowed): the shipment's 409 must leave it unchanged."""
    _produto, pedido, _pagamento, envio = _pago_com_envio(app, client, ctx)
    db.pedidos.update_one({"_id": ObjectId(pedido["id"])}, {"$set": {"status": "cancelado"}})
    assert client.patch(f"/envios/{envio.id}", json={"status": "enviado"}).status_code == 409
    assert client.get(f"/envios/{envio.id}").get_json()["status"] == "preparando"


def test_cancelar_o_envio_cancela_o_pedido_e_reembolsa(app, client, db, ctx):
    produto, pedido, pagamento, envio = _pago_com_envio(app, client, ctx)
    assert client.patch(f"/envios/{envio.id}", json={"status": "cancelado"}).status_code == 200
    assert client.get(f"/envios/{envio.id}").get_json()["status"] == "cancelado"
    assert _estado(client, db, produto, pedido, pagamento) == ("cancelado", "reembolsado", 5, 1, True)


def test_pedido_enviado_nao_e_cancelado_e_nada_muda(app, client, db, ctx):
    produto, pedido, pagamento, envio = _pago_com_envio(app, client, ctx)
    assert client.patch(f"/envios/{envio.id}", json={"status": "enviado"}).status_code == 200
    assert client.patch(f"/pedidos/{pedido['id']}", json={"status": "cancelado"}).status_code == 409
    assert client.patch(f"/envios/{envio.id}", json={"status": "cancelado"}).status_code == 409
    assert client.get(f"/envios/{envio.id}").get_json()["status"] == "enviado"
    assert _estado(client, db, produto, pedido, pagamento) == ("enviado", "processado", 3, 1, False)


def test_pagamento_parado_e_reenfileirado_uma_vez_por_periodo(app, client, db, ctx):
    """The beat job runs every minute: a payment left pendente gets one more task per
    period (services.pagamentos.PARADO_APOS), not one per beat (a worker down for an hour would find thousands)."""
    *_, pagamento = _pedido(app, client)
    oid, periodo = ObjectId(pagamento["id"]), timedelta(minutes=5)
    db.pagamentos.update_one({"_id": oid}, {"$set": {"criado_em": datetime.now(UTC) - 2 * periodo}})

    def beat(agora):  # what tasks.pagamentos.verificar asks, at the time ``agora``
        return [p.id for p in ctx.pagamentos.parados(agora - periodo, agora)]

    assert pagamentos.reenfileirar_parados(ctx, datetime.now(UTC) - periodo) == 1  # the first beat enqueues it
    agora = datetime.now(UTC)
    assert pagamento["id"] not in beat(agora + timedelta(minutes=1))  # the next beats of the period skip it
    assert pagamento["id"] not in beat(agora + timedelta(minutes=4))
    assert pagamento["id"] in beat(agora + periodo + timedelta(seconds=1))  # a period later: once more


class _Delegar:
    """A repository with one method replaced (an interleaving or a failure at that point)."""

    def __init__(self, repo, **metodos):
        self.repo, self.metodos = repo, metodos

    def __getattr__(self, nome):
        return self.metodos.get(nome) or getattr(self.repo, nome)


def test_cancelamento_interrompido_e_concluido_pelo_beat(app, client, db, ctx):
    """MongoDB fails half-way through a paid order's cancellation: the order is cancelled
    but its stock and its refund are not. The beat finishes it, once."""
    produto, pedido, pagamento, _envio = _pago_com_envio(app, client, ctx)
    estoque, falhas = ctx.estoque, [1]

    def liberar(*args):
        if falhas:
            falhas.pop()
            raise AutoReconnect("primary stepped down")
        return estoque.liberar(*args)

    ctx.estoque = _Delegar(estoque, liberar=liberar)
    with pytest.raises(AutoReconnect):
        status_pedido.cancelar(ctx, pedido["id"])
    assert _estado(client, db, produto, pedido, pagamento) == ("cancelado", "processado", 3, 1, False)
    depois = datetime.now(UTC) + timedelta(seconds=1)
    assert status_pedido.concluir_cancelamentos_parados(ctx, depois) == 1
    assert _estado(client, db, produto, pedido, pagamento) == ("cancelado", "reembolsado", 5, 1, True)
    assert status_pedido.concluir_cancelamentos_parados(ctx, depois) == 0  # done: never twice
    assert client.get(f"/produtos/{produto['id']}").get_json()["estoque"] == 5


def test_envio_feito_enquanto_o_pedido_e_cancelado_e_cancelado(app, client, db, ctx):
    """The cancel looked for a shipment before the shipment task made one."""
    produto, pedido, pagamento = _pedido(app, client)
    assert pagamentos.processar(ctx, pagamento["id"], ultima_tentativa=False) == "processado"
    pedidos_repo = ctx.pedidos

    def mudar_status(*args):
        envios.criar(build_contexto(app, "sistema:envios"), pedido["id"])  # the task, right now
        return pedidos_repo.mudar_status(*args)

    ctx.pedidos = _Delegar(pedidos_repo, mudar_status=mudar_status)
    status_pedido.cancelar(ctx, pedido["id"])
    assert client.get(f"/pedidos/{pedido['id']}/envio").get_json()["status"] == "cancelado"
    assert _estado(client, db, produto, pedido, pagamento) == ("cancelado", "reembolsado", 5, 1, True)


def test_envio_feito_depois_do_cancelamento_se_cancela(app, client, db, ctx):
    """The shipment task read a confirmed order, then the whole cancel ran, then it stored
    the shipment: it looks at the order again and cancels what it made."""
    produto, pedido, pagamento = _pedido(app, client)
    assert pagamentos.processar(ctx, pagamento["id"], ultima_tentativa=False) == "processado"
    envios_repo = ctx.envios

    def criar_para_pedido(envio):
        assert client.patch(f"/pedidos/{pedido['id']}", json={"status": "cancelado"}).status_code == 200
        return envios_repo.criar_para_pedido(envio)

    ctx.envios = _Delegar(envios_repo, criar_para_pedido=criar_para_pedido)
    assert envios.criar(ctx, pedido["id"]).status == "cancelado"
    assert _estado(client, db, produto, pedido, pagamento) == ("cancelado", "reembolsado", 5, 1, True)
