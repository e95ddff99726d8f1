"""Two events of a customer the database does not have yet, applied at the same time.

A conditional upsert is a query and then, when nothing matched, an insert. When two
workers apply events of the same new CRM customer, one worker's query may find nothing,
the other worker insert the customer right then, and the first worker's insert hit a
unique index (the CRM id's ``chave_java``, or ``email_norm`` when both carry the same
e-mail). The event that lost that race must still apply when it is the newer one: it is
neither obsolete nor an "e-mail of another customer". Only an e-mail held by a *different*
customer is.

The interleaving is made deterministic: the losing worker's upsert is split into its two
halves, with the winner's whole write between them (``_ColecaoNaCorrida``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from bson import ObjectId

from adapters.sync_repositories import MongoClienteSync
from domain.eventos import EventoInvalido
from tests.integration.test_sync import java
from wire.crm import decodificar_cliente


class _ColecaoNaCorrida:
    """The ``clientes`` collection as the losing worker sees it: its first conditional
    upsert finds nothing, ``rival`` (the other worker) then writes, and only then does the
    upsert insert, as the server would after its query matched nothing."""

    def __init__(self, col, rival):
        self._col, self._rival = col, rival

    def __getattr__(self, name):
        return getattr(self._col, name)

    def find_one_and_update(self, filtro, change, projection=None, upsert=False, **kwargs):
        if upsert and self._rival is not None:
            rival, self._rival = self._rival, None
            assert self._col.count_documents(filtro) == 0  # the query half: no match yet
            rival()
            # The insert half: a fresh _id cannot match, so the server inserts the document
            # built from the filter's equalities and the change, as an upsert does.
            filtro = {**filtro, "_id": ObjectId()}
        return self._col.find_one_and_update(filtro, change, projection, upsert=upsert, **kwargs)


def _campos(java_id: int, email: str, nome: str = "Maria Souza") -> dict:
    dados = {**json.loads(java("canal-clientes.json")), "id": java_id, "email": email, "nome": nome}
    return dict(decodificar_cliente(json.dumps(dados)).campos)


@pytest.fixture
def mdb(app):
    return app.extensions["ponte"].mongo.db()


def _correr(mdb, perdedor: tuple, vencedor: tuple) -> str:
    """Apply ``perdedor`` (java_id, campos, seq) losing the upsert race to ``vencedor``."""
    agora = datetime.now(UTC)
    sync = MongoClienteSync(mdb)
    sync.col = _ColecaoNaCorrida(sync.col, lambda: MongoClienteSync(mdb).aplicar(*vencedor, agora))
    return sync.aplicar(*perdedor, agora)


def test_the_newer_event_losing_the_insert_race_still_applies(mdb, db):
    antigo = (3, _campos(3, "maria@example.com", "Maria Antiga"), 1)
    novo = (3, _campos(3, "maria.nova@example.com", "Maria Nova"), 2)
    assert _correr(mdb, perdedor=novo, vencedor=antigo) == "aplicado"
    [doc] = db.clientes.find({"java_id": 3})
    assert (doc["sync_seq"], doc["nome"], doc["email"]) == (2, "Maria Nova", "maria.nova@example.com")


def test_the_newer_event_losing_the_race_with_the_same_email_is_not_refused(mdb, db):
    antigo = (3, _campos(3, "maria@example.com", "Maria Antiga"), 1)
    novo = (3, _campos(3, "maria@example.com", "Maria Nova"), 2)
    assert _correr(mdb, perdedor=novo, vencedor=antigo) == "aplicado"
    assert db.eventos_rejeitados.count_documents({}) == 0
    [doc] = db.clientes.find({"java_id": 3})
    assert (doc["sync_seq"], doc["nome"]) == (2, "Maria Nova")


def test_the_older_event_losing_the_race_is_obsolete(mdb, db):
    antigo = (3, _campos(3, "maria@example.com", "Maria Antiga"), 1)
    novo = (3, _campos(3, "maria.nova@example.com", "Maria Nova"), 2)
    assert _correr(mdb, perdedor=antigo, vencedor=novo) == "obsoleto"
    [doc] = db.clientes.find({"java_id": 3})
    assert (doc["sync_seq"], doc["nome"], doc["email"]) == (2, "Maria Nova", "maria.nova@example.com")


def test_id0_events_keyed_by_email_racing_end_in_the_newer_one(mdb, db):
    antigo = (0, _campos(0, "maria@example.com", "Maria Antiga"), 1)
    novo = (0, _campos(0, "maria@example.com", "Maria Nova"), 2)
    assert _correr(mdb, perdedor=novo, vencedor=antigo) == "aplicado"
    [doc] = db.clientes.find({"email_norm": "maria@example.com"})
    assert (doc["sync_seq"], doc["nome"]) == (2, "Maria Nova")


def test_an_email_of_a_different_customer_is_still_refused_after_the_race(mdb, db):
    agora = datetime.now(UTC)
    MongoClienteSync(mdb).aplicar(4, _campos(4, "joao@example.com", "João"), 1, agora)
    antigo = (3, _campos(3, "maria@example.com", "Maria Antiga"), 2)
    novo = (3, _campos(3, "joao@example.com", "Maria Nova"), 3)  # customer 4's e-mail
    with pytest.raises(EventoInvalido, match="pertence a outro cliente"):
        _correr(mdb, perdedor=novo, vencedor=antigo)
    assert db.clientes.find_one({"java_id": 3})["sync_seq"] == 2
    assert db.clientes.find_one({"java_id": 4})["email"] == "joao@example.com"


def test_an_email_of_a_different_customer_without_a_race_is_refused(mdb):
    agora = datetime.now(UTC)
    MongoClienteSync(mdb).aplicar(4, _campos(4, "joao@example.com", "João"), 1, agora)
    with pytest.raises(EventoInvalido, match="pertence a outro cliente"):
        MongoClienteSync(mdb).aplicar(3, _campos(3, "joao@example.com"), 2, agora)
    MongoClienteSync(mdb).aplicar(3, _campos(3, "maria@example.com"), 3, agora)
    with pytest.raises(EventoInvalido, match="pertence a outro cliente"):  # an existing customer too
        MongoClienteSync(mdb).aplicar(3, _campos(3, "joao@example.com"), 4, agora)
    with pytest.raises(EventoInvalido, match="pertence a outro cliente"):  # by e-mail, unaffected
        MongoClienteSync(mdb).aplicar(4, _campos(4, "maria@example.com"), 5, agora)


def test_an_api_customer_registering_the_email_during_the_race_is_linked(mdb, db):
    """The e-mail's holder appeared between the link step and the upsert: it is an API
    customer (no CRM id), so the event links it instead of refusing the e-mail."""
    agora = datetime.now(UTC)
    api = {"nome": "Maria", "email": "maria@example.com", "email_norm": "maria@example.com", "sync_seq": 1}
    evento = (3, _campos(3, "maria@example.com", "Maria do CRM"), 2)
    sync = MongoClienteSync(mdb)
    sync.col = _ColecaoNaCorrida(sync.col, lambda: db.clientes.insert_one({**api, "criado_em": agora}))
    assert sync.aplicar(*evento, agora) == "aplicado"
    [doc] = db.clientes.find({})
    assert (doc["java_id"], doc["nome"], doc["sync_seq"]) == (3, "Maria do CRM", 2)


def test_every_sync_write_of_a_crm_id_stores_its_unique_key(mdb, db):
    """The key ``chave_java_unica`` keeps unique (else two customers could share a CRM id):
    written by the upsert that creates a customer and by the link to an API customer."""
    agora = datetime.now(UTC)
    db.clientes.insert_one({"nome": "Bia", "email_norm": "bia@example.com", "criado_em": agora})
    MongoClienteSync(mdb).aplicar(3, _campos(3, "maria@example.com"), 1, agora)
    MongoClienteSync(mdb).aplicar(5, _campos(5, "bia@example.com", "Bia"), 2, agora)
    assert {d["java_id"]: d["chave_java"] for d in db.clientes.find({})} == {3: "3", 5: "5"}
