"""Decoding the Java CRM's real messages (contracts/examples/, byte for byte)."""

from decimal import Decimal

import pytest

from domain.eventos import EventoInvalido, sem_senha, triagem
from tests.helpers import JAVA_EVENTS
from wire.crm import decodificar_cliente, decodificar_produto


def java(name: str) -> str:
    return (JAVA_EVENTS / name).read_bytes().decode("utf-8")


@pytest.mark.parametrize(
    ("arquivo", "acao", "java_id", "nome", "preco", "estoque", "descricao"),
    [
        ("produtos-criado-id0.json", "criado", 0, "Notebook Gamer", Decimal("4599.90"), 12, "i7, 16GB RAM"),
        ("produtos-atualizado.json", "atualizado", 7, "Notebook Gamer", Decimal("4299.00"), 10, "i7, 16GB RAM"),
        ("produtos-big-price.json", "atualizado", 10, "Servidor", Decimal("12500000.00"), 1, "rack"),
        ("produtos-null-descricao.json", "criado", 8, "Caneca", Decimal("0.10"), 3, None),
        (
            "produtos-html-unicode.json", "criado", 9, "Café <Premium> & \"Moído\" = 1'kg'", Decimal("19.99"), 100,
            "Açúcar não incluído — ½ preço",
        ),
    ],
)  # fmt: skip
def test_product_files_decode_exactly(arquivo, acao, java_id, nome, preco, estoque, descricao):
    ev = decodificar_produto(java(arquivo))
    assert (ev.acao, ev.java_id) == (acao, java_id)
    assert ev.campos == {"nome": nome, "preco": preco, "estoque": estoque, "descricao": descricao}
    assert str(ev.campos["preco"]) == str(preco)  # exact digits, never a float's
    assert triagem("produtos", java(arquivo)) is None


def test_removido_needs_only_the_id():
    ev = decodificar_produto(java("produtos-removido.json"))
    assert (ev.acao, ev.java_id, ev.campos) == ("removido", 7, {})


@pytest.mark.parametrize(("seed", "crm"), [("CREATE", "criado"), ("UPDATE", "atualizado"), ("DELETE", "removido")])
def test_seed_spellings_are_accepted(seed, crm):
    payload = java("produtos-atualizado.json").replace('"atualizado"', f'"{seed}"')
    assert decodificar_produto(payload).acao == crm


def test_unknown_fields_are_tolerated():
    payload = '{"acao":"criado","versao":3,"produto":{"id":1,"nome":"A","preco":1.5,"estoque":2,"cor":"azul"}}'
    assert decodificar_produto(payload).campos["preco"] == Decimal("1.50")


@pytest.mark.parametrize(
    ("payload", "motivo"),
    [
        ("{", "JSON inválido"),
        ("[]", "formato desconhecido"),
        ('{"acao":"apagado","produto":{"id":1}}', "formato desconhecido"),
        ('{"acao":"criado","produto":{"id":"7","nome":"A","preco":1,"estoque":1}}', "formato desconhecido"),
        ('{"acao":"criado","produto":{"id":1,"preco":1,"estoque":1}}', "nome"),
        ('{"acao":"criado","produto":{"id":1,"nome":"A","preco":-0.01,"estoque":1}}', "preco"),
        ('{"acao":"criado","produto":{"id":1,"nome":"A","preco":NaN,"estoque":1}}', "JSON inválido"),
        ('{"acao":"criado","produto":{"id":1,"nome":"A","preco":"10","estoque":1}}', "preco"),
        ('{"acao":"criado","produto":{"id":1,"nome":"A","preco":1,"estoque":-3}}', "estoque"),
        ('{"acao":"criado","produto":{"id":1,"nome":"A","preco":1,"estoque":1.5}}', "estoque"),
        ('{"acao":"criado","produto":{"id":1,"nome":"A","preco":0.30000000000000004,"estoque":1}}', "preco"),
        ('{"acao":"atualizado","produto":{"id":0,"nome":"A","preco":1,"estoque":1}}', "id 0"),
        ('{"acao":"criado","produto":{"id":1,"nome":"' + "x" * 70000 + '","preco":1,"estoque":1}}', "payload maior"),
    ],
)
def test_garbage_is_refused_with_a_reason(payload, motivo):
    with pytest.raises(EventoInvalido) as exc:
        decodificar_produto(payload)
    assert motivo in exc.value.message


def test_customer_file_decodes_with_crm_address():
    ev = decodificar_cliente(java("canal-clientes.json"))
    assert ev.java_id == 3 and ev.senha == "s3nh@Forte"
    assert ev.campos["email"] == "maria@example.com"
    assert ev.campos["telefone"] == "+55 62 99999-0000"
    assert ev.campos["endereco"].cidade == "Goiânia" and ev.campos["endereco"].complemento is None


def test_passwords_are_blanked_for_storage_and_logs():
    redigido = sem_senha(java("canal-clientes.json"))
    assert "s3nh@Forte" not in redigido and '"senha":"***"' in redigido
    assert sem_senha('{"senha": "a\\"b", "x": 1}') == '{"senha": "***", "x": 1}'


@pytest.mark.parametrize(
    ("canal", "payload", "ok"),
    [
        ("carrinho:3", "carrinho-3.json", True),
        ("canal-clientes", "canal-clientes.json", True),
        ("outro", "produtos-atualizado.json", False),
        ("carrinho:3", "produtos-atualizado.json", False),
        ("canal-clientes", "produtos-atualizado.json", False),
    ],
)
def test_bridge_triage(canal, payload, ok):
    assert (triagem(canal, java(payload)) is None) == ok
