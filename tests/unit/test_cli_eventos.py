"""``flask --app wsgi eventos validar CANAL [ARQUIVO]``: the Java team's check before they
ship, through Flask's CLI runner and once as a real process. It needs no MongoDB or Redis:
both point at closed ports here."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import JAVA_EVENTS, ROOT

SEM_SERVICOS = {
    "MONGO_URI": "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200",
    "REDIS_URL": "redis://127.0.0.1:9/0",
}


@pytest.fixture
def runner():
    from webapp import create_app

    app = create_app({"PONTE_ENV": "test", **SEM_SERVICOS})
    return app.test_cli_runner()


def validar(runner, canal: str, entrada: bytes, *arquivo: str):
    return runner.invoke(args=["eventos", "validar", canal, *arquivo], input=entrada)


@pytest.mark.parametrize("arquivo", ["produtos-atualizado.json", "produtos-criado-id0.json", "produtos-big-price.json"])
def test_a_crm_message_from_a_file_is_accepted(runner, arquivo):
    result = runner.invoke(args=["eventos", "validar", "produtos", str(JAVA_EVENTS / arquivo)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "OK produtos: aceita pelo contrato\n"


@pytest.mark.parametrize("arquivo", [(), ("-",)])
def test_standard_input_is_read_when_the_file_is_omitted_or_a_dash(runner, arquivo):
    result = validar(runner, "carrinho:3", (JAVA_EVENTS / "carrinho-3.json").read_bytes(), *arquivo)
    assert result.exit_code == 0 and "OK carrinho:3" in result.stdout


PRODUTO = {"acao": "atualizado", "produto": {"id": 7, "nome": "Caneca", "preco": 19.99, "estoque": 3}}


@pytest.mark.parametrize(
    ("canal", "mensagem", "regra"),
    [
        ("produtos", json.dumps(PRODUTO).replace("19.99", "19.999"), "preco-centavos"),
        ("produtos", json.dumps(PRODUTO).replace('"id": 7', '"id": 0'), "id-zero"),
        ("produtos", json.dumps(PRODUTO).replace("19.99", '"19.99"'), "esquema"),
        ("produtos", json.dumps(PRODUTO).replace('"estoque": 3', '"estoque": 3.0'), "esquema"),
        ("produtos", '{"acao": "criado", "produto": {"id": 1, "nome": "x", "preco": NaN, "estoque": 1}}', "json"),
        ("canal-clientes", (JAVA_EVENTS / "canal-clientes.json").read_text().replace("74000-000", "740"), "endereco"),
        ("canal-clientes", (JAVA_EVENTS / "canal-clientes.json").read_text().replace("@example", ""), "email"),
        ("carrinho:٣", (JAVA_EVENTS / "carrinho-3.json").read_text(), "carrinho-canal"),
        ("carrinho:3", '[{"produto": {"id": 7}, "quantidade": 101}]', "esquema"),
        ("carrinho:3", '[{"produto": {"id": 7}, "quantidade": 60}, {"produto": {"id": 7}, "quantidade": 41}]',
         "carrinho-quantidade"),
        ("clientes", "{}", "canal-desconhecido"),
        ("ponte:eventos", json.dumps({"canal": "produtos", "payload": json.dumps(PRODUTO).replace("19.99", "1.001")}),
         "preco-centavos"),
        ("ponte:eventos", json.dumps({"payload": "{}"}), "canal-desconhecido"),
        ("pedidos", '{"pedido_id": "p1"}', "esquema"),
    ],
)  # fmt: skip
def test_a_refused_message_names_its_rule_and_exits_1(runner, canal, mensagem, regra):
    result = validar(runner, canal, mensagem.encode("utf-8"))
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"RECUSADA {canal}: regra {regra}: "), result.stderr


def test_bytes_that_are_not_utf8_are_refused(runner):
    result = validar(runner, "produtos", json.dumps(PRODUTO).encode("latin-1").replace(b"Caneca", b"Ma\xe7a"))
    assert result.exit_code == 1 and "regra utf8" in result.stderr


def test_a_stream_entry_and_an_order_status_message_are_accepted(runner):
    entrada = {"canal": "produtos", "payload": (JAVA_EVENTS / "produtos-removido.json").read_text()}
    assert validar(runner, "ponte:eventos", json.dumps(entrada).encode()).exit_code == 0
    status = {"pedido_id": "p1", "cliente_id": "c1", "cliente_java_id": None, "status_anterior": "pendente",
              "status": "cancelado", "em": "2026-12-02T00:43:10+00:00"}  # fmt: skip
    assert validar(runner, "pedidos", json.dumps(status).encode()).exit_code == 0


def test_the_documented_command_runs_as_a_real_process():
    """docs/events.md's first example, exactly (the flask next to this Python)."""
    flask = [sys.executable, "-m", "flask"]
    env = {"PATH": "/usr/bin:/bin", **SEM_SERVICOS}
    ok = subprocess.run(
        [*flask, "--app", "wsgi", "eventos", "validar", "produtos", "contracts/examples/produtos-atualizado.json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (ok.returncode, ok.stdout) == (0, "OK produtos: aceita pelo contrato\n"), ok.stderr
    mensagem = json.dumps(PRODUTO).replace("19.99", "0.001")
    recusada = subprocess.run(
        [*flask, "--app", "wsgi", "eventos", "validar", "produtos"], input=mensagem,
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert recusada.returncode == 1 and "regra preco-centavos" in recusada.stderr
