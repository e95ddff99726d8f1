"""The contract agrees with the code exactly: a message fails its JSON Schema only if Ponte
refuses it, Ponte's shape refusals (rule ``esquema``) all fail the schema, and every other
refusal is a rule the contract states. Checked on random variations of the CRM's messages
and on every odd input the other event tests feed the bridge and the decoders, each of
which also classifies as a dead letter (``contrato.classificar``)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import contrato
from adapters.passwords import com_senha_hash
from domain.eventos import CANAL_CLIENTES, EventoInvalido, Regra, ler_json, sem_senha, triar
from tests.helpers import JAVA_EVENTS
from tests.unit import test_eventos, test_eventos_entradas_estranhas
from wire.crm import decodificar

TRANSPORTE = {Regra.CANAL, Regra.UTF8, Regra.NUL, Regra.TAMANHO, Regra.JSON}


def pelo_codigo(canal: str, bruto: bytes) -> str | None:
    """The rule the bridge and the worker refuse a message with (their own functions, no
    schema), or None: UTF-8, ``triar``, the bridge's senha hashing, ``decodificar``."""
    try:
        payload = bruto.decode("utf-8")
    except UnicodeDecodeError:
        return Regra.UTF8
    try:
        triar(canal, payload)
        if canal == CANAL_CLIENTES:
            payload = com_senha_hash(payload, lambda _senha, _conta: "$argon2id$teste")
        decodificar(canal, payload)
    except EventoInvalido as exc:
        return exc.regra
    return None


def concordam(canal: str, bruto: bytes) -> None:
    regra = pelo_codigo(canal, bruto)
    if regra in TRANSPORTE:
        assert contrato.validar(canal, bruto).regra == regra
        return
    erro = contrato.erro_de_esquema(canal, ler_json(bruto.decode("utf-8")))
    if erro:
        assert regra is not None, f"the schema refuses what Ponte accepts: {erro}"
    if regra == Regra.ESQUEMA:
        assert erro, "Ponte refuses a shape the schema accepts"
    if regra and not erro:
        assert contrato.regras()[regra]["tipo"] == "mensagem"
    assert contrato.validar(canal, bruto).regra == (Regra.ESQUEMA if erro else regra)


# -- random variations of the CRM's messages -------------------------------------------


class Bruto(str):
    """A JSON number written as is (``1.0``, ``1E2``, ``19.999``)."""


def texto_json(valor) -> str:
    if isinstance(valor, Bruto):
        return str(valor)
    if isinstance(valor, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{texto_json(v)}" for k, v in valor.items()) + "}"
    if isinstance(valor, list):
        return "[" + ",".join(texto_json(v) for v in valor) + "]"
    return json.dumps(valor, ensure_ascii=False)


NUMEROS = st.sampled_from(["0", "-1", "1", "7", "1.0", "1E2", "19.99", "19.999", "0.1", "1.25E7", "-0.0", "1e400",
                           "2147483647", "2147483648", "1000000000", "1000000001", "100", "101",
                           "0.30000000000000004"])  # fmt: skip
TEXTOS = st.one_of(
    st.sampled_from(["", "   ", "x", " Café ", "a@b.c", "maria@example.com", "no-at", "GO", "go", "XX1", "74000-000",
                     "74000000", "7400-000", "+55 62 9", "x" * 201, "y" * 31, "z" * 5001, "s3nh@Forte", "curta",
                     "$argon2id$v=19$abc", "criado", "DELETE", "removido", "atualizado"]),
    st.text(max_size=12),
)  # fmt: skip
ESCALARES = st.one_of(st.none(), st.booleans(), NUMEROS.map(Bruto), TEXTOS)
VALORES = st.one_of(ESCALARES, st.lists(ESCALARES, max_size=2), st.dictionaries(TEXTOS, ESCALARES, max_size=2))
AUSENTE = object()


def _talvez(original):
    """Mostly the original (else nearly every message breaks somewhere): sometimes a
    plausible value (text, a number), sometimes anything, sometimes nothing."""
    outro = st.one_of(TEXTOS, NUMEROS.map(Bruto), VALORES, st.just(AUSENTE))
    return st.integers(0, 4).flatmap(lambda n: original if n else outro)


def variacao(base: dict, profundos: dict | None = None):
    """``base`` with some fields replaced by odd values, removed, or (for ``profundos``)
    varied themselves."""
    profundos = profundos or {}
    campos = {k: _talvez(st.just(v)) for k, v in base.items() if k not in profundos}
    campos |= {k: _talvez(estrategia) for k, estrategia in profundos.items()}
    extras = st.dictionaries(st.sampled_from(["senha", "senha_hash", "descricao", "complemento", "outro"]),
                             st.one_of(TEXTOS, VALORES), max_size=1)  # fmt: skip
    return st.tuples(st.fixed_dictionaries(campos), extras).map(
        lambda par: {**{k: v for k, v in par[0].items() if v is not AUSENTE}, **par[1]}
    )


def _java(nome: str):
    return json.loads((JAVA_EVENTS / nome).read_text(encoding="utf-8"), parse_float=Bruto)


