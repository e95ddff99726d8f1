"""A customer's tokens stop working when the customer is deleted or their password
changes; a token issued after that works. Real Redis, the MongoDB stand-in."""

from __future__ import annotations

import uuid

from tests.integration.test_pedidos import SENHA, cliente_logado


def test_token_de_cliente_removido_nao_serve_mais(app, client):
    cliente = cliente_logado(app, f"r-{uuid.uuid4().hex[:10]}@example.com")
    assert cliente.get("/clientes/me").status_code == 200
    assert client.delete(f"/clientes/{cliente.id}").status_code == 204
    assert cliente.get("/clientes/me").status_code == 401
    assert cliente.post("/pedidos", json={"pagamento_metodo": "pix"}).status_code == 401


def test_senha_nova_encerra_as_sessoes_antigas(app, client):
    email = f"s-{uuid.uuid4().hex[:10]}@example.com"
    cliente = cliente_logado(app, email)
    assert cliente.patch("/clientes/me", json={"senha": "outra-senha-123"}).status_code == 200
    assert cliente.get("/clientes/me").status_code == 401
    novo = app.test_client()  # logs in at once with the new password: that token works
    assert novo.post("/auth/login", json={"email": email, "senha": SENHA}).status_code == 401
    login = novo.post("/auth/login", json={"email": email, "senha": "outra-senha-123"})
    token = login.get_json()["access_token"]
    assert novo.get("/clientes/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_alterar_outros_campos_nao_encerra_sessoes(app, client):
    cliente = cliente_logado(app, f"n-{uuid.uuid4().hex[:10]}@example.com")
    assert cliente.patch("/clientes/me", json={"nome": "Outro Nome"}).status_code == 200
    assert cliente.get("/clientes/me").status_code == 200
