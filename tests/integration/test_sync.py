"""Applying CRM events to MongoDB through the service layer (no Celery here: semantics).

Order, idempotency, the id-0 link, tombstones, API-vs-CRM ordering, customers, batches.
The same code runs inside the Celery task (tests/e2e/test_sync_pipeline.py).
"""

from __future__ import annotations

import json
import random
import uuid
from decimal import Decimal

import pytest

from domain.eventos import Envelope, EventoInvalido
from services import sync
from tests.helpers import JAVA_EVENTS


def java(name: str) -> str:
    return (JAVA_EVENTS / name).read_bytes().decode("utf-8")


def env(payload: str | dict, seq: int, canal: str = "produtos", event_id: str | None = None) -> Envelope:
    if isinstance(payload, dict):
        payload = json.dumps(payload)
    return Envelope(event_id or uuid.uuid4().hex, canal, payload, "2026-11-29T00:00:00+00:00", seq)


def produto(acao: str, java_id: int, nome="Caneca", preco="10.00", estoque=1, **extra) -> str:
    campos = {"id": java_id, "nome": nome, "preco": preco, "estoque": estoque, **extra}
    return json.dumps({"acao": acao, "produto": campos}).replace(f'"{preco}"', preco)


@pytest.fixture
def ctx(app):
    from webapp.deps import build_contexto

    with app.app_context():
        yield build_contexto(app, "sistema:java")


def por_java_id(client, java_id: int) -> list[dict]:
    return client.get(f"/produtos?java_id={java_id}").get_json()


def test_each_java_product_file_ends_in_the_expected_state(ctx, anon, db):
    for seq, nome in enumerate(
        ["produtos-criado-id0", "produtos-atualizado", "produtos-html-unicode", "produtos-null-descricao",
         "produtos-big-price"], start=1,
    ):  # fmt: skip
        sync.aplicar(ctx, env(java(f"{nome}.json"), seq))
    notebook = por_java_id(anon, 7)
    assert [(p["nome"], p["preco"], p["estoque"]) for p in notebook] == [("Notebook Gamer", 4299, 10)]
    assert db.produtos.count_documents({"nome": "Notebook Gamer"}) == 1  # id 0 linked, not duplicated
    cafe = por_java_id(anon, 9)[0]
    assert cafe["nome"] == "Café <Premium> & \"Moído\" = 1'kg'" and cafe["descricao"] == "Açúcar não incluído — ½ preço"
    caneca = anon.get("/produtos?java_id=8").get_data(as_text=True)
    assert '"preco":0.10' in caneca and '"descricao":null' in caneca
    assert '"preco":12500000.00' in anon.get("/produtos?java_id=10").get_data(as_text=True)
    sync.aplicar(ctx, env(java("produtos-removido.json"), 6))
    assert por_java_id(anon, 7) == []
    assert db.produtos.find_one({"java_id": 7})["excluido_em"] is not None  # hidden, kept


def test_same_envelope_twice_changes_nothing(ctx, db):
    e = env(produto("atualizado", 1, estoque=5), 10)
    assert sync.aplicar(ctx, e)["resultado"] == "criado"
    antes = db.produtos.find_one({"java_id": 1})
    assert sync.aplicar(ctx, e)["resultado"] == "obsoleto"
    assert db.produtos.find_one({"java_id": 1}) == antes
    e0 = env(java("produtos-criado-id0.json"), 11)
    sync.aplicar(ctx, e0)
    assert sync.aplicar(ctx, e0)["resultado"] == "obsoleto"
    assert db.produtos.count_documents({"nome": "Notebook Gamer"}) == 1


def test_last_received_wins_whatever_the_apply_order(ctx, anon):
    eventos = [env(produto("atualizado", 2, estoque=n), seq=n) for n in range(1, 21)]
    random.Random(7).shuffle(eventos)
    for e in eventos:
        sync.aplicar(ctx, e)
    assert por_java_id(anon, 2)[0]["estoque"] == 20


