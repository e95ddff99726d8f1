"""Store work per unit of work (issue 19): how many MongoDB commands a one-item checkout
issues, counted with pymongo's command monitoring, and that each touches only the
documents it returns or changes (every filter names one document by its key)."""

from __future__ import annotations

import uuid

import pytest

from tests import contagem as contagem_lib
from tests.contagem import contar
from tests.integration.test_pedidos import cliente_logado

assert contagem_lib  # imported first: the listener must exist before the app's client


@pytest.fixture
def compra(app, client):
    produto = client.post("/produtos", json={"nome": f"P {uuid.uuid4().hex[:6]}", "preco": 10, "estoque": 5})
    produto = produto.get_json()
    cliente = cliente_logado(app, f"c-{uuid.uuid4().hex[:10]}@example.com")
    r = cliente.post("/carrinhos/me/itens", json={"produto_id": produto["id"], "quantidade": 1})
    assert r.status_code in (200, 201)
    return produto, cliente


@pytest.mark.parametrize("chave", [False, True])
def test_checkout_de_um_item(compra, db_name, chave):
    _, cliente = compra
    headers = {"Idempotency-Key": uuid.uuid4().hex} if chave else {}
    with contar(db_name) as c:
        r = cliente.post("/pedidos", json={"pagamento_metodo": "boleto"}, headers=headers)
    assert r.status_code == 201
    # The claim (with a key), the cart with the address, the stock, the order, its audit
    # entry, the emptied cart, the payment, the key concluded.
    assert len(c.mongo) <= 8, c.resumo()
    assert c.sem_chave() == [], c.resumo()
