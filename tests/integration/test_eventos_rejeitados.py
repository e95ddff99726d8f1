"""Dead letters: what staff see of them, a replay that cannot be enqueued, and a CRM cart
replayed days after it stopped half-way. Real Redis, the MongoDB stand-in."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from pymongo.errors import AutoReconnect

from services import pedidos, sync
from tests.integration.test_sync import env, java
from webapp.deps import build_contexto


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield build_contexto(app, "sistema:java")


def test_the_password_hash_of_a_customer_event_is_never_shown(ctx, client, app):
    """The bridge replaces a CRM customer's password by its argon2 hash: kept for a
    replay, never shown (a hash is an offline-guessing target; 'eventos' is not
    'clientes:read')."""
    dados = json.loads(java("canal-clientes.json"))
    dados.pop("senha")
    dados["senha_hash"] = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
    rejeitado = sync.rejeitar(ctx, env(json.dumps(dados), 1, canal="canal-clientes"), "e-mail inválido", 1)
    assert "$argon2id$" in rejeitado.envelope["payload"]  # stored whole: a replay needs it
    shown = [
        json.dumps(client.get(f"/eventos-rejeitados/{rejeitado.id}").get_json()),
        json.dumps(client.get("/eventos-rejeitados").get_json()),
        app.test_cli_runner().invoke(args=["dead-letters", "show", rejeitado.id]).output,
    ]
    assert all("argon2" not in texto and "senha_hash" in texto for texto in shown), shown


class _BrokerFora:
    def enviar(self, *_args, **_kwargs):
        from kombu.exceptions import OperationalError

        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")


def test_a_replay_that_cannot_be_enqueued_stays_pending(ctx, client):
    rejeitado = sync.rejeitar(ctx, env(java("produtos-atualizado.json"), 1), "erro inesperado", 1)
    ctx.despachante = _BrokerFora()
    with pytest.raises(Exception, match="Connection refused"):
        sync.reenviar(ctx, rejeitado.id)
    assert client.get(f"/eventos-rejeitados/{rejeitado.id}").get_json()["estado"] == "pendente"
    assert client.post(f"/eventos-rejeitados/{rejeitado.id}/reenvio").status_code == 202  # broker back


def test_a_cart_replayed_days_later_resumes_its_order(ctx, client, db):
    """A CRM cart stored its order, then failed (its payment's insert) and went to the
    dead letters. The beat prunes day-old idempotency keys; a replay after the weekend
    must find the order, not make a second one."""
    sync.aplicar(ctx, env(java("canal-clientes.json"), ctx.proxima_seq(), canal="canal-clientes"))
    sync.aplicar(ctx, env(java("produtos-html-unicode.json"), ctx.proxima_seq()))
    sync.aplicar(ctx, env(java("produtos-atualizado.json"), ctx.proxima_seq()))
    carrinho = env(java("carrinho-3.json"), ctx.proxima_seq(), canal="carrinho:3")
    pagamentos_repo, falhas = ctx.pagamentos, [1]

    class _InsertFalhaUmaVez:
        def __getattr__(self, nome):
            return getattr(pagamentos_repo, nome)

        def add(self, pagamento):
            if falhas:
                falhas.pop()
                raise AutoReconnect("connection reset")
            return pagamentos_repo.add(pagamento)

    ctx.pagamentos = _InsertFalhaUmaVez()
    with pytest.raises(AutoReconnect):
        sync.aplicar(ctx, carrinho)
    assert db.pedidos.count_documents({}) == 1
    dias_depois = pedidos.agora() + timedelta(days=3)
    db.idempotencia.update_many({}, {"$set": {"expira_em": pedidos.agora()}})  # its hold long over
    ctx.idempotencia.podar(dias_depois - timedelta(hours=24))
    assert sync.aplicar(ctx, carrinho)["resultado"] == "pedido_criado"  # the replay
    assert db.pedidos.count_documents({}) == 1 and db.pagamentos.count_documents({}) == 1


def test_pruning_forgets_finished_keys_and_keys_of_orders_never_stored(ctx, db):
    agora = pedidos.agora()
    feita = ctx.idempotencia.iniciar("c1", "k-feita", "h", agora)
    ctx.idempotencia.concluir("c1", "k-feita", feita.pedido_id, agora, feita.dono)
    ctx.idempotencia.iniciar("c1", "k-sem-pedido", "h", agora)  # stopped before its order
    assert ctx.idempotencia.podar(agora + timedelta(seconds=1)) == 2
    assert db.idempotencia.count_documents({}) == 0
