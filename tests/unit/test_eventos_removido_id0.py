"""A ``removido`` keeps the product's name: the only way to find an id-0 product it removes."""

from __future__ import annotations

import json

import pytest

from tests.helpers import JAVA_EVENTS
from wire.crm import decodificar_produto


def test_removido_keeps_the_name_but_applies_no_fields():
    ev = decodificar_produto((JAVA_EVENTS / "produtos-removido.json").read_text("utf-8"))
    assert (ev.acao, ev.java_id, ev.campos, ev.nome) == ("removido", 7, {}, "Notebook Gamer")


def test_other_events_carry_their_normalized_name():
    ev = decodificar_produto((JAVA_EVENTS / "produtos-criado-id0.json").read_text("utf-8"))
    assert ev.nome == ev.campos["nome"] == "Notebook Gamer"


@pytest.mark.parametrize("nome", [None, "", "   ", 42, ["x"], "x" * 10_000])
def test_a_removido_with_an_unusable_name_is_still_a_removido(nome):
    produto = {"id": 7} if nome is None else {"id": 7, "nome": nome}
    ev = decodificar_produto(json.dumps({"acao": "DELETE", "produto": produto}))
    assert (ev.acao, ev.java_id, ev.campos, ev.nome) == ("removido", 7, {}, None)


def test_a_removido_name_is_trimmed():
    ev = decodificar_produto(json.dumps({"acao": "removido", "produto": {"id": 7, "nome": "  Mesa  "}}))
    assert ev.nome == "Mesa"
