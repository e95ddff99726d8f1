"""Who may change a customer's password from the CRM's channel (issue: one PUBLISH took over
an account). Events go through what the bridge does to them (``com_senha_hash``)."""

from __future__ import annotations

import json

import pytest

from adapters.passwords import Argon2Hasher, com_senha_hash
from services import sync
from tests.integration.test_sync import env, java
from webapp.deps import build_contexto

# The bridge's hasher: cheap parameters, a salt derived from the account with a secret.
BRIDGE = Argon2Hasher(1, 1024, 1, b"bridge-secret-for-tests")


@pytest.fixture
def ctx(app):
    with app.app_context():
        contexto = build_contexto(app, "sistema:java")
        contexto.tokens = app.extensions["ponte"].tokens()
        yield contexto


def evento_cliente(ctx, senha: str, **campos):
    dados = {**json.loads(java("canal-clientes.json")), **campos, "senha": senha}
    return env(com_senha_hash(json.dumps(dados), BRIDGE.hash_for_account), ctx.proxima_seq(), canal="canal-clientes")


def login(anon, senha: str, email: str = "maria@example.com"):
    return anon.post("/auth/login", json={"email": email, "senha": senha})


def me(anon, token: str) -> int:
    return anon.get("/clientes/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_one_publish_does_not_take_over_an_account_registered_through_the_api(ctx, anon):
    assert (
        anon.post(
            "/clientes", json={"nome": "Maria", "email": "maria@example.com", "senha": "Original-Pass1"}
        ).status_code
        == 201
    )
    token = login(anon, "Original-Pass1").get_json()["access_token"]
    assert sync.aplicar(ctx, evento_cliente(ctx, "Hacked-Pass9", id=777))["resultado"] == "aplicado"
    assert login(anon, "Hacked-Pass9").status_code == 401
    assert login(anon, "Original-Pass1").status_code == 200
    assert me(anon, token) == 200  # nothing about the account's credentials changed


def test_a_crm_password_resent_keeps_sessions_and_a_changed_one_ends_them(ctx, anon):
    assert sync.aplicar(ctx, evento_cliente(ctx, "Crm-Pass-1"))["resultado"] == "criado"
    token = login(anon, "Crm-Pass-1").get_json()["access_token"]
    # The CRM sends the customer again on every save, password included: not a change.
    assert sync.aplicar(ctx, evento_cliente(ctx, "Crm-Pass-1", nome="Maria S."))["resultado"] == "aplicado"
    assert me(anon, token) == 200
    assert sync.aplicar(ctx, evento_cliente(ctx, "Crm-Pass-2"))["resultado"] == "aplicado"
    assert me(anon, token) == 401
    assert login(anon, "Crm-Pass-1").status_code == 401
    assert login(anon, "Crm-Pass-2").status_code == 200


def test_a_password_the_customer_changed_through_the_api_is_theirs(ctx, anon):
    sync.aplicar(ctx, evento_cliente(ctx, "Crm-Pass-1"))
    token = login(anon, "Crm-Pass-1").get_json()["access_token"]
    mudou = anon.patch("/clientes/me", json={"senha": "Minha-Propria-1"}, headers={"Authorization": f"Bearer {token}"})
    assert mudou.status_code == 200
    assert sync.aplicar(ctx, evento_cliente(ctx, "Crm-Pass-3"))["resultado"] == "aplicado"
    assert login(anon, "Crm-Pass-3").status_code == 401
    assert login(anon, "Minha-Propria-1").status_code == 200


def test_the_bridge_hash_is_stable_per_account_and_unique_across_accounts():
    assert BRIDGE.hash_for_account("x-senha-1", "java:3") == BRIDGE.hash_for_account("x-senha-1", "java:3")
    assert BRIDGE.hash_for_account("x-senha-1", "java:3") != BRIDGE.hash_for_account("x-senha-1", "java:4")
    outro_segredo = Argon2Hasher(1, 1024, 1, b"another-secret")
    assert outro_segredo.hash_for_account("x-senha-1", "java:3") != BRIDGE.hash_for_account("x-senha-1", "java:3")
    assert BRIDGE.verify(BRIDGE.hash_for_account("x-senha-1", "java:3"), "x-senha-1")