def test_removed_stays_removed_for_older_events_and_newer_criado_revives(ctx, anon, db):
    sync.aplicar(ctx, env(produto("atualizado", 3, estoque=1), 1))
    sync.aplicar(ctx, env(produto("removido", 3), 5))
    assert sync.aplicar(ctx, env(produto("atualizado", 3, estoque=2), 4))["resultado"] == "obsoleto"
    assert por_java_id(anon, 3) == []
    # A newer atualizado updates the data but does not bring the product back...
    sync.aplicar(ctx, env(produto("atualizado", 3, estoque=6), 6))
    assert por_java_id(anon, 3) == [] and db.produtos.find_one({"java_id": 3})["estoque"] == 6
    # ...a newer criado does.
    sync.aplicar(ctx, env(produto("criado", 3, estoque=7), 7))
    assert por_java_id(anon, 3)[0]["estoque"] == 7


def test_removido_of_an_unknown_product_blocks_older_events(ctx, anon):
    assert sync.aplicar(ctx, env(produto("removido", 4), 9))["resultado"] == "removido_desconhecido"
    assert sync.aplicar(ctx, env(produto("criado", 4), 3))["resultado"] == "obsoleto"
    assert por_java_id(anon, 4) == []


def test_unknown_atualizado_creates_the_product(ctx, anon):
    assert sync.aplicar(ctx, env(produto("atualizado", 5, nome="Antigo"), 1))["resultado"] == "criado"
    assert por_java_id(anon, 5)[0]["nome"] == "Antigo"


def test_id0_then_real_id_links_in_either_order(ctx, db):
    # criado(id 0) applied first, then the update carrying the real id: linked.
    sync.aplicar(ctx, env(produto("criado", 0, nome="Mesa"), 1))
    assert sync.aplicar(ctx, env(produto("atualizado", 11, nome="Mesa", estoque=4), 2))["resultado"] == "aplicado"
    assert db.produtos.count_documents({"nome": "Mesa"}) == 1
    assert db.produtos.find_one({"nome": "Mesa"})["java_id"] == 11
    # Reordered by parallel workers: the later real-id event lands first; the id-0
    # criado, older, is recognised as the same product and not stored again.
    sync.aplicar(ctx, env(produto("atualizado", 12, nome="Cadeira", estoque=4), 4))
    assert sync.aplicar(ctx, env(produto("criado", 0, nome="Cadeira"), 3))["resultado"] == "obsoleto"
    assert db.produtos.count_documents({"nome": "Cadeira"}) == 1


def test_a_new_id0_product_with_an_old_name_is_a_new_product(ctx, db):
    sync.aplicar(ctx, env(produto("criado", 13, nome="Vaso"), 1))
    assert sync.aplicar(ctx, env(produto("criado", 0, nome="Vaso"), 2))["resultado"] == "criado"
    assert db.produtos.count_documents({"nome": "Vaso"}) == 2


def test_api_writes_take_part_in_the_order(ctx, client, anon):
    sync.aplicar(ctx, env(produto("atualizado", 20, estoque=1), ctx.proxima_seq()))
    pid = por_java_id(anon, 20)[0]["id"]
    recebido_antes = ctx.proxima_seq()  # a CRM event the bridge numbered before the API edit
    assert client.patch(f"/produtos/{pid}", json={"estoque": 50, "categoria": "Casa"}).status_code == 200
    assert sync.aplicar(ctx, env(produto("atualizado", 20, estoque=2), recebido_antes))["resultado"] == "obsoleto"
    assert por_java_id(anon, 20)[0]["estoque"] == 50
    # A CRM event received after the edit wins over it, and keeps the API-only categoria.
    sync.aplicar(ctx, env(produto("atualizado", 20, estoque=3), ctx.proxima_seq()))
    final = por_java_id(anon, 20)[0]
    assert (final["estoque"], final["categoria"]) == (3, "Casa")


