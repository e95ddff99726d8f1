"""Staff keys (API and CLI) and the audit trail."""

from __future__ import annotations

import json

from tests.conftest import make_key


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def test_key_shown_once_stored_hashed_listed_by_prefix_and_revocable(client, anon, db):
    resp = client.post("/chaves", json={"nome": "ops", "escopos": ["catalog:write"]})
    assert resp.status_code == 201
    criada = resp.get_json()
    key, prefixo = criada["chave"], criada["prefixo"]
    assert key.startswith(f"ponte_{prefixo}_")
    stored = db.api_keys.find_one({"prefixo": prefixo})
    assert key not in json.dumps(stored, default=str)
    listed = client.get("/chaves").get_data(as_text=True)
    assert prefixo in listed and key not in listed and stored["hash"] not in listed
    # The key works, through either header, within its scope only.
    assert anon.post("/produtos", json={"nome": "x", "preco": 1, "estoque": 1}, headers=bearer(key)).status_code == 201
    assert anon.get("/clientes", headers={"X-API-Key": key}).status_code == 403
    assert client.delete(f"/chaves/{prefixo}").status_code == 204
    assert anon.get("/produtos", headers=bearer(key)).status_code == 401
    assert client.delete(f"/chaves/{prefixo}").status_code == 404
    assert client.post("/chaves", json={"nome": "x", "escopos": ["root"]}).status_code == 422


def test_a_key_with_a_valid_prefix_but_wrong_secret_is_refused(app, anon):
    key = make_key(app, ("admin",))
    tampered = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")
    assert anon.get("/clientes", headers=bearer(tampered)).status_code == 401
    assert anon.get("/clientes", headers=bearer(key)).status_code == 200


def test_cli_creates_lists_and_revokes(app, anon):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["keys", "create", "--name", "ops", "--scope", "clientes:read", "--quiet"])
    assert result.exit_code == 0, result.output
    key = result.output.strip()
    assert anon.get("/clientes", headers=bearer(key)).status_code == 200
    prefixo = key.split("_")[1]
    listing = runner.invoke(args=["keys", "list"]).output
    assert prefixo in listing and "ops" in listing and key not in listing
    assert runner.invoke(args=["keys", "revoke", prefixo]).exit_code == 0
    assert anon.get("/clientes", headers=bearer(key)).status_code == 401
    assert "revoked" in runner.invoke(args=["keys", "list"]).output
    assert runner.invoke(args=["keys", "create", "--name", "x", "--scope", "root"]).exit_code != 0


def test_every_write_is_audited_with_who_what_when_and_request_id(client, anon):
    p = client.post("/produtos", json={"nome": "Caneca", "preco": 5, "estoque": 1}, headers={"X-Request-ID": "req-42"})
    pid = p.get_json()["id"]
    client.patch(f"/produtos/{pid}", json={"estoque": 3})
    anon.post("/clientes", json={"nome": "Maria", "email": "m@example.com", "senha": "senha-forte-1"})
    anon.post("/auth/login", json={"email": "m@example.com", "senha": "senha-forte-1"})
    resp = client.get(f"/auditoria?recurso=produto&recurso_id={pid}")
    assert resp.status_code == 200
    registros = resp.get_json()
    assert [(r["acao"], r["campos"]) for r in registros] == [
        ("alterado", ["estoque"]),
        ("criado", ["estoque", "nome", "preco"]),
    ]
    assert registros[1]["ator"] == "staff:tests" and registros[1]["request_id"] == "req-42"
    assert registros[0]["em"] >= registros[1]["em"]
    cadastro = client.get("/auditoria?recurso=cliente").get_json()
    assert cadastro[0]["ator"] == "anonimo" and "senha (alterada)" in cadastro[0]["campos"]
    login = client.get("/auditoria?acao=login").get_json()
    assert login[0]["ator"].startswith("cliente:")
    everything = client.get("/auditoria?page_size=100").get_data(as_text=True)
    assert "senha-forte-1" not in everything and "$argon2" not in everything
    assert client.get("/auditoria?desde=2000-01-01T00:00:00Z&ate=2000-01-02T00:00:00Z").get_json() == []
    assert client.get("/auditoria?desde=ontem").status_code == 422


def test_request_id_is_echoed_or_generated(anon):
    assert anon.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = anon.get("/health", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert generated and " " not in generated


def test_the_last_admin_key_cannot_be_revoked_through_the_api(client, anon, staff_key):
    """Without an active ``admin`` key nobody could manage keys through the API any more."""
    prefixo = staff_key.split("_")[1]
    resp = client.delete(f"/chaves/{prefixo}")
    assert resp.status_code == 409
    assert "última chave admin" in resp.get_json()["message"]
    assert anon.get("/chaves", headers=bearer(staff_key)).status_code == 200
    outra = client.post("/chaves", json={"nome": "ops-2", "escopos": ["admin"]}).get_json()
    assert client.delete(f"/chaves/{prefixo}").status_code == 204
    assert anon.get("/chaves", headers=bearer(staff_key)).status_code == 401
    check = anon.delete(f"/chaves/{outra['prefixo']}", headers=bearer(outra["chave"]))
    assert check.status_code == 409


def test_the_last_admin_key_cannot_be_revoked_through_the_cli(app, anon):
    key = make_key(app, ("admin",))
    prefixo = key.split("_")[1]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["keys", "revoke", prefixo])
    assert result.exit_code != 0
    assert "última chave admin" in result.output and "Traceback" not in result.output
    assert anon.get("/chaves", headers=bearer(key)).status_code == 200
    assert runner.invoke(args=["keys", "create", "--name", "ops-2", "--scope", "admin"]).exit_code == 0
    assert runner.invoke(args=["keys", "revoke", prefixo]).exit_code == 0
    assert anon.get("/chaves", headers=bearer(key)).status_code == 401


def test_cli_revoke_without_redis_says_so_and_changes_nothing(app, app_config, anon):
    from devstack.procs import free_port
    from webapp import create_app

    key = make_key(app, ("clientes:read",))
    prefixo = key.split("_")[1]
    sem_redis = create_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    try:
        result = sem_redis.test_cli_runner().invoke(args=["keys", "revoke", prefixo])
    finally:
        sem_redis.extensions["ponte"].close()
    assert result.exit_code == 1 and "nothing revoked" in result.output
    assert anon.get("/clientes", headers=bearer(key)).status_code == 200
