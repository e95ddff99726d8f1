"""The API served by a real gunicorn over HTTP, as in production."""

import signal
from decimal import Decimal

import pytest

from tests.helpers import http

pytestmark = pytest.mark.e2e


def test_create_and_list_over_http(gunicorn):
    status, headers, criado = http(
        "POST",
        gunicorn.url + "/produtos",
        body=b'{"nome": "Notebook Gamer", "preco": 4599.9, "estoque": 12}',
        headers=gunicorn.auth,
    )
    assert status == 201, criado
    assert headers["ETag"] == '"1"'
    assert criado["preco"] == Decimal("4599.90")
    status, headers, lista = http("GET", gunicorn.url + "/produtos?q=notebook")
    assert status == 200
    assert [p["id"] for p in lista] == [criado["id"]]
    assert '"total": 1' in headers["X-Pagination"]
    assert http("GET", gunicorn.url + "/ready")[0] == 200
    assert http("GET", gunicorn.url + "/docs")[0] == 200


def test_every_gunicorn_worker_serves_and_sigterm_exits_zero(gunicorn):
    # Many sequential requests land on both workers; each builds its own MongoClient.
    for i in range(40):
        status, _, _ = http(
            "POST", gunicorn.url + "/produtos", body={"nome": f"p{i}", "preco": 1, "estoque": 1}, headers=gunicorn.auth
        )
        assert status == 201
    status, headers, _ = http("GET", gunicorn.url + "/produtos?page_size=1")
    assert '"total": 40' in headers["X-Pagination"]
    gunicorn.signal(signal.SIGTERM)
    assert gunicorn.wait(timeout=30) == 0
    assert "Shutting down: Master" in gunicorn.output()


def test_production_mode_without_settings_refuses_to_start(tmp_path):
    import subprocess
    import sys

    from tests.e2e.conftest import base_env
    from tests.helpers import ROOT

    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        env=base_env(PONTE_ENV="production"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "MONGO_URI, REDIS_URL" in result.stderr + result.stdout


@pytest.mark.parametrize("tamanho", [2 * 1024 * 1024, 12 * 1024 * 1024, 64 * 1024 * 1024])
def test_an_oversized_body_gets_its_413_over_a_real_connection(gunicorn, tamanho):
    """python-requests sends the whole body before it reads the answer: the server must not
    hang up on it halfway, and must say it closes the connection."""
    import requests

    with requests.Session() as session:
        resp = session.post(
            gunicorn.url + "/produtos",
            data=b"x" * tamanho,
            headers={**gunicorn.auth, "Content-Type": "application/json"},
            timeout=30,
        )
        assert resp.status_code == 413 and resp.json()["code"] == 413
        for _ in range(3):  # the same connection, or a new one: either way it answers
            assert session.get(gunicorn.url + "/health", timeout=10).status_code == 200


@pytest.mark.parametrize("modo", ["writes", "all", "errors", "off"])
def test_access_log_writes_the_lines_access_log_asks_for(mongo_uri, redis_url, db_name, tmp_path, modo):
    import json

    from tests.e2e.conftest import start_gunicorn
    from tests.helpers import wait_for

    log = tmp_path / "web-{pid}.log"
    server = start_gunicorn(mongo_uri, redis_url, db_name, tmp_path, ACCESS_LOG=modo, LOG_FILE=log)
    try:
        assert http("GET", server.url + "/produtos?page_size=1", headers={"X-Request-ID": f"ok-{modo}"})[0] == 200
        assert http("GET", server.url + "/produtos/nao-existe", headers={"X-Request-ID": f"erro-{modo}"})[0] == 404
        novo = {"nome": f"Lupa {modo}", "preco": 1, "estoque": 1}
        assert (
            http("POST", server.url + "/produtos", body=novo, headers={**server.auth, "X-Request-ID": f"w-{modo}"})[0]
            == 201
        )
        # A request after both: once its line is there (or, with access lines off, its
        # application line), the two before it have been written too.
        assert http("POST", server.url + "/produtos", body={"nome": "x"}, headers=server.auth)[0] == 422
        linhas = lambda: [  # noqa: E731
            json.loads(line) for f in tmp_path.glob("web-*.log") for line in f.read_text().splitlines() if line
        ]
        acesso = lambda: [line["message"] for line in linhas() if line["logger"] == "gunicorn.access"]  # noqa: E731
        if modo != "off":
            wait_for(lambda: any('"POST /produtos' in m for m in acesso()), timeout=20, what="the access line")
    finally:
        server.close()
    mensagens = acesso()
    assert any("request_id=ok-" in m for m in mensagens) == (modo == "all")
    assert any("request_id=erro-" in m for m in mensagens) == (modo != "off")
    assert any("request_id=w-" in m for m in mensagens) == (modo in ("writes", "all"))  # a successful write
    assert all(" 200 " not in m for m in mensagens) or modo == "all"
