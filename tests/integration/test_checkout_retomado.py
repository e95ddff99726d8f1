"""A checkout that stops half-way (MongoDB fails under it, its process dies) neither
leaks stock nor makes a second order when it is tried again with the same key: the
key's first claim reserves the order's id, and the next attempt resumes from it.
Real Redis and the MongoDB stand-in."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from bson import ObjectId
from pymongo.errors import AutoReconnect

from domain.pedidos import CheckoutEmAndamento
from services import pedidos
from tests.integration.test_pedidos import cliente_logado
from webapp.deps import build_contexto


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield build_contexto(app, "sistema:tests")


@pytest.fixture
def compra(app, client):
    """A customer with 2 units of a 5-unit product in the cart."""
    produto = client.post("/produtos", json={"nome": f"P {uuid.uuid4().hex[:6]}", "preco": 10, "estoque": 5})
    produto = produto.get_json()
    cliente = cliente_logado(app, f"c-{uuid.uuid4().hex[:10]}@example.com")
    assert cliente.post("/carrinhos/me/itens", json={"produto_id": produto["id"], "quantidade": 2}).status_code in (
        200,
        201,
    )
    return produto, cliente


class _Falha:
    """Delegates to a repository, failing one method once (before or after it ran)."""

    def __init__(self, repo, metodo, depois=False):
        self.repo, self.metodo, self.depois, self.falhou = repo, metodo, depois, False

    def __getattr__(self, nome):
        real = getattr(self.repo, nome)
        if nome != self.metodo or self.falhou:
            return real

        def falhar(*args, **kwargs):
            self.falhou = True
            if self.depois:
                real(*args, **kwargs)  # applied, but the reply is lost
            raise AutoReconnect("connection reset")

        return falhar


def _contagem(client, db, produto, cliente):
    return (
        db.pedidos.count_documents({"cliente_id": cliente.id}),
        db.pagamentos.count_documents({"cliente_id": cliente.id}),
        client.get(f"/produtos/{produto['id']}").get_json()["estoque"],
    )


@pytest.mark.parametrize("metodo,depois", [("pedidos:add", False), ("pedidos:add", True), ("pagamentos:add", False)])
def test_checkout_com_a_mesma_chave_retoma_sem_duplicar(client, db, ctx, compra, metodo, depois):
    produto, cliente = compra
    repo, nome = metodo.split(":")
    original = getattr(ctx, repo)
    setattr(ctx, repo, _Falha(original, nome, depois))
    chave, corpo = uuid.uuid4().hex, {"pagamento_metodo": "boleto"}
    with pytest.raises(AutoReconnect):
        pedidos.finalizar_carrinho(ctx, cliente.id, "boleto", chave, corpo)
    setattr(ctx, repo, original)
    pedido, criado = pedidos.finalizar_carrinho(ctx, cliente.id, "boleto", chave, corpo)  # the client retries
    assert criado
    assert _contagem(client, db, produto, cliente) == (1, 1, 3)
    again, criado = pedidos.finalizar_carrinho(ctx, cliente.id, "boleto", chave, corpo)
    assert (again.id, criado) == (pedido.id, False)
    assert _contagem(client, db, produto, cliente) == (1, 1, 3)


def test_pedido_que_nao_foi_guardado_devolve_o_estoque(client, db, ctx, compra):
    produto, cliente = compra
    ctx.pedidos = _Falha(ctx.pedidos, "add")
    with pytest.raises(AutoReconnect):
        pedidos.finalizar_carrinho(ctx, cliente.id, "boleto")  # no key: nothing to resume
    assert _contagem(client, db, produto, cliente) == (0, 0, 5)


def test_tentativa_que_morreu_e_retomada_quando_o_prazo_acaba(client, db, ctx, compra):
    """A worker killed mid-checkout leaves the key held: a redelivery is told to retry
    (the CRM's task does) until the hold runs out, then resumes."""
    produto, cliente = compra
    escopo, chave = f"java-carrinho:{cliente.id}", uuid.uuid4().hex
    quantidades = {produto["id"]: 2}
    claim = ctx.idempotencia.iniciar(escopo, chave, "h", pedidos.agora())  # ...and died
    pedido_id = claim.pedido_id
    assert not claim.concluido
    with pytest.raises(CheckoutEmAndamento):
        pedidos.pedido_unico(ctx, escopo, chave, "h", cliente.id, lambda: quantidades, "boleto")
    db.idempotencia.update_one({"_id": f"{escopo}:{chave}"}, {"$set": {"expira_em": pedidos.agora()}})
    pedido, criado = pedidos.pedido_unico(ctx, escopo, chave, "h", cliente.id, lambda: quantidades, "boleto")
    assert (pedido.id, criado) == (pedido_id, True)
    assert db.pedidos.find_one({"_id": ObjectId(pedido_id)})["status"] == "pendente"
    assert _contagem(client, db, produto, cliente) == (1, 1, 3)


def test_uma_tentativa_tomada_por_outra_nao_mexe_mais_na_chave(client, db, ctx, compra):
    """A runs past its hold; B takes the key over. A's late abandon, let-go or conclusion
    must not touch B's claim (else the next retry would make a second order)."""
    _produto, cliente = compra
    escopo, chave, agora = f"java-carrinho:{cliente.id}", uuid.uuid4().hex, pedidos.agora()
    a = ctx.idempotencia.iniciar(escopo, chave, "h", agora)
    b = ctx.idempotencia.iniciar(escopo, chave, "h", agora + timedelta(seconds=31))  # A's hold ran out
    assert (b.pedido_id, b.concluido) == (a.pedido_id, False) and b.dono != a.dono
    ctx.idempotencia.abandonar(escopo, chave, a.dono)
    ctx.idempotencia.liberar(escopo, chave, a.dono)
    ctx.idempotencia.concluir(escopo, chave, "000000000000000000000000", agora, a.dono)
    with pytest.raises(CheckoutEmAndamento):  # still B's, held
        ctx.idempotencia.iniciar(escopo, chave, "h", agora + timedelta(seconds=32))
    ctx.idempotencia.concluir(escopo, chave, b.pedido_id, agora, b.dono)
    assert ctx.idempotencia.iniciar(escopo, chave, "h", agora).pedido_id == b.pedido_id


def test_a_tentativa_que_chega_depois_ao_mesmo_pedido_devolve_o_seu_estoque(client, db, ctx, compra):
    """A and B (a takeover) both reserved stock for the same order id; B stored the order
    first: A's insert finds it, A gives its reservation back."""
    produto, cliente = compra
    quantidades, pedido_id = {produto["id"]: 2}, str(ObjectId())
    pedidos.fazer_pedido(ctx, cliente.id, quantidades, "boleto", pedido_id=pedido_id)  # B
    with pytest.raises(CheckoutEmAndamento):
        pedidos.fazer_pedido(ctx, cliente.id, quantidades, "boleto", pedido_id=pedido_id)  # A, late
    assert client.get(f"/produtos/{produto['id']}").get_json()["estoque"] == 3  # B's 2 only
    assert db.pedidos.count_documents({"cliente_id": cliente.id}) == 1


@pytest.mark.parametrize(("idade_s", "retomado"), [(5, False), (60, True)])
def test_registro_da_versao_anterior_segura_a_chave_pelo_mesmo_prazo(client, db, ctx, compra, idade_s, retomado):
    """A key claimed by the previous release (no hold, no reserved id) while it was
    deployed: held for ARRENDAMENTO from its start, then taken over."""
    produto, cliente = compra
    escopo, chave = f"java-carrinho:{cliente.id}", uuid.uuid4().hex
    db.idempotencia.insert_one(
        {"_id": f"{escopo}:{chave}", "hash": "h", "estado": "em_andamento",
         "criado_em": pedidos.agora() - timedelta(seconds=idade_s)}
    )  # fmt: skip
    if not retomado:
        with pytest.raises(CheckoutEmAndamento):
            ctx.idempotencia.iniciar(escopo, chave, "h", pedidos.agora())
        return
    _pedido, criado = pedidos.pedido_unico(ctx, escopo, chave, "h", cliente.id, lambda: {produto["id"]: 2}, "boleto")
    assert criado and _contagem(client, db, produto, cliente) == (1, 1, 3)
