"""Odd input from the CRM's channels is refused cleanly (``EventoInvalido``, a dead letter
with its reason), never met by an unexpected error further down: a cart channel whose id
is not made of ASCII digits, text that cannot be encoded as UTF-8 (a lone surrogate,
``"\\ud800"`` in JSON: argon2, BSON and the task queue all refuse it), values of the wrong
type. A clear password never reaches the task queue or the dead-letter store.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest

from adapters.passwords import Argon2Hasher
from bridge.core import Bridge, BridgeConfig
from domain.eventos import EventoInvalido, decodificar_carrinho, sem_senha, triagem
from tests.helpers import JAVA_EVENTS
from wire.crm import decodificar_cliente, decodificar_produto


def java(name: str) -> str:
    return (JAVA_EVENTS / name).read_bytes().decode("utf-8")


CARRINHO = java("carrinho-3.json")
SENHA = "s3nh@Forte"


def cliente(**mudancas) -> dict:
    return {**json.loads(java("canal-clientes.json")), **mudancas}


def com_endereco(campo: str, valor) -> dict:
    dados = cliente()
    dados["endereco"] = {**dados["endereco"], campo: valor}
    return dados


# -- cart channels (item 2) ------------------------------------------------------------


@pytest.mark.parametrize(
    "sufixo",
    [
        "²",  # str.isdigit() says yes, int() raises ValueError
        "³",
        "٣",  # ARABIC-INDIC DIGIT THREE: int() reads it as 3
        "𝟑",  # MATHEMATICAL BOLD DIGIT THREE, likewise
        "1" * 5000,  # int() refuses more than 4300 digits
        "3\n",
        " 3",
        "+3",
        "-3",
        "0",
        "2147483648",  # beyond a Java int
        "",
    ],
)
def test_a_cart_channel_without_an_ascii_customer_id_is_refused(sufixo):
    with pytest.raises(EventoInvalido, match="sem id de cliente válido"):
        decodificar_carrinho(f"carrinho:{sufixo}", CARRINHO)


@pytest.mark.parametrize(("sufixo", "cliente_id"), [("3", 3), ("03", 3), ("2147483647", 2**31 - 1)])
def test_ascii_cart_channels_still_decode(sufixo, cliente_id):
    assert decodificar_carrinho(f"carrinho:{sufixo}", CARRINHO).cliente_java_id == cliente_id


@pytest.mark.parametrize("pid", [2**31, 10**30])
def test_a_cart_item_id_beyond_a_java_int_is_refused(pid):
    """Unbounded, it reached MongoDB as an integer BSON cannot hold (OverflowError)."""
    with pytest.raises(EventoInvalido, match="item sem id de produto"):
        decodificar_carrinho("carrinho:3", json.dumps([{"produto": {"id": pid}, "quantidade": 1}]))


# -- text that is not UTF-8 (item 3) ---------------------------------------------------

SUBSTITUTO = "\ud800"


@pytest.mark.parametrize(
    "dados",
    [
        cliente(senha="abc" + SUBSTITUTO + "defgh"),
        cliente(senha="\udfff" * 8),
        cliente(nome="Maria " + SUBSTITUTO),
        cliente(email=f"maria{SUBSTITUTO}@example.com"),
        cliente(numeroTelefone="+55 " + SUBSTITUTO),
        *(com_endereco(campo, "x" + SUBSTITUTO) for campo in ("rua", "numero", "bairro", "cidade", "complemento")),
        com_endereco("estado", "G" + SUBSTITUTO),
        cliente(**{"outro" + SUBSTITUTO: 1}),  # even a key the decoder ignores
    ],
)
def test_a_customer_with_a_lone_surrogate_anywhere_is_refused(dados):
    payload = json.dumps(dados)  # ensure_ascii: the surrogate travels as a \\ud800 escape
    assert "\\ud" in payload or "\\udfff" in payload
    with pytest.raises(EventoInvalido, match="substituto"):
        decodificar_cliente(payload)
    assert "substituto" in triagem("canal-clientes", payload)  # the bridge refuses it too


@pytest.mark.parametrize(
    "produto",
    [
        {"id": 1, "nome": "A" + SUBSTITUTO, "preco": 1, "estoque": 1},
        {"id": 1, "nome": "A", "descricao": SUBSTITUTO, "preco": 1, "estoque": 1},
    ],
)
def test_a_product_with_a_lone_surrogate_is_refused(produto):
    payload = json.dumps({"acao": "criado", "produto": produto})
    with pytest.raises(EventoInvalido, match="substituto"):
        decodificar_produto(payload)
    assert "substituto" in triagem("produtos", payload)


@pytest.mark.parametrize(
    ("canal", "payload"),
    [
        ("produtos", json.dumps({"acao": "criado", "produto": {"id": 1, "nome": "a\x00b", "preco": 1, "estoque": 1}})),
        ("produtos", json.dumps({"acao": "criado", "produto": {"id": 1, "nome": "A", "descricao": "\x00", "preco": 1,
                                                               "estoque": 1}})),
        ("canal-clientes", java("canal-clientes.json").replace('"rua":"Rua 10"', '"rua":"Rua\\u0000 10"')),
        ("carrinho:3", json.dumps([{"produto": {"id": 7, "nome": "x"}, "quantidade": 1, "a\x00": 1}])),
    ],
)  # fmt: skip
def test_a_nul_character_anywhere_is_refused_by_its_rule(canal, payload):
    assert "\\u0000" in payload  # as JSON writes it: the only way a NUL reaches the bridge
    with pytest.raises(EventoInvalido, match="NUL") as refused:
        {"produtos": decodificar_produto, "canal-clientes": decodificar_cliente}.get(
            canal, lambda p: decodificar_carrinho(canal, p)
        )(payload)
    assert refused.value.regra == "nul"
    assert "NUL" in triagem(canal, payload)


def test_a_raw_lone_surrogate_is_refused_as_well():
    payload = java("canal-clientes.json").replace("Maria Souza", "Maria " + SUBSTITUTO)
    with pytest.raises(EventoInvalido, match="substituto"):
        decodificar_cliente(payload)


def test_a_surrogate_pair_is_a_character_like_any_other():
    payload = json.dumps(cliente(nome="Maria \U0001f600", senha=SENHA + "\U0001f600"))
    assert "\\ud83d\\ude00" in payload
    ev = decodificar_cliente(payload)
    assert ev.campos["nome"] == "Maria \U0001f600" and ev.senha == SENHA + "\U0001f600"
    assert triagem("canal-clientes", payload) is None
    assert decodificar_cliente(payload.replace("\\ud83d\\ude00", "\\uD83D\\uDE00")).senha == SENHA + "\U0001f600"


def test_an_escaped_backslash_before_u_is_not_a_surrogate():
    payload = json.dumps(cliente(nome="C:\\ud800"))  # a backslash, then the letters ud800
    assert decodificar_cliente(payload).campos["nome"] == "C:\\ud800"


# -- values of the wrong type ----------------------------------------------------------


@pytest.mark.parametrize(
    "dados",
    [
        cliente(nome=123),
        cliente(nome=["Maria"]),
        cliente(email=123),
        cliente(email={"a": 1}),
        cliente(numeroTelefone=62999990000),
        *(com_endereco(campo, 7) for campo in ("rua", "numero", "bairro", "cidade", "estado", "cep", "complemento")),
    ],
)
def test_customer_fields_that_are_not_text_are_refused(dados):
    """They met ``str.strip`` (AttributeError: an "unexpected error" dead letter)."""
    with pytest.raises(EventoInvalido, match="formato desconhecido"):
        decodificar_cliente(json.dumps(dados))


@pytest.mark.parametrize("campo", ["nome", "descricao"])
@pytest.mark.parametrize("valor", [5, ["A"], {"a": 1}, True])
def test_product_text_fields_that_are_not_text_are_refused(campo, valor):
    produto = {"id": 1, "nome": "A", "descricao": "d", "preco": 1, "estoque": 1, campo: valor}
    with pytest.raises(EventoInvalido, match="formato desconhecido"):
        decodificar_produto(json.dumps({"acao": "atualizado", "produto": produto}))


def test_a_removido_with_a_name_that_is_not_text_still_applies():
    ev = decodificar_produto('{"acao":"removido","produto":{"id":7,"nome":5}}')
    assert (ev.acao, ev.java_id, ev.nome) == ("removido", 7, None)


# -- passwords never in clear ----------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "segredo"),
    [
        ('{"id":3,"email":"x","senha":12345678901}', "12345678901"),
        ('{"id":3,"email":"x","senha":["s3nh@Forte"]}', SENHA),
        ('{"id":3,"email":"x","senha":{"v":"s3nh@Forte"}}', SENHA),
        ('{"id":3,"email":"x","sen\\u0068a":"s3nh@Forte"}', SENHA),
        ('{"id":3,"email":"x","senha":"s3nh@Forte","outro":{"senha":["s3nh@Forte"]}}', SENHA),
    ],
)
def test_dead_letters_blank_a_senha_of_any_shape(payload, segredo):
    redigido = sem_senha(payload)
    assert segredo not in redigido
    assert json.loads(redigido)["senha"] == "***"


def test_blanking_keeps_an_ordinary_payload_byte_for_byte():
    original = java("canal-clientes.json")
    assert sem_senha(original) == original.replace(f'"senha":"{SENHA}"', '"senha":"***"')
    assert sem_senha(java("produtos-html-unicode.json")) == java("produtos-html-unicode.json")
    assert sem_senha("{") == "{"


@pytest.mark.parametrize("senha", [12345678, ["s3nh@Forte"], {"v": "s3nh@Forte"}, True])
def test_the_bridge_refuses_a_senha_that_is_not_text(senha):
    """It hashes text only: any other senha went to the task queue as it came."""
    assert "senha deve ser texto" in triagem("canal-clientes", json.dumps(cliente(senha=senha)))


# -- the bridge: a dead letter, never a dropped message --------------------------------


class _Redis:
    """Just what a ``Bridge`` touches to handle a message given its ``seq``."""

    def lock(self, *args, **kwargs):
        return None

    def register_script(self, script):
        return None

    @contextmanager
    def pipeline(self, **kwargs):
        class _Pipe:
            def __getattr__(self, name):
                return lambda *a, **k: None

        yield _Pipe()


class _Despachante:
    def __init__(self):
        self.enviados, self.rejeitados = [], []

    def enviar(self, envelope, headers=None):
        self.enviados.append(envelope)

    def enviar_lote(self, envelopes):
        self.enviados.extend(envelopes)

    def rejeitar(self, envelope, motivo):
        self.rejeitados.append((envelope, motivo))


@pytest.fixture
def ponte():
    despachante = _Despachante()
    cfg = BridgeConfig(channels=["canal-clientes"], patterns=[], stream="", group="g", prefix="t")
    bridge = Bridge(_Redis(), despachante, cfg, hash_senha=Argon2Hasher(1, 1024, 1, b"k").hash_for_account)
    return bridge, despachante


def _receber(bridge: Bridge, dados: dict) -> bool:
    raw = json.dumps(dados).encode("utf-8")  # what Redis delivers: ASCII, \\ud800 escaped
    return bridge.messages.safe_handle("canal-clientes", raw, "pubsub", seq=1)


def test_the_bridge_dead_letters_a_senha_with_a_lone_surrogate(ponte):
    """argon2 cannot encode it: the message used to end as a bridge error, no dead letter."""
    bridge, despachante = ponte
    segredo = "s3nh@" + SUBSTITUTO + "Forte"
    assert _receber(bridge, cliente(senha=segredo))
    assert despachante.enviados == []
    [(envelope, motivo)] = despachante.rejeitados
    assert "substituto" in motivo
    assert json.loads(envelope["payload"])["senha"] == "***"
    assert "s3nh@" not in envelope["payload"] and "Forte" not in envelope["payload"]
    assert bridge.stats.values["erros"] == 0 and bridge.stats.values["rejeitados"] == 1


@pytest.mark.parametrize("campo", ["nome", "email"])
def test_the_bridge_dead_letters_other_text_with_a_lone_surrogate(ponte, campo):
    """Hashed and enqueued, it failed in the worker (BSON), and so did its dead letter."""
    bridge, despachante = ponte
    assert _receber(bridge, cliente(**{campo: "maria" + SUBSTITUTO + "@example.com"}))
    assert despachante.enviados == []
    [(envelope, motivo)] = despachante.rejeitados
    assert "substituto" in motivo and SENHA not in envelope["payload"]
    envelope["payload"].encode("utf-8")  # storable as it is


def test_the_bridge_never_enqueues_a_senha_that_is_not_text(ponte):
    bridge, despachante = ponte
    assert _receber(bridge, cliente(senha=12345678901))
    assert despachante.enviados == []
    [(envelope, _)] = despachante.rejeitados
    assert "12345678901" not in envelope["payload"]


def test_the_bridge_still_hashes_an_ordinary_senha(ponte):
    bridge, despachante = ponte
    assert _receber(bridge, cliente())
    [envelope] = despachante.enviados
    dados = json.loads(envelope["payload"])
    assert "senha" not in dados and dados["senha_hash"].startswith("$argon2id$")
    assert SENHA not in envelope["payload"] and despachante.rejeitados == []
