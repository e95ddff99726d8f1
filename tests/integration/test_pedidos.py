"""Carts and checkout: exact totals, atomic stock reservation, Idempotency-Key, ownership."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.conftest import make_key
from tests.helpers import ENDERECO

SENHA = "senha-de-teste-1"


@pytest.fixture
def loja(app, client):
    """Two products and a logged-in customer (returns helpers)."""

    class Loja:
        pass

    loja = Loja()
    loja.cafe = client.post("/produtos", json={"nome": "Café", "preco": Decimal("0.10"), "estoque": 5}).get_json()
    loja.cha = client.post("/produtos", json={"nome": "Chá", "preco": Decimal("0.20"), "estoque": 2}).get_json()
    loja.cliente = cliente_logado(app, "maria@example.com")
    return loja


def cliente_logado(app, email):
    c = app.test_client()
    endereco = {"rua": "Rua 10", "numero": "100", "bairro": "Centro", "cidade": "Goiânia", "estado": "GO",
                "cep": "74000-000"}  # fmt: skip
    resp = c.post("/clientes", json={"nome": "Cliente", "email": email, "senha": SENHA, "endereco": endereco})
    assert resp.status_code == 201
    token = c.post("/auth/login", json={"email": email, "senha": SENHA}).get_json()["access_token"]
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    c.id = resp.get_json()["id"]
    return c


def por(loja, produto, quantidade):
    return loja.cliente.post("/carrinhos/me/itens", json={"produto_id": produto["id"], "quantidade": quantidade})


def test_cart_lines_totals_and_changes(loja, client):
    assert loja.cliente.get("/carrinhos/me").get_json() == {
        "cliente_id": loja.cliente.id, "itens": [], "total": 0, "indisponiveis": []
    }  # fmt: skip
    por(loja, loja.cafe, 1)
    carrinho = por(loja, loja.cha, 1).get_json()
    assert carrinho["total"] == Decimal("0.30")  # 0.1 + 0.2, exactly
    assert '"total":0.30' in loja.cliente.get("/carrinhos/me").get_data(as_text=True)
    carrinho = loja.cliente.patch(f"/carrinhos/me/itens/{loja.cafe['id']}", json={"quantidade": 3}).get_json()
    assert carrinho["total"] == Decimal("0.50")
    # Totals follow current prices.
    client.patch(f"/produtos/{loja.cafe['id']}", json={"preco": Decimal("1.00")})
    assert loja.cliente.get("/carrinhos/me").get_json()["total"] == Decimal("3.20")
    carrinho = loja.cliente.delete(f"/carrinhos/me/itens/{loja.cha['id']}").get_json()
    assert [i["nome"] for i in carrinho["itens"]] == ["Café"]
    assert loja.cliente.delete(f"/carrinhos/me/itens/{loja.cha['id']}").status_code == 404
    assert loja.cliente.delete("/carrinhos/me").status_code == 204
    assert loja.cliente.get("/carrinhos/me").get_json()["itens"] == []


@pytest.mark.parametrize("quantidade", [0, -1, 101, 1.5, "2", True, None])
def test_quantity_must_be_a_sane_positive_integer(loja, quantidade):
    resp = loja.cliente.post("/carrinhos/me/itens", json={"produto_id": loja.cafe["id"], "quantidade": quantidade})
    assert resp.status_code == 422


def test_hidden_or_unknown_products_are_refused(loja, client):
    assert por(loja, {"id": "0123456789abcdef01234567"}, 1).status_code == 422
    por(loja, loja.cafe, 1)
    client.delete(f"/produtos/{loja.cafe['id']}")
    assert por(loja, loja.cafe, 2).status_code == 422
    carrinho = loja.cliente.get("/carrinhos/me").get_json()
    assert carrinho["indisponiveis"] == [loja.cafe["id"]] and carrinho["itens"] == []
    resp = loja.cliente.post("/pedidos", json={"pagamento_metodo": "pix"})
    assert resp.status_code == 422


def test_checkout_reserves_stock_snapshots_items_and_empties_the_cart(loja, client):
    por(loja, loja.cafe, 2)
    por(loja, loja.cha, 1)
    resp = loja.cliente.post("/pedidos", json={"pagamento_metodo": "boleto"})
    assert resp.status_code == 201
    pedido = resp.get_json()
    assert pedido["status"] == "pendente" and pedido["total"] == Decimal("0.40")
    assert pedido["endereco"]["cidade"] == "Goiânia" and pedido["cliente_id"] == loja.cliente.id
    assert [(i["nome"], i["quantidade"], i["subtotal"]) for i in pedido["itens"]] == sorted(
        [("Café", 2, Decimal("0.20")), ("Chá", 1, Decimal("0.20"))],
        key=lambda t: {"Café": loja.cafe["id"], "Chá": loja.cha["id"]}[t[0]],
    )
    assert client.get(f"/produtos/{loja.cafe['id']}").get_json()["estoque"] == 3
    assert client.get(f"/produtos/{loja.cha['id']}").get_json()["estoque"] == 1
    assert loja.cliente.get("/carrinhos/me").get_json()["itens"] == []
    # The snapshot does not follow later price changes.
    client.patch(f"/produtos/{loja.cafe['id']}", json={"preco": 9})
    assert loja.cliente.get(f"/pedidos/{pedido['id']}/itens").get_json()["total"] == Decimal("0.40")


def test_short_stock_is_409_naming_items_and_reserves_nothing(loja, client):
    por(loja, loja.cafe, 2)
    por(loja, loja.cha, 3)  # only 2 left
    resp = loja.cliente.post("/pedidos", json={"pagamento_metodo": "pix"})
    assert resp.status_code == 409
    assert "Chá" in str(resp.get_json()["errors"])
    assert client.get(f"/produtos/{loja.cafe['id']}").get_json()["estoque"] == 5  # released
    assert client.get(f"/produtos/{loja.cha['id']}").get_json()["estoque"] == 2
    assert len(loja.cliente.get("/carrinhos/me").get_json()["itens"]) == 2  # cart kept


def test_idempotency_key(loja, client, db):
    por(loja, loja.cafe, 1)
    body, key = {"pagamento_metodo": "pix"}, {"Idempotency-Key": "chk-1"}
    first = loja.cliente.post("/pedidos", json=body, headers=key)
    assert first.status_code == 201
    again = loja.cliente.post("/pedidos", json=body, headers=key)
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    assert client.get(f"/produtos/{loja.cafe['id']}").get_json()["estoque"] == 4  # reserved once
    assert db.pedidos.count_documents({}) == 1
    assert loja.cliente.post("/pedidos", json={"pagamento_metodo": "boleto"}, headers=key).status_code == 422
    # Another attempt holds the key (its hold has not run out): 409.
    db.idempotencia.insert_one(
        {"_id": f"{loja.cliente.id}:running", "hash": "x", "estado": "em_andamento",
         "expira_em": datetime.now(UTC) + timedelta(minutes=1)}
    )  # fmt: skip
    from services.pedidos import hash_do_corpo

    db.idempotencia.update_one({"_id": f"{loja.cliente.id}:running"}, {"$set": {"hash": hash_do_corpo(body)}})
    assert loja.cliente.post("/pedidos", json=body, headers={"Idempotency-Key": "running"}).status_code == 409
    # A failed checkout frees its key.
    por(loja, loja.cha, 5)
    falha = loja.cliente.post("/pedidos", json=body, headers={"Idempotency-Key": "chk-2"})
    assert falha.status_code == 409
    loja.cliente.patch(f"/carrinhos/me/itens/{loja.cha['id']}", json={"quantidade": 1})
    assert loja.cliente.post("/pedidos", json=body, headers={"Idempotency-Key": "chk-2"}).status_code == 201


def test_orders_are_private_to_their_customer(app, loja, client):
    por(loja, loja.cafe, 1)
    pedido = loja.cliente.post("/pedidos", json={"pagamento_metodo": "cartao"}).get_json()
    outro = cliente_logado(app, "joao@example.com")
    assert outro.get(f"/pedidos/{pedido['id']}").status_code == 404
    assert outro.get("/pedidos").get_json() == []
    assert outro.get(f"/pedidos?cliente_id={loja.cliente.id}").get_json() == []  # the filter cannot widen
    assert [p["id"] for p in loja.cliente.get("/pedidos").get_json()] == [pedido["id"]]
    assert [p["id"] for p in client.get(f"/pedidos?cliente_id={loja.cliente.id}&status=pendente").get_json()] == [
        pedido["id"]
    ]
    assert client.get("/pedidos?status=entregue").get_json() == []
    leitor = make_key(app, ("pedidos:read",), "leitor")
    assert app.test_client().get("/pedidos", headers={"Authorization": f"Bearer {leitor}"}).status_code == 200


def test_summary_per_status_own_for_customers_all_for_staff(app, loja, client):
    por(loja, loja.cafe, 2)
    loja.cliente.post("/pedidos", json={"pagamento_metodo": "pix"})
    outro = cliente_logado(app, "joao@example.com")
    outro.post("/carrinhos/me/itens", json={"produto_id": loja.cha["id"], "quantidade": 1})
    outro.post("/pedidos", json={"pagamento_metodo": "pix"})
    meu = loja.cliente.get("/pedidos/resumo").get_json()
    assert meu["quantidade"] == 1 and meu["valor"] == Decimal("0.20")
    assert meu["por_status"]["pendente"] == {"quantidade": 1, "valor": Decimal("0.20")}
    tudo = client.get("/pedidos/resumo").get_json()
    assert tudo["quantidade"] == 2 and tudo["valor"] == Decimal("0.40")
    assert tudo["por_status"]["entregue"]["quantidade"] == 0


def test_old_idempotency_records_are_pruned(app, loja, db):
    from datetime import UTC, datetime, timedelta

    from webapp.deps import build_contexto

    por(loja, loja.cafe, 1)
    loja.cliente.post("/pedidos", json={"pagamento_metodo": "pix"}, headers={"Idempotency-Key": "k"})
    with app.app_context():
        ctx = build_contexto(app, "sistema:tests")
        assert ctx.idempotencia.podar(datetime.now(UTC) - timedelta(hours=1)) == 0
        assert ctx.idempotencia.podar(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert db.idempotencia.count_documents({}) == 0


def test_a_customer_without_an_address_cannot_check_out(app, client):
    # The order and its shipment would be stored with endereco null and never delivered.
    c = app.test_client()
    c.post("/clientes", json={"nome": "Sem Endereço", "email": "sem-endereco@example.com", "senha": SENHA})
    token = c.post("/auth/login", json={"email": "sem-endereco@example.com", "senha": SENHA}).get_json()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token['access_token']}"
    produto = client.post("/produtos", json={"nome": "Caneca", "preco": 10, "estoque": 3}).get_json()
    assert c.post("/carrinhos/me/itens", json={"produto_id": produto["id"], "quantidade": 1}).status_code == 200
    resp = c.post("/pedidos", json={"pagamento_metodo": "boleto"})
    assert resp.status_code == 422 and "endereco" in resp.get_json()["errors"]["json"]
    assert client.get(f"/produtos/{produto['id']}").get_json()["estoque"] == 3  # nothing reserved
    c.patch("/clientes/me", json={"endereco": ENDERECO})
    assert c.post("/pedidos", json={"pagamento_metodo": "boleto"}).status_code == 201
