"""The fast path for authenticated reads (``webapp.leitura_autenticada``): it answers
exactly what Flask would, refuses nothing itself (every refusal is Flask's), and shares
Flask's rate-limit budget."""

from __future__ import annotations

import uuid

import pytest

from devstack.procs import free_port
from tests.integration.test_leitura_rapida import _flask_visitas, cabecalhos, criar
from tests.integration.test_metrics import metrics_client, scrape
from webapp import create_app

SENHA = "senha-forte-123"
ENDERECO = {"rua": "Rua 10", "numero": "100", "bairro": "Centro", "cidade": "Goiânia", "estado": "GO",
            "cep": "74000-000"}  # fmt: skip


def novo_cliente(anon) -> tuple[dict, dict]:
    """A new customer and the Authorization header of a fresh token of theirs."""
    email = f"c{uuid.uuid4().hex[:10]}@example.com"
    novo = {"nome": "Maria", "email": email, "senha": SENHA, "endereco": ENDERECO}
    cliente = anon.post("/clientes", json=novo).get_json()
    token = anon.post("/auth/login", json={"email": email, "senha": SENHA}).get_json()["access_token"]
    return cliente, {"Authorization": f"Bearer {token}"}


@pytest.fixture
def compra(anon, client):
    """A customer with one order and one item in their cart again."""
    cliente, auth = novo_cliente(anon)
    p = criar(client, estoque=50)
    itens = "/carrinhos/me/itens"
    assert anon.post(itens, json={"produto_id": p["id"], "quantidade": 2}, headers=auth).status_code < 300
    pedido = anon.post("/pedidos", json={"pagamento_metodo": "boleto"}, headers=auth).get_json()
    assert anon.post(itens, json={"produto_id": p["id"], "quantidade": 1}, headers=auth).status_code < 300
    return {"cliente": cliente, "auth": auth, "pedido": pedido, "produto": p}


def _iguais(rapido, lento, url, headers) -> None:
    visitas = _flask_visitas(rapido)
    fast = rapido.test_client().get(url, headers=headers)
    slow = lento.test_client().get(url, headers=headers)
    assert visitas == [], f"{url} entered Flask"
    assert fast.status_code == slow.status_code == 200, (url, slow.get_data())
    assert fast.get_data() == slow.get_data()
    assert cabecalhos(fast) == cabecalhos(slow)
    assert fast.headers["Cache-Control"] == "no-store"


def test_each_read_is_flasks_answer_byte_for_byte(par, compra, staff_key):
    rapido, lento = par
    auth = compra["auth"]
    _iguais(rapido, lento, "/clientes/me", auth)
    _iguais(rapido, lento, "/carrinhos/me", auth)
    _iguais(rapido, lento, f"/pedidos/{compra['pedido']['id']}", auth)
    url = f"/produtos/{compra['produto']['id']}"
    rapido.test_client().get(url)  # cached, as the anonymous fast path leaves it
    for staff in ({"Authorization": f"Bearer {staff_key}"}, {"X-API-Key": staff_key}):
        _iguais(rapido, lento, url, staff)
    assert rapido.test_client().get("/clientes/me", headers=auth).get_json()["id"] == compra["cliente"]["id"]


def test_refusals_are_flasks(par, compra, anon, client, staff_key):
    rapido, _ = par
    c = rapido.test_client()
    _, outro_auth = novo_cliente(anon)
    pedido = f"/pedidos/{compra['pedido']['id']}"
    visitas = _flask_visitas(rapido)
    assert c.get(pedido, headers=outro_auth).status_code == 404  # another customer's order
    assert c.get(f"/pedidos/{'0' * 24}", headers=compra["auth"]).status_code == 404
    assert c.get("/clientes/me", headers={"Authorization": "Bearer x.y.z"}).status_code == 401
    assert c.get("/clientes/me", headers={"Authorization": f"Bearer {staff_key}"}).status_code == 403
    assert c.post("/auth/logout", headers=outro_auth).status_code == 204
    assert c.get("/clientes/me", headers=outro_auth).status_code == 401  # its token is on the deny-list
    assert client.delete(f"/clientes/{compra['cliente']['id']}").status_code == 204
    assert c.get("/carrinhos/me", headers=compra["auth"]).status_code == 401  # every token of theirs revoked
    revogada = client.post("/chaves", json={"nome": "curta", "escopos": ["clientes:read"]}).get_json()
    assert client.delete(f"/chaves/{revogada['prefixo']}").status_code == 204
    assert c.get(f"/produtos/{compra['produto']['id']}", headers={"X-API-Key": revogada["chave"]}).status_code == 401
    assert len(visitas) == 8


def test_everything_else_goes_to_flask(par, compra):
    rapido, _ = par
    c = rapido.test_client()
    auth = compra["auth"]
    etag = c.get("/clientes/me", headers=auth).headers["ETag"]
    visitas = _flask_visitas(rapido)
    assert c.get("/clientes/me", headers={**auth, "If-None-Match": etag}).status_code == 304
    assert c.get("/clientes/me", headers={**auth, "Origin": "https://loja.example"}).status_code == 200
    assert c.get("/clientes/me?x=1", headers=auth).status_code == 200
    assert c.head("/carrinhos/me", headers=auth).status_code == 200
    assert c.get(f"/pedidos/{compra['pedido']['id'].upper()}", headers=auth).status_code in (200, 404)
    assert c.get(f"/produtos/{compra['produto']['id']}", headers=auth).status_code == 200  # a customer's: Flask
    assert len(visitas) == 6