def test_customer_event_links_by_email_and_keeps_the_api_password(ctx, app, anon, db):
    anon.post("/clientes", json={"nome": "Maria", "email": "MARIA@example.com", "senha": "senha-da-api-1"})
    evento = env(java("canal-clientes.json"), ctx.proxima_seq(), canal="canal-clientes")
    assert sync.aplicar(ctx, evento)["resultado"] == "aplicado"  # the API-registered customer, now linked
    doc = db.clientes.find_one({"java_id": 3})
    assert db.clientes.count_documents({}) == 1
    assert doc["nome"] == "Maria Souza" and doc["endereco"]["cidade"] == "Goiânia"
    assert doc["telefone"] == "+55 62 99999-0000"
    # The password stays the one the customer chose (docs/security.md: the CRM never takes it).
    assert app.extensions["ponte"].hasher.verify(doc["senha_hash"], "senha-da-api-1")
    assert "s3nh@Forte" not in json.dumps(doc, default=str)
    assert sync.aplicar(ctx, evento)["resultado"] == "obsoleto"
    assert anon.post("/auth/login", json={"email": "maria@example.com", "senha": "senha-da-api-1"}).status_code == 200
    assert anon.post("/auth/login", json={"email": "maria@example.com", "senha": "s3nh@Forte"}).status_code == 401


def test_a_customer_the_crm_creates_gets_the_crm_password(ctx, anon, db):
    evento = env(java("canal-clientes.json"), ctx.proxima_seq(), canal="canal-clientes")
    assert sync.aplicar(ctx, evento)["resultado"] == "criado"
    assert db.clientes.find_one({"java_id": 3})["senha_origem"] == "crm"
    assert anon.post("/auth/login", json={"email": "maria@example.com", "senha": "s3nh@Forte"}).status_code == 200


def test_customer_email_of_another_crm_customer_is_refused(ctx):
    base = json.loads(java("canal-clientes.json"))
    sync.aplicar(ctx, env(base, 1, canal="canal-clientes"))
    outro = {**base, "id": 4}
    with pytest.raises(EventoInvalido, match="pertence a outro cliente"):
        sync.aplicar(ctx, env(outro, 2, canal="canal-clientes"))


def test_batch_has_the_semantics_of_one_event_after_another(ctx, app, db):
    eventos = [env(produto("atualizado", 30 + n % 3, estoque=n), seq=100 + n) for n in range(30)]
    eventos.append(env("{", 200))
    random.Random(3).shuffle(eventos)
    resultados = sync.aplicar_lote(ctx, eventos)
    assert sum(r["resultado"] == "rejeitado" for r in resultados) == 1
    finais = {d["java_id"]: d["estoque"] for d in db.produtos.find({"java_id": {"$in": [30, 31, 32]}})}
    assert finais == {30: 27, 31: 28, 32: 29}
    assert db.eventos_rejeitados.count_documents({}) == 1


def test_dead_letters_redact_passwords_and_can_be_replayed_or_discarded(ctx, app, client, redis_url):
    payload = java("canal-clientes.json").replace('"email":"maria@example.com"', '"email":"sem-arroba"')
    rejeitado = sync.rejeitar(ctx, env(payload, 1, canal="canal-clientes"), "e-mail inválido", 1)
    assert "s3nh@Forte" not in json.dumps(rejeitado.envelope)
    lista = client.get("/eventos-rejeitados?estado=pendente").get_json()
    assert [r["id"] for r in lista] == [rejeitado.id]
    detalhe = client.get(f"/eventos-rejeitados/{rejeitado.id}").get_json()
    assert detalhe["motivo"] == "e-mail inválido" and detalhe["envelope"]["seq"] == 1
    import redis as redis_lib

    r = redis_lib.Redis.from_url(redis_url)
    before = r.llen("sync")
    assert client.post(f"/eventos-rejeitados/{rejeitado.id}/reenvio").status_code == 202
    assert r.llen("sync") == before + 1
    queued = json.loads(r.lindex("sync", 0))
    assert queued["headers"]["task"] == "tasks.sync.aplicar_evento"
    r.lpop("sync")
    assert client.post(f"/eventos-rejeitados/{rejeitado.id}/reenvio").status_code == 409  # once only
    outro = sync.rejeitar(ctx, env("{", 2), "JSON inválido", 1)
    assert client.delete(f"/eventos-rejeitados/{outro.id}").status_code == 204
    assert client.get(f"/eventos-rejeitados/{outro.id}").get_json()["estado"] == "descartado"
    assert client.get("/eventos-rejeitados?estado=pendente").get_json() == []


