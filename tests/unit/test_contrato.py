"""contracts/asyncapi.yaml: valid AsyncAPI 3.0.0, its examples the CRM's own files byte
for byte, and its schemas and rules in exact agreement with what Ponte's code accepts."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft7Validator
from referencing import Registry

import settings
from adapters import contrato, publicador
from domain import carrinhos, money, pedidos, produtos
from domain.eventos import ACOES, JAVA_INT_MAX, PAYLOAD_MAXIMO
from domain.recusas import REGRAS
from tests.helpers import JAVA_EVENTS, ROOT

ESPECIFICACAO = ROOT / "tests" / "data" / "asyncapi-specs" / "3.0.0.json"
OPERACIONAIS = {"tentativas-esgotadas", "erro-inesperado"}
CANAIS_DOS_ARQUIVOS = {"produtos-": "produtos", "canal-clientes": "canal-clientes", "carrinho-3": "carrinho:3"}


def _sem_rede(uri: str):
    raise LookupError(f"the AsyncAPI schema wanted {uri} from the network")


def _exemplos() -> list[tuple[str, dict]]:
    """(message name, example) of every example in the contract."""
    mensagens = contrato.documento()["components"]["messages"]
    return [(nome, ex) for nome, m in mensagens.items() for ex in m.get("examples", [])]


def _identicos(a, b) -> bool:
    """Equal values of equal types, all the way down (4299.0 is not 4299)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_identicos(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_identicos(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_the_document_is_valid_asyncapi_3_0_0():
    schema = json.loads(ESPECIFICACAO.read_text(encoding="utf-8"))
    validador = Draft7Validator(schema, registry=Registry(retrieve=_sem_rede))
    erros = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validador.iter_errors(contrato.documento())]
    assert erros == []
    assert contrato.documento()["asyncapi"] == "3.0.0"


def test_the_official_schema_does_refuse_a_broken_document():
    schema = json.loads(ESPECIFICACAO.read_text(encoding="utf-8"))
    quebrado = json.loads(contrato.documento_json())
    quebrado["operations"]["receberProdutos"]["action"] = "consume"
    assert not Draft7Validator(schema, registry=Registry(retrieve=_sem_rede)).is_valid(quebrado)


@pytest.mark.parametrize(("mensagem", "exemplo"), _exemplos(), ids=lambda v: v if isinstance(v, str) else v["name"])
def test_every_example_validates_against_its_message_schema(mensagem, exemplo):
    payload = contrato.documento()["components"]["messages"][mensagem]["payload"]
    validador = contrato.validador_de(payload["$ref"])
    assert [e.message for e in validador.iter_errors(exemplo["payload"])] == []


def test_the_examples_are_the_crm_files_byte_for_byte():
    texto = contrato.CAMINHO.read_text(encoding="utf-8")
    exemplos = [ex["payload"] for _, ex in _exemplos()]
    arquivos = sorted(JAVA_EVENTS.glob("*.json"))
    assert len(arquivos) == 8
    for arquivo in arquivos:
        bruto = arquivo.read_text(encoding="utf-8")
        assert f"payload: {bruto}" in texto, f"{arquivo.name} is not in the contract verbatim"
        assert any(_identicos(json.loads(bruto), ex) for ex in exemplos), arquivo.name
    stream = next(ex for nome, ex in _exemplos() if nome == "entradaDoStream")["payload"]
    assert stream["payload"] == (JAVA_EVENTS / "produtos-atualizado.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("arquivo", sorted(p.name for p in JAVA_EVENTS.glob("*.json")))
def test_ponte_accepts_every_crm_message(arquivo):
    canal = next(c for prefixo, c in CANAIS_DOS_ARQUIVOS.items() if arquivo.startswith(prefixo))
    assert contrato.validar(canal, (JAVA_EVENTS / arquivo).read_bytes()).aceita


def test_the_rules_are_the_codes_ones_and_the_document_names_them_all():
    regras = contrato.regras()
    assert set(regras) == REGRAS | OPERACIONAIS
    assert {r["tipo"] for r in regras.values()} == {"mensagem", "estado", "operacional"}
    descricao = contrato.documento()["info"]["description"]
    assert all(f"`{nome}`" in descricao for nome in regras)
    for regra in regras.values():
        re.compile(regra["motivo"])


def _esquema(nome: str) -> dict:
    return contrato.documento()["components"]["schemas"][nome]


def test_the_schemas_bounds_are_the_codes():
    gravado, removido = _esquema("ProdutoGravado"), _esquema("ProdutoRemovido")
    acoes = gravado["properties"]["acao"]["enum"] + removido["properties"]["acao"]["enum"]
    assert sorted(acoes) == sorted(ACOES)
    assert {ACOES[a] for a in removido["properties"]["acao"]["enum"]} == {"removido"}
    assert _esquema("IdJava")["maximum"] == JAVA_INT_MAX
    produto = _esquema("Produto")["properties"]
    assert produto["preco"]["maximum"] == money.PRECO_MAXIMO
    assert produto["estoque"]["maximum"] == produtos.ESTOQUE_MAXIMO
    assert _esquema("Carrinho")["items"]["properties"]["quantidade"]["maximum"] == carrinhos.QUANTIDADE_MAXIMA
    assert PAYLOAD_MAXIMO == 65536 and "65536" in contrato.regras()["tamanho"]["quando"]
    status = _esquema("StatusDoPedido")["properties"]
    assert set(status["status_anterior"]["enum"]) == {de for de, para in pedidos.TRANSICOES.items() if para}
    assert set(status["status"]["enum"]) == set().union(*pedidos.TRANSICOES.values())


def test_the_channels_are_the_ones_ponte_reads_and_writes():
    enderecos = {c["address"] for c in contrato.documento()["channels"].values()}
    d = settings.DEFAULTS
    lidos = {*settings.lista(d["BRIDGE_CHANNELS"]), d["BRIDGE_STREAM"]}
    assert settings.lista(d["BRIDGE_PATTERNS"]) == ["carrinho:*"]
    assert enderecos == lidos | {"carrinho:{clienteId}", publicador.CANAL}


def test_the_events_page_tables_every_rule_with_its_kind():
    texto = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    linhas = re.findall(r"^\| `([a-z0-9-]+)` \| (mensagem|estado|operacional) \|", texto, flags=re.MULTILINE)
    assert dict(linhas) == {nome: r["tipo"] for nome, r in contrato.regras().items()}