def test_the_rate_limit_budget_is_shared_with_flask(app_config, anon):
    app = create_app({**app_config, "RATELIMIT_DEFAULT": "3 per minute", "REDIS_PREFIX": f"rl-{uuid.uuid4().hex}"})
    try:
        _, auth = novo_cliente(anon)
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = "10.9.8.7"
        visitas = _flask_visitas(app)
        assert [c.get("/clientes/me", headers=auth).status_code for _ in range(3)] == [200] * 3
        assert visitas == []
        resp = c.get("/clientes/me", headers=auth)
        assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
        assert c.get("/carrinhos/me", headers=auth).status_code == 200  # another endpoint's budget
        # A refusal handed to Flask is counted once, by Flask.
        outro = app.test_client()
        outro.environ_base["REMOTE_ADDR"] = "10.9.8.8"
        mau = {"Authorization": "Bearer x.y.z"}
        assert [outro.get("/carrinhos/me", headers=mau).status_code for _ in range(4)] == [401] * 3 + [429]
    finally:
        app.extensions["ponte"].close()


def test_fast_answers_are_counted_under_the_route_template(par, compra):
    rapido, _ = par
    m = metrics_client(rapido)
    chave = frozenset({("method", "GET"), ("route", "/clientes/me"), ("status", "200")})
    antes = scrape(m).get("ponte_http_requests_total", {}).get(chave, 0)
    visitas = _flask_visitas(rapido)
    for _ in range(3):
        assert rapido.test_client().get("/clientes/me", headers=compra["auth"]).status_code == 200
    assert visitas == []
    assert scrape(m)["ponte_http_requests_total"][chave] == antes + 3


def test_a_remembered_staff_key_stops_working_as_soon_as_it_is_revoked(par, client, compra):
    rapido, _ = par
    c = rapido.test_client()
    url = f"/produtos/{compra['produto']['id']}"
    nova = client.post("/chaves", json={"nome": "lembrada", "escopos": ["clientes:read"]}).get_json()
    staff = {"X-API-Key": nova["chave"]}
    visitas = _flask_visitas(rapido)
    assert [c.get(url, headers=staff).status_code for _ in range(3)] == [200] * 3
    assert visitas == []  # verified once against MongoDB, then remembered
    assert client.delete(f"/chaves/{nova['prefixo']}").status_code == 204
    assert c.get(url, headers=staff).status_code == 401
    assert visitas == [url]


def test_a_revocation_redis_cannot_announce_changes_nothing(app_config, client):
    """With Redis unreachable the key generation cannot move: the revocation is a 503 and
    the key stays as it was, to be revoked when Redis is back."""
    nova = client.post("/chaves", json={"nome": "sem redis", "escopos": ["clientes:read"]}).get_json()
    sem_redis = create_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    try:
        admin = sem_redis.test_client()
        admin.environ_base["HTTP_AUTHORIZATION"] = client.environ_base["HTTP_AUTHORIZATION"]
        assert admin.delete(f"/chaves/{nova['prefixo']}").status_code == 503
    finally:
        sem_redis.extensions["ponte"].close()
    chaves = {c["prefixo"]: c for c in client.get("/chaves").get_json()}
    assert chaves[nova["prefixo"]]["revogada_em"] is None
    assert client.delete(f"/chaves/{nova['prefixo']}").status_code == 204


def test_a_key_generation_lost_with_redis_is_started_again(par, client, compra, app_config):
    import redis

    rapido, _ = par
    c = rapido.test_client()
    url = f"/produtos/{compra['produto']['id']}"
    nova = client.post("/chaves", json={"nome": "flush", "escopos": ["clientes:read"]}).get_json()
    staff = {"X-API-Key": nova["chave"]}
    assert c.get(url, headers=staff).status_code == 200
    r = redis.Redis.from_url(app_config["REDIS_URL"])
    chave = rapido.extensions["ponte"].tokens().chave_geracao
    antes = r.get(chave)
    assert antes is not None
    r.delete(chave)  # as a Redis that restarted empty
    c.get(url, headers=staff)  # refills the cache and starts a new generation
    assert r.get(chave) not in (None, antes)


def test_mongodb_down_is_flasks_503_counted_once(app_config):
    from adapters.tokens import JwtTokens

    cfg = {**app_config, "MONGO_URI": f"mongodb://127.0.0.1:{free_port()}", "MONGO_TIMEOUT_MS": 300,
           "RATELIMIT_DEFAULT": "3 per minute", "REDIS_PREFIX": f"rl-{uuid.uuid4().hex}"}  # fmt: skip
    app = create_app(cfg)
    try:
        token, _ = JwtTokens(app.config["SECRET_KEY"], app.config["TOKEN_TTL_S"], None, "x").emitir("6a" * 12)
        c = app.test_client()
        visitas = _flask_visitas(app)
        codigos = [c.get("/clientes/me", headers={"Authorization": f"Bearer {token}"}).status_code for _ in range(4)]
        assert codigos == [503, 503, 503, 429]
        assert len(visitas) == 4
    finally:
        app.extensions["ponte"].close()
