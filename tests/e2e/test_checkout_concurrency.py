"""100 customers check out at once, over HTTP against a real gunicorn, for the last 10 units."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import start_gunicorn
from tests.helpers import ENDERECO, http

pytestmark = pytest.mark.e2e

CLIENTES = 100
UNIDADES = 10


@pytest.fixture
def web(mongo_uri, redis_url, db_name, tmp_path):
    server = start_gunicorn(
        mongo_uri, redis_url, db_name, tmp_path,
        RATELIMIT_ENABLED="false", ARGON2_MEMORY_KIB=1024, ARGON2_TIME_COST=1, WEB_THREADS=8,
    )  # fmt: skip
    try:
        yield server
    finally:
        server.close()


def test_no_oversell_under_concurrent_checkouts(web):
    status, _, produto = http(
        "POST", web.url + "/produtos", body={"nome": "Última fornada", "preco": 10, "estoque": UNIDADES},
        headers=web.auth,
    )  # fmt: skip
    assert status == 201

    def preparar(n):
        email = f"c{n}@example.com"
        assert (
            http(
                "POST",
                web.url + "/clientes",
                body={"nome": f"C{n}", "email": email, "senha": "senha-123-x", "endereco": ENDERECO},
            )[0]
            == 201
        )
        token = http("POST", web.url + "/auth/login", body={"email": email, "senha": "senha-123-x"})[2]["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        linha = {"produto_id": produto["id"], "quantidade": 1}
        assert http("POST", web.url + "/carrinhos/me/itens", body=linha, headers=auth)[0] == 200
        return auth

    with ThreadPoolExecutor(16) as pool:
        clientes = list(pool.map(preparar, range(CLIENTES)))

    def comprar(auth):
        return http("POST", web.url + "/pedidos", body={"pagamento_metodo": "pix"}, headers=auth, timeout=60)[0]

    with ThreadPoolExecutor(CLIENTES) as pool:
        resultados = list(pool.map(comprar, clientes))

    assert resultados.count(201) == UNIDADES
    assert resultados.count(409) == CLIENTES - UNIDADES
    assert http("GET", web.url + f"/produtos/{produto['id']}")[2]["estoque"] == 0
    _, headers, _ = http("GET", web.url + "/pedidos?page_size=1", headers=web.auth)
    assert '"total": 10' in headers["X-Pagination"]
