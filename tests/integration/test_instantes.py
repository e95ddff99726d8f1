"""One timestamp format (issue 15, section 4): every timestamp in every response is ISO 8601
with its offset, ``historico[].em`` included, and the OpenAPI document types each one."""

from __future__ import annotations

import pytest

from services import envios, pagamentos, sync
from tests.helpers_tempo import instantes_fora_do_padrao
from tests.integration.test_pedido_pagamento_envio import _pedido
from tests.integration.test_sync import env, java
from webapp.deps import build_contexto


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield build_contexto(app, "sistema:tests")


def test_histories_of_orders_payments_shipments_and_dead_letters_are_iso8601(app, client, ctx):
    _produto, pedido, pagamento = _pedido(app, client)
    assert pagamentos.processar(ctx, pagamento["id"], ultima_tentativa=False) == "processado"
    envio = envios.criar(ctx, pedido["id"])
    rejeitado = sync.rejeitar(ctx, env(java("produtos-atualizado.json"), 1), "erro inesperado", 1)
    assert client.post(f"/eventos-rejeitados/{rejeitado.id}/reenvio").status_code == 202
    urls = [
        f"/pedidos/{pedido['id']}",
        "/pedidos",
        f"/pedidos/{pedido['id']}/pagamento",
        f"/pedidos/{pedido['id']}/envio",
        f"/envios/{envio.id}",
        f"/envios/{envio.id}/rastreio",
        f"/eventos-rejeitados/{rejeitado.id}",
        "/eventos-rejeitados?estado=reenviado",
        "/produtos",
        "/clientes",
        "/chaves",
        "/auditoria",
    ]
    historicos = 0
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.get_json())
        corpo = resp.get_json()
        assert instantes_fora_do_padrao(corpo) == [], url
        historicos += len(corpo.get("historico", [])) if isinstance(corpo, dict) else 0
    assert historicos >= 7  # pedido 2, pagamento 2, envio 1 (twice), dead letter 2


def _livres(schema: dict) -> bool:
    """A free-form object: nothing says what its members are."""
    return (
        schema.get("type") == "object"
        and not schema.get("properties")
        and schema.get("additionalProperties", True) in (True, {})
    )


# Free-form objects the document keeps, each with why no timestamp can hide in it.
LIVRES = {
    ("EventoRejeitado", "envelope"): "the CRM's message, shown as the CRM sent it",
    ("Error", "errors"): "the messages of a refusal, by field: texts only",
    ("Pedido", "endereco"): "an address snapshot: texts only",
    ("Envio", "endereco"): "an address snapshot: texts only",
}


def test_the_document_has_no_free_form_object_where_a_timestamp_lives(anon):
    schemas = anon.get("/openapi.json").get_json()["components"]["schemas"]
    livres = set()
    for nome, schema in schemas.items():
        for campo, prop in schema.get("properties", {}).items():
            if _livres(prop) or _livres(prop.get("items", {})) or _livres(prop.get("additionalProperties") or {}):
                livres.add((nome, campo))
            if campo == "em" or campo.endswith("_em"):
                assert prop.get("format") == "date-time", (nome, campo, prop)
    assert livres == set(LIVRES)
    for nome in ("Pedido", "Pagamento", "Envio", "Rastreio", "EventoRejeitado"):
        ref = schemas[nome]["properties"]["historico"]["items"]["$ref"]
        item = schemas[ref.rsplit("/", 1)[1]]
        assert item["properties"]["em"]["format"] == "date-time" and item["additionalProperties"] is False
