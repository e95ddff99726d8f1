"""Every failure is JSON in one shape; no client input produces a 500."""

import json

import pytest

SHAPE = {"code", "status"}


def check_shape(resp, code):
    assert resp.status_code == code, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    payload = resp.get_json()
    assert set(payload) >= SHAPE and payload["code"] == code
    assert "Traceback" not in resp.get_data(as_text=True)
    return payload


def test_malformed_json_is_400(client):
    check_shape(client.post("/produtos", data='{"nome": ', content_type="application/json"), 400)
    check_shape(client.post("/produtos", data=b"\xff\xfe", content_type="application/json"), 400)
    check_shape(client.post("/produtos", data='{"preco": NaN}', content_type="application/json"), 400)


def test_unknown_and_malformed_ids_are_404(client):
    check_shape(client.get("/produtos/0123456789abcdef01234567"), 404)
    check_shape(client.get("/produtos/not-an-id"), 404)
    check_shape(client.get("/clientes/%24where"), 404)
    check_shape(client.get("/no-such-route"), 404)


def test_wrong_method_is_405(client):
    check_shape(client.delete("/produtos"), 405)
    check_shape(client.post("/health"), 405)


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [("TRACE", "/health", {"GET", "HEAD", "OPTIONS"}), ("DELETE", "/produtos", {"GET", "HEAD", "OPTIONS", "POST"})],
)
def test_405_lists_the_allowed_methods(client, method, url, allowed):
    """RFC 9110 §15.5.6: a 405 carries ``Allow`` (flask-smorest's JSON rendering used to drop it)."""
    resp = client.open(url, method=method)
    check_shape(resp, 405)
    assert {m.strip() for m in resp.headers["Allow"].split(",")} == allowed


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/clientes/me", {"GET", "HEAD", "OPTIONS", "PATCH"}),
        ("/pedidos/resumo", {"GET", "HEAD", "OPTIONS"}),
        ("/carrinhos/me", {"GET", "HEAD", "OPTIONS", "DELETE"}),
    ],
)
def test_a_fixed_sub_path_advertises_its_own_methods_only(client, url, allowed):
    """``/clientes/me`` is not ``/clientes/<cliente_id>`` with id "me": OPTIONS and 405
    list the methods of the route that answers, not those of its id sibling too."""
    assert {m.strip() for m in client.options(url).headers["Allow"].split(",")} == allowed
    resp = client.open(url, method="TRACE")
    check_shape(resp, 405)
    assert {m.strip() for m in resp.headers["Allow"].split(",")} == allowed


def test_oversized_body_is_413(app, client):
    big = json.dumps({"nome": "x" * (app.config["MAX_BODY_BYTES"] + 10), "preco": 1, "estoque": 1})
    check_shape(client.post("/produtos", data=big, content_type="application/json"), 413)


def test_non_json_body_is_415(client):
    check_shape(client.post("/produtos", data="nome=x", content_type="application/x-www-form-urlencoded"), 415)
    check_shape(client.put("/clientes/0123456789abcdef01234567", data="x", content_type="text/plain"), 415)


def test_validation_is_422_per_field_and_unknown_fields_refused(client):
    payload = check_shape(client.post("/produtos", json={"nome": "", "preco": -1, "estoque": 1.5, "extra": 1}), 422)
    assert set(payload["errors"]["json"]) == {"nome", "preco", "estoque", "extra"}
    payload = check_shape(client.post("/produtos", json={"nome": "x", "preco": 0.001, "estoque": 1}), 422)
    assert "preco" in payload["errors"]["json"]


@pytest.mark.parametrize(
    "doc",
    [
        {"nome": {"$gt": ""}, "preco": 1, "estoque": 1},
        {"nome": "x", "preco": {"$gt": 0}, "estoque": 1},
        {"nome": "x", "preco": 1, "estoque": {"$where": "sleep(1000)"}},
        {"nome": "x", "preco": "1", "estoque": True},
        {"nome": ["x"], "preco": 1, "estoque": 1},
    ],
)
def test_operator_injection_in_body_rejected(client, db, doc):
    check_shape(client.post("/produtos", json=doc), 422)
    assert db.produtos.count_documents({}) == 0


def test_operator_injection_in_query_ignored_or_rejected(client):
    client.post("/produtos", json={"nome": "a", "preco": 1, "estoque": 1})
    assert client.get("/produtos?preco_min[$gt]=&categoria[$ne]=x").status_code == 200
    check_shape(client.get('/produtos?preco_min={"$gt":""}'), 422)
    check_shape(client.get("/produtos?java_id=$where"), 422)
    resp = client.get("/clientes?email[$ne]=x")
    assert resp.status_code == 200


def test_deep_nesting_and_huge_numbers_refused_cleanly(client):
    deep = '{"nome": ' + "[" * 5000 + "]" * 5000 + ', "preco": 1, "estoque": 1}'
    check_shape(client.post("/produtos", data=deep, content_type="application/json"), 400)
    moderate = '{"nome": "x", "preco": 1, "estoque": 1, "extra": ' + "[" * 40 + "]" * 40 + "}"
    check_shape(client.post("/produtos", data=moderate, content_type="application/json"), 400)
    check_shape(
        client.post("/produtos", data='{"nome":"x","preco":1e999999,"estoque":1}', content_type="application/json"), 422
    )
    check_shape(
        client.post(
            "/produtos", data='{"nome":"x","preco":1,"estoque":' + "9" * 5000 + "}", content_type="application/json"
        ),
        400,
    )


ODD_VALUES = [None, True, 0, -1, 2**70, 1.5, "", "x" * 300, "💥\u0000", [], {}, {"$gt": ""}]


@pytest.mark.parametrize("campo", ["nome", "preco", "estoque", "descricao", "categoria"])
def test_no_odd_value_produces_a_500(client, campo):
    for valor in ODD_VALUES:
        doc = {"nome": "x", "preco": 1, "estoque": 1, campo: valor}
        for resp in (client.post("/produtos", json=doc), client.patch("/produtos/0123456789abcdef01234567", json=doc)):
            assert resp.status_code < 500, (campo, valor, resp.get_data(as_text=True))
            assert resp.mimetype == "application/json"


@pytest.mark.parametrize(
    "qs",
    [
        "page=0",
        "page=-1",
        "page=abc",
        "page_size=0",
        "sort=",
        "sort=-",
        "sort=,,",
        "q=" + "a" * 101,
        "em_estoque=talvez",
        "preco_min=NaN",
        "preco_max=1e400",
        "java_id=1e3",
        "q=%00",
        "categoria=%ff",
    ],
)
def test_no_odd_query_produces_a_500(client, qs):
    resp = client.get(f"/produtos?{qs}")
    assert resp.status_code < 500, resp.get_data(as_text=True)
    assert resp.status_code in (200, 422)


def test_database_outage_is_503_json(mongo_uri, redis_url):
    from devstack.procs import free_port
    from webapp import create_app

    app = create_app(
        {
            "PONTE_ENV": "test",
            "MONGO_URI": f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
            "MONGO_TIMEOUT_MS": 300,
            "REDIS_URL": redis_url,
        }
    )
    resp = app.test_client().get("/produtos")
    payload = check_shape(resp, 503)
    assert resp.headers["Retry-After"] == "5"
    assert "mongodb://" not in json.dumps(payload)