def test_dead_letter_cli(ctx, app):
    rejeitado = sync.rejeitar(ctx, env("{", 1), "JSON inválido", 1)
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["dead-letters", "list"]).output
    assert rejeitado.id in listing and "JSON inválido" in listing
    assert rejeitado.event_id in runner.invoke(args=["dead-letters", "show", rejeitado.id]).output
    assert runner.invoke(args=["dead-letters", "discard", rejeitado.id]).exit_code == 0
    assert "0 of 0 pendente" in runner.invoke(args=["dead-letters", "list"]).output


def test_crm_changes_are_audited_as_the_java_system(ctx, client):
    sync.aplicar(ctx, env(produto("atualizado", 40, preco="1.00"), 1))
    registros = client.get("/auditoria?ator=sistema:java").get_json()
    assert registros[0]["recurso"] == "produto" and registros[0]["acao"] == "atualizado"
    assert Decimal("1.00") == Decimal(str(client.get("/produtos?java_id=40").get_json()[0]["preco"]))


def test_java_cart_becomes_an_order_through_the_same_checkout_exactly_once(ctx, db):
    sync.aplicar(ctx, env(java("canal-clientes.json"), ctx.proxima_seq(), canal="canal-clientes"))
    sync.aplicar(
        ctx, env(produto("atualizado", 7, nome="Notebook Gamer", preco="4299.0", estoque=10), ctx.proxima_seq())
    )
    sync.aplicar(ctx, env(produto("atualizado", 9, nome="Café", preco="19.99", estoque=100), ctx.proxima_seq()))
    carrinho = env(java("carrinho-3.json"), ctx.proxima_seq(), canal="carrinho:3")
    resultado = sync.aplicar(ctx, carrinho)
    assert resultado["resultado"] == "pedido_criado"
    pedido = db.pedidos.find_one()
    assert pedido["total"].to_decimal() == Decimal("4358.97")  # 4299.00 + 3 x 19.99, exactly
    assert pedido["pagamento_metodo"] == "boleto" and pedido["status"] == "pendente"
    assert db.produtos.find_one({"java_id": 9})["estoque"] == 97
    assert db.pagamentos.count_documents({"pedido_id": str(pedido["_id"])}) == 1
    # Redelivered: no second order, no second reservation.
    assert sync.aplicar(ctx, carrinho)["resultado"] == "obsoleto"
    assert db.pedidos.count_documents({}) == 1 and db.produtos.find_one({"java_id": 9})["estoque"] == 97


@pytest.mark.parametrize(
    ("canal", "payload", "motivo"),
    [
        ("carrinho:99", '[{"produto":{"id":7},"quantidade":1}]', "cliente do CRM desconhecido"),
        ("carrinho:3", '[{"produto":{"id":12345},"quantidade":1}]', "produto do CRM desconhecido"),
        ("carrinho:3", '[{"produto":{"id":7},"quantidade":0}]', "quantidade inválida"),
        ("carrinho:3", "[]", "lista não vazia"),
        ("carrinho:abc", '[{"produto":{"id":7},"quantidade":1}]', "sem id de cliente"),
        ("carrinho:3", '[{"produto":{"id":7},"quantidade":50}]', "estoque insuficiente"),
    ],
)
def test_java_cart_problems_are_refused_with_a_reason(ctx, db, canal, payload, motivo):
    sync.aplicar(ctx, env(java("canal-clientes.json"), ctx.proxima_seq(), canal="canal-clientes"))
    sync.aplicar(ctx, env(produto("atualizado", 7, estoque=10), ctx.proxima_seq()))
    with pytest.raises(EventoInvalido, match=motivo):
        sync.aplicar(ctx, env(payload, ctx.proxima_seq(), canal=canal))
    assert db.pedidos.count_documents({}) == 0
    assert db.produtos.find_one({"java_id": 7})["estoque"] == 10


def _estado(db, java_ids):
    campos = ("nome", "preco", "estoque", "descricao", "excluido_em", "sync_seq")
    return {
        d["java_id"]: {k: (d.get(k) is not None if k == "excluido_em" else str(d.get(k))) for k in campos}
        for d in db.produtos.find({"java_id": {"$in": java_ids}})
    }


