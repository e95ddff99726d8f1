"""/clientes: unique case-insensitive e-mail, write-only argon2id password, CRM address."""

import json

from bson.objectid import ObjectId

from tests.helpers import JAVA_EVENTS

SENHA = "s3nh@Forte-teste"


def novo(client, **campos):
    dados = {"nome": "Maria Souza", "email": "maria@example.com", "senha": SENHA, **campos}
    resp = client.post("/clientes", json=dados)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()


def test_create_with_crm_shaped_address_and_no_password_in_output(client, db):
    evento = json.loads((JAVA_EVENTS / "canal-clientes.json").read_text(encoding="utf-8"))
    endereco = {k: v for k, v in evento["endereco"].items() if k != "id"}
    resp = client.post(
        "/clientes",
        json={
            "nome": evento["nome"],
            "email": evento["email"],
            "senha": evento["senha"],
            "endereco": endereco,
            "telefone": evento["numeroTelefone"],
        },
    )
    assert resp.status_code == 201
    text = resp.get_data(as_text=True)
    assert "senha" not in text and evento["senha"] not in text
    criado = resp.get_json()
    assert criado["endereco"]["cidade"] == "Goiânia"
    assert criado["endereco"]["complemento"] is None
    stored = db.clientes.find_one({"_id": ObjectId(criado["id"])})
    assert stored["senha_hash"].startswith("$argon2id$")
    assert evento["senha"] not in json.dumps(stored, default=str)
    for url in ("/clientes", f"/clientes/{criado['id']}"):
        assert "senha" not in client.get(url).get_data(as_text=True)


def test_password_is_verifiable_and_salted(app, client, db):
    a = novo(client, email="a@example.com")
    b = novo(client, email="b@example.com")
    ha = db.clientes.find_one({"_id": ObjectId(a["id"])})["senha_hash"]
    hb = db.clientes.find_one({"_id": ObjectId(b["id"])})["senha_hash"]
    assert ha != hb  # same password, different salts
    hasher = app.extensions["ponte"].hasher
    assert hasher.verify(ha, SENHA) and not hasher.verify(ha, "wrong-password")


def test_duplicate_email_case_insensitive_is_409(client):
    novo(client, email="Maria@Example.com")
    resp = client.post("/clientes", json={"nome": "Outra", "email": "maria@EXAMPLE.com", "senha": SENHA})
    assert resp.status_code == 409
    assert resp.get_json()["code"] == 409
    outro = novo(client, email="joao@example.com")
    assert client.patch(f"/clientes/{outro['id']}", json={"email": "MARIA@example.com"}).status_code == 409


def test_filters_by_email_and_name(client):
    novo(client, nome="Maria Souza", email="maria@example.com")
    novo(client, nome="João Silva", email="joao@example.com")
    assert [c["nome"] for c in client.get("/clientes?email=JOAO@example.com").get_json()] == ["João Silva"]
    assert [c["nome"] for c in client.get("/clientes?nome=joao").get_json()] == ["João Silva"]
    assert [c["nome"] for c in client.get("/clientes?sort=-nome").get_json()] == ["Maria Souza", "João Silva"]


def test_put_without_password_keeps_it_patch_changes_it(app, client, db):
    c = novo(client, telefone="+55 62 99999-0000")
    antes = db.clientes.find_one({"_id": ObjectId(c["id"])})["senha_hash"]
    resp = client.put(f"/clientes/{c['id']}", json={"nome": "Maria S.", "email": "maria@example.com"})
    assert resp.status_code == 200
    assert resp.get_json()["telefone"] is None
    assert db.clientes.find_one({"_id": ObjectId(c["id"])})["senha_hash"] == antes
    client.patch(f"/clientes/{c['id']}", json={"senha": "nova-senha-123"})
    depois = db.clientes.find_one({"_id": ObjectId(c["id"])})["senha_hash"]
    assert app.extensions["ponte"].hasher.verify(depois, "nova-senha-123")


def test_invalid_address_and_password_are_422_per_field(client):
    resp = client.post(
        "/clientes",
        json={
            "nome": "X",
            "email": "x@example.com",
            "senha": "curta",
            "endereco": {"rua": "R", "numero": "1", "bairro": "B", "cidade": "C", "estado": "Goiás", "cep": "1"},
        },
    )
    assert resp.status_code == 422
    erros = resp.get_json()["errors"]["json"]
    assert "senha" in erros and "estado" in erros["endereco"]
    resp = client.post(
        "/clientes",
        json={
            "nome": "X",
            "email": "x@example.com",
            "senha": SENHA,
            "endereco": {"rua": "R", "numero": "1", "bairro": "B", "cidade": "C", "estado": "GO", "cep": "1"},
        },
    )
    assert resp.status_code == 422
    assert "cep" in resp.get_json()["errors"]["json"]["endereco"]
    assert client.post("/clientes", json={"nome": "X", "email": "x@example.com"}).status_code == 422


def test_delete_customer_and_stale_if_match(client, db):
    c = novo(client)
    assert client.delete(f"/clientes/{c['id']}", headers={"If-Match": '"7"'}).status_code == 412
    assert client.delete(f"/clientes/{c['id']}", headers={"If-Match": '"1"'}).status_code == 204
    assert client.get(f"/clientes/{c['id']}").status_code == 404
    assert db.clientes.count_documents({}) == 0
