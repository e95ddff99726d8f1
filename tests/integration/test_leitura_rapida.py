"""The hot path for anonymous cached product reads (``webapp.leitura_rapida``): it
answers exactly what Flask would, shares Flask's rate-limit budget, and leaves every
other request to Flask."""

from __future__ import annotations

import json
import uuid

from devstack.procs import free_port
from tests.integration.test_metrics import metrics_client, scrape
from webapp import create_app

ROTA = "/produtos/<produto_id>"
SEM_COMPARAR = {"X-Request-ID", "Date"}


def _flask_visitas(app) -> list[str]:
    """Paths Flask itself handled, recorded by a hook (the fast path never enters Flask)."""
    visitas: list[str] = []
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: visitas.append(_path()))
    return visitas


def _path():
    from flask import request

    return request.path


def criar(client, **campos) -> dict:
    body = {"nome": f"Cafe {uuid.uuid4().hex[:6]}", "preco": 10.5, "estoque": 5, **campos}
    resp = client.post("/produtos", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def cabecalhos(resp) -> dict[str, str]:
    return {k: v for k, v in resp.headers.items() if k not in SEM_COMPARAR}


def test_the_fast_answer_is_flasks_answer_byte_for_byte(par, client):
    rapido, lento = par
    p = criar(client, descricao="Moído na hora", categoria="Bebidas")
    url = f"/produtos/{p['id']}"
    visitas = _flask_visitas(rapido)
    primeira = rapido.test_client().get(url)  # a miss: Flask answers and fills the cache
    assert visitas == [url]
    de_flask = lento.test_client().get(url)
    do_cache = rapido.test_client().get(url)
    assert visitas == [url], "the second read must not have entered Flask"
    for resp in (primeira, de_flask):
        assert resp.status_code == do_cache.status_code == 200
        assert resp.get_data() == do_cache.get_data()
        assert cabecalhos(resp) == cabecalhos(do_cache)
    assert do_cache.get_json()["preco"] == 10.5 and do_cache.headers["ETag"] == '"1"'


def test_if_none_match_gives_the_same_304(par, client):
    rapido, lento = par
    p = criar(client)
    url = f"/produtos/{p['id']}"
    etag = rapido.test_client().get(url).headers["ETag"]
    visitas = _flask_visitas(rapido)
    for tag in (etag, f"W/{etag}", f'"nada", {etag}', "*"):
        fast = rapido.test_client().get(url, headers={"If-None-Match": tag})
        slow = lento.test_client().get(url, headers={"If-None-Match": tag})
        assert fast.status_code == slow.status_code == 304, tag
        assert fast.get_data() == slow.get_data() == b""
        assert cabecalhos(fast) == cabecalhos(slow)
    other = rapido.test_client().get(url, headers={"If-None-Match": '"999"'})
    assert other.status_code == 200 and other.get_json()["id"] == p["id"]
    assert visitas == []


def aquecido(rapido, client):
    """A new product, already read once (so cached): its URL and an anonymous client."""
    url = f"/produtos/{criar(client)['id']}"
    anon = rapido.test_client()
    assert anon.get(url).status_code == 200
    return url, anon


def test_request_id_is_echoed_when_well_formed_and_made_otherwise(par, client):
    rapido, _ = par
    url, c = aquecido(rapido, client)
    visitas = _flask_visitas(rapido)
    assert c.get(url, headers={"X-Request-ID": "pedido-42.a"}).headers["X-Request-ID"] == "pedido-42.a"
    novo = c.get(url, headers={"X-Request-ID": "mau id com espaços"}).headers["X-Request-ID"]
    assert len(novo) == 32 and novo != c.get(url).headers["X-Request-ID"]
    assert visitas == []


def test_everything_else_goes_to_flask(par, client, app_config):
    rapido, _ = par
    visivel, oculto = criar(client), criar(client)
    anon = rapido.test_client()
    anon.get(f"/produtos/{visivel['id']}")
    anon.get(f"/produtos/{oculto['id']}")
    assert client.delete(f"/produtos/{oculto['id']}").status_code == 204
    visitas = _flask_visitas(rapido)
    staff = rapido.test_client()
    staff.environ_base["HTTP_AUTHORIZATION"] = client.environ_base["HTTP_AUTHORIZATION"]
    url = f"/produtos/{visivel['id']}"
    # Staff's answer is personal (the authenticated fast path's: test_leitura_autenticada.py).
    assert staff.get(url).headers["Cache-Control"] == "no-store"
    assert anon.get(url, headers={"X-API-Key": "x"}).status_code == 401
    assert anon.get(url, headers={"Origin": "https://loja.example"}).status_code == 200
    assert anon.get(url + "?campo=1").status_code == 200
    assert anon.head(url).status_code == 200
    assert anon.get(f"/produtos/{oculto['id']}").status_code == 404
    desconhecido = "65f0c1e2a3b4c5d6e7f80913"
    assert anon.get(f"/produtos/{desconhecido}").status_code == 404
    assert anon.get(f"/produtos/{visivel['id'].upper()}").status_code in (200, 404)
    assert len(visitas) == 7


def test_the_rate_limit_budget_is_shared_with_flask(app_config, client):
    app = create_app({**app_config, "RATELIMIT_DEFAULT": "4 per minute", "REDIS_PREFIX": f"rl-{uuid.uuid4().hex}"})
    try:
        p, outro = criar(client), criar(client)
        anon = app.test_client()
        anon.environ_base["REMOTE_ADDR"] = "10.9.8.7"
        visitas = _flask_visitas(app)
        codigos = [anon.get(f"/produtos/{p['id']}").status_code for _ in range(4)]
        assert codigos == [200] * 4
        assert len(visitas) == 1  # the miss; the three hits were fast, yet counted
        assert anon.get(f"/produtos/{p['id']}").status_code == 429
        assert anon.get(f"/produtos/{outro['id']}").status_code == 429  # same endpoint budget
        outro_cliente = app.test_client()
        outro_cliente.environ_base["REMOTE_ADDR"] = "10.9.8.8"
        assert outro_cliente.get(f"/produtos/{p['id']}").status_code == 200
    finally:
        app.extensions["ponte"].close()


def test_redis_down_means_flask_answers_from_mongodb(app_config, client):
    p = criar(client)
    app = create_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    try:
        resp = app.test_client().get(f"/produtos/{p['id']}")
        assert resp.status_code == 200 and resp.get_json()["nome"] == p["nome"]
        lista = app.test_client().get(f"/produtos?q={p['nome']}")
        assert lista.status_code == 200 and [x["id"] for x in lista.get_json()] == [p["id"]]
    finally:
        app.extensions["ponte"].close()


def test_fast_answers_are_counted_under_the_route_template(par, client):
    rapido, _ = par
    url, anon = aquecido(rapido, client)
    m = metrics_client(rapido)
    chave = frozenset({("method", "GET"), ("route", ROTA), ("status", "200")})
    antes = scrape(m).get("ponte_http_requests_total", {}).get(chave, 0)
    visitas = _flask_visitas(rapido)
    for _ in range(3):
        assert anon.get(url).status_code == 200
    assert visitas == []
    assert scrape(m)["ponte_http_requests_total"][chave] == antes + 3


# -- listings ---------------------------------------------------------------------------
def test_a_listing_is_flasks_answer_replayed_until_the_catalogue_changes(par, client):
    rapido, lento = par
    categoria = f"Cat {uuid.uuid4().hex[:8]}"
    for i in range(3):
        criar(client, categoria=categoria, preco=10 + i)
    url = f"/produtos?categoria={categoria}&page=1&page_size=2&sort=preco"
    visitas = _flask_visitas(rapido)
    anon = rapido.test_client()
    primeira = anon.get(url)  # a miss: Flask answers, the answer is kept
    replay = anon.get(url)
    assert visitas == ["/produtos"]
    de_flask = lento.test_client().get(url)
    for resp in (primeira, de_flask):
        assert resp.status_code == replay.status_code == 200
        assert resp.get_data() == replay.get_data()
        assert cabecalhos(resp) == cabecalhos(replay)
    assert [p["preco"] for p in replay.get_json()] == [10, 11]
    assert json.loads(replay.headers["X-Pagination"])["total"] == 3
    # Any product write is seen by the very next listing (a new catalogue generation).
    barato = criar(client, categoria=categoria, preco=1)
    assert anon.get(url).get_json()[0]["id"] == barato["id"]
    assert client.patch(f"/produtos/{barato['id']}", json={"preco": 50}).status_code == 200
    assert [p["preco"] for p in anon.get(url).get_json()] == [10, 11]
    assert client.delete(f"/produtos/{barato['id']}").status_code == 204
    assert json.loads(anon.get(url).headers["X-Pagination"])["total"] == 3
    assert len(visitas) == 4


def test_listing_errors_and_other_queries_are_not_replayed(par, client):
    rapido, _ = par
    anon = rapido.test_client()
    visitas = _flask_visitas(rapido)
    for _ in range(2):
        assert anon.get("/produtos?page_size=1000").status_code == 422
    assert anon.get("/produtos?page=1").status_code == 200
    assert anon.get("/produtos?page=2").status_code == 200
    assert anon.get("/produtos?" + "q=x&" * 200).status_code == 200  # too long to key: Flask
    assert anon.get("/produtos?" + "q=x&" * 200).status_code == 200
    assert len(visitas) == 6


def test_an_answer_read_before_a_write_is_never_served_after_it(app, app_config, client):
    """The race: Flask reads the old catalogue, a write lands, then the old answer is
    stored. It is stored under the generation read before Flask ran: unreachable."""
    from webapp.leitura_rapida import LeituraRapida

    categoria = f"Cat {uuid.uuid4().hex[:8]}"
    criar(client, categoria=categoria)
    url = f"/produtos?categoria={categoria}"
    rapido = create_app(app_config)
    try:
        meio: LeituraRapida = rapido.wsgi_app
        anon = rapido.test_client()
        original = meio.wsgi_app

        def flask_e_entao_uma_escrita(environ, start_response):
            resposta = original(environ, start_response)  # reads the catalogue of now
            criar(client, categoria=categoria)  # ...and a write lands before the store
            return resposta

        meio.wsgi_app = flask_e_entao_uma_escrita
        antigo = anon.get(url)
        meio.wsgi_app = original
        assert json.loads(antigo.headers["X-Pagination"])["total"] == 1
        assert json.loads(anon.get(url).headers["X-Pagination"])["total"] == 2
    finally:
        rapido.extensions["ponte"].close()


def test_listings_survive_a_redis_that_lost_its_scripts(par, client, app_config):
    import redis

    rapido, _ = par
    p = criar(client, categoria=f"Cat {uuid.uuid4().hex[:8]}")
    url = f"/produtos?categoria={p['categoria']}"
    anon = rapido.test_client()
    assert anon.get(url).status_code == 200 and anon.get(url).status_code == 200  # stored, then replayed
    redis.Redis.from_url(app_config["REDIS_URL"]).script_flush()  # as after a restart
    visitas = _flask_visitas(rapido)
    respostas = [anon.get(url) for _ in range(3)]
    assert [r.status_code for r in respostas] == [200] * 3
    assert {r.get_data() for r in respostas} == {respostas[0].get_data()}
    assert visitas == ["/produtos"]  # Flask answered once, while the script was loaded again