@pytest.mark.parametrize("semente", [1, 2, 3])
def test_bulk_batches_end_exactly_where_one_by_one_does(app, ctx, db, mongo_client, semente):
    """Known products go through one bulk_write per batch: created, updated, removed and
    revived in shuffled batches of any size, the state is the one of each batch's events
    applied one by one in sequence order."""
    from webapp.deps import build_contexto

    rng = random.Random(semente)
    java_ids = [900 + n for n in range(6)]
    criacao = [env(produto("criado", j, nome=f"P{j}", estoque=1), seq=1 + n) for n, j in enumerate(java_ids)]
    acoes = ("atualizado", "atualizado", "removido", "criado")
    eventos = []
    for n in range(60):
        descricao = rng.choice([None, "d"])
        eventos.append(
            env(produto(rng.choice(acoes), rng.choice(java_ids), nome=f"N{n}", estoque=n, descricao=descricao), 100 + n)
        )
    eventos.append(env(produto("atualizado", 990, estoque=5), seq=500))  # unknown: created one by one
    rng.shuffle(eventos)

    # The same batches through the bulk path, and one by one (each batch in sequence
    # order, as the bulk path promises) on a database of its own.
    res = app.extensions["ponte"]
    sequencial = res.mongo.client.get_database(f"{db.name}_seq", codec_options=res.mongo.db().codec_options)
    from adapters.mongo import ensure_indexes
    from bootstrap import montar_contexto

    ensure_indexes(sequencial)  # the unique java_id index is part of the semantics
    ctx_seq = montar_contexto(sequencial, res.hasher, "sistema:java")
    lotes, i = [criacao], 0
    while i < len(eventos):
        n = rng.randint(1, 15)
        lotes.append(eventos[i : i + n])
        i += n
    com_efeito = set()
    for lote in lotes:
        resultados = sync.aplicar_lote(build_contexto(app, "sistema:java"), lote)
        assert len(resultados) == len(lote)
        com_efeito |= {e.event_id for e, r in zip(lote, resultados, strict=True) if r.get("id")}
        for e in sorted(lote, key=lambda e: e.seq):
            sync.aplicar(ctx_seq, e)
    alvo = [*java_ids, 990]
    assert _estado(db, alvo) == _estado(sequencial, alvo)
    # Every event that changed a product left exactly one audit record, named after it
    # (batches store theirs grouped; the listing shows one record per event).
    from domain.auditoria import AuditoriaFiltro

    registros, _ = build_contexto(app, "sistema:java").auditoria.list(AuditoriaFiltro(recurso="produto"), 0, 10_000)
    nomeados = [r.request_id for r in registros if r.request_id in {e.event_id for lote in lotes for e in lote}]
    assert len(com_efeito) > 10 and sorted(nomeados) == sorted(com_efeito)
    mongo_client.drop_database(sequencial.name)


def test_a_product_created_by_an_older_event_meanwhile_still_gets_the_newer_one(app, db):
    """The race the e2e out-of-order test caught: event 3 (removido) finds no product,
    event 2 creates it right then; event 3 must still apply, not be judged obsolete."""
    from datetime import UTC, datetime

    from adapters.sync_repositories import MongoProdutoSync

    res = app.extensions["ponte"]
    mdb = res.mongo.db()
    agora = datetime.now(UTC)
    campos = {"nome": "Corrida", "preco": Decimal("1.00"), "estoque": 2, "descricao": None}

    class Corrida(MongoProdutoSync):
        criou = False

        def existe(self, java_id: int) -> bool:
            if not self.criou:  # another worker, between our write and this check
                self.criou = True
                assert MongoProdutoSync(mdb).aplicar(java_id, campos, 2, agora, reviver=False)[0] == "criado"
            return super().existe(java_id)

    assert Corrida(mdb).ocultar(777, 3, agora, criar=False)[0] == "removido"
    doc = db.produtos.find_one({"java_id": 777})
    assert doc["sync_seq"] == 3 and doc["excluido_em"] is not None
    assert db.produtos.count_documents({"java_id": 777}) == 1