PRODUTO = _java("produtos-atualizado.json")
CLIENTE = _java("canal-clientes.json")
CARRINHO = _java("carrinho-3.json")
ACOES = st.sampled_from(["criado", "atualizado", "removido", "CREATE", "UPDATE", "DELETE", "Criado", ""])
MENSAGENS = {
    "produtos": variacao({"acao": "criado"} | {"produto": PRODUTO["produto"]},
                         {"acao": ACOES, "produto": variacao(PRODUTO["produto"])}),
    "canal-clientes": variacao(CLIENTE, {"endereco": variacao(CLIENTE["endereco"])}),
    "carrinho": st.lists(variacao(CARRINHO[0], {"produto": variacao(CARRINHO[0]["produto"])}), max_size=3),
}  # fmt: skip
SUFIXOS = st.sampled_from(["3", "03", "0", "x", "2147483648", "٣"])
FOLGADO = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FOLGADO
@given(mensagem=MENSAGENS["produtos"])
def test_products_agree(mensagem):
    concordam("produtos", texto_json(mensagem).encode("utf-8", "surrogatepass"))


@FOLGADO
@given(mensagem=MENSAGENS["canal-clientes"])
def test_customers_agree(mensagem):
    concordam("canal-clientes", texto_json(mensagem).encode("utf-8", "surrogatepass"))


@FOLGADO
@given(mensagem=MENSAGENS["carrinho"], sufixo=SUFIXOS)
def test_carts_agree(mensagem, sufixo):
    concordam(f"carrinho:{sufixo}", texto_json(mensagem).encode("utf-8", "surrogatepass"))


# -- the other tests' odd inputs -------------------------------------------------------


def _parametros(teste) -> list:
    """The values a test is parametrized with (its inputs stay where they are written)."""
    return next(m.args[1] for m in teste.pytestmark if m.name == "parametrize")


def _entradas_recusadas() -> list[tuple[str, str]]:
    """(channel, payload) of every message the event tests expect refused."""
    mod = test_eventos_entradas_estranhas
    canais = _parametros(mod.test_a_cart_channel_without_an_ascii_customer_id_is_refused)
    carrinhos = [(f"carrinho:{s}", mod.CARRINHO) for s in canais]
    itens = [("carrinho:3", json.dumps([{"produto": {"id": p}, "quantidade": 1}]))
             for p in _parametros(mod.test_a_cart_item_id_beyond_a_java_int_is_refused)]  # fmt: skip
    clientes = [("canal-clientes", json.dumps(d)) for teste in (
        mod.test_a_customer_with_a_lone_surrogate_anywhere_is_refused,
        mod.test_customer_fields_that_are_not_text_are_refused,
    ) for d in _parametros(teste)]  # fmt: skip
    produtos = [("produtos", json.dumps({"acao": "criado", "produto": p}))
                for p in _parametros(mod.test_a_product_with_a_lone_surrogate_is_refused)]  # fmt: skip
    texto = [("produtos", json.dumps({"acao": "atualizado", "produto": {"id": 1, "nome": "A", "descricao": "d",
              "preco": 1, "estoque": 1, campo: valor}})) for campo in ("nome", "descricao") for valor in (5, ["A"], {"a": 1}, True)]  # noqa: E501  # fmt: skip
    senhas = [("canal-clientes", p) for p, _ in _parametros(mod.test_dead_letters_blank_a_senha_of_any_shape)]
    senhas += [("canal-clientes", json.dumps(mod.cliente(senha=s)))
               for s in _parametros(mod.test_the_bridge_refuses_a_senha_that_is_not_text)]  # fmt: skip
    cru = [("canal-clientes", mod.java("canal-clientes.json").replace("Maria Souza", "Maria " + mod.SUBSTITUTO))]
    lixo = [("produtos", p) for p, _ in _parametros(test_eventos.test_garbage_is_refused_with_a_reason)]
    return carrinhos + itens + clientes + produtos + texto + senhas + cru + lixo


@pytest.mark.parametrize(("canal", "payload"), _entradas_recusadas(), ids=lambda v: repr(v)[:40])
def test_every_refused_test_input_is_refused_by_the_contract_and_classifies(canal, payload):
    bruto = payload.encode("utf-8", "surrogatepass")
    regra = pelo_codigo(canal, bruto)
    assert regra is not None
    concordam(canal, bruto) if regra not in TRANSPORTE or regra == Regra.UTF8 else None
    motivo = _motivo(canal, payload)
    assert contrato.classificar(canal, sem_senha(payload), motivo) in contrato.regras()  # as the store keeps it
    assert contrato.regra_do_motivo(motivo) == regra


def _motivo(canal: str, payload: str) -> str:
    try:
        triar(canal, payload)
        decodificar(canal, payload)
    except EventoInvalido as exc:
        return exc.message
    raise AssertionError("accepted")


def test_the_crm_messages_agree():
    for arquivo in JAVA_EVENTS.glob("*.json"):
        canal = "carrinho:3" if arquivo.name.startswith("carrinho") else "produtos"
        canal = "canal-clientes" if arquivo.name.startswith("canal") else canal
        concordam(canal, arquivo.read_bytes())
        assert pelo_codigo(canal, arquivo.read_bytes()) is None


def test_decimal_and_integer_literals_are_read_as_ponte_reads_them():
    assert ler_json('{"a": 1.0}')["a"] == Decimal("1.0")
    concordam("produtos", b'{"acao":"criado","produto":{"id":1.0,"nome":"x","preco":1,"estoque":1}}')
    concordam("produtos", b'{"acao":"criado","produto":{"id":1,"nome":"x","preco":1,"estoque":1E0}}')
