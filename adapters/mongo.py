"""MongoDB access: one client per process, exact decimals, idempotent indexes.

Everything talks to MongoDB through pymongo over ``MONGO_URI``, whether the server is a
real MongoDB or the embedded mongoeco stand-in.
"""

from __future__ import annotations

import logging
import os
import threading
from decimal import Decimal

import pymongo
from bson.codec_options import CodecOptions, TypeCodec, TypeRegistry
from bson.decimal128 import Decimal128
from pymongo import ASCENDING, DESCENDING, IndexModel, MongoClient
from pymongo.database import Database

from adapters.per_process import PerProcess

logger = logging.getLogger(__name__)


class DecimalCodec(TypeCodec):
    """``Decimal`` in Python, ``Decimal128`` in MongoDB: money never becomes a double."""

    python_type = Decimal
    bson_type = Decimal128

    def transform_python(self, value: Decimal) -> Decimal128:
        return Decimal128(value)

    def transform_bson(self, value: Decimal128) -> Decimal:
        return value.to_decimal()


CODEC_OPTIONS = CodecOptions(tz_aware=True, type_registry=TypeRegistry([DecimalCodec()]))

# The most values one ``$in`` carries. MongoDB takes far more; the embedded default's
# engine (mongoeco on SQLite) refuses about 450 or more ("Expression tree is too large"),
# and a bridge batch is 500 events. A few more round trips on MongoDB, none refused here.
IN_MAX = 200


def fatias(valores: list, tamanho: int = IN_MAX):
    """``valores`` in consecutive slices of at most ``tamanho``: one ``$in`` each."""
    for inicio in range(0, len(valores), tamanho):
        yield valores[inicio : inicio + tamanho]


def any_of(valores: list):
    """The filter value matching any of ``valores``: an equality for a single one. MongoDB
    serves both from the index; mongoeco serves only an equality from it, and answers an
    ``$in`` by matching every document (one id among 10,000 products: ~57 ms against ~0.5)."""
    return valores[0] if len(valores) == 1 else {"$in": valores}


INDEXES: dict[str, list[IndexModel]] = {
    "produtos": [
        # The CRM id's uniqueness lives on its string form: mongoeco checks a unique index on
        # a number by reading every document of the collection on each write (SQLite: ~0.3 s
        # per update at 1,000 products), a string through the index (docs/mongoeco.md).
        IndexModel(
            [("chave_java", ASCENDING)],
            name="chave_java_unica",
            unique=True,
            partialFilterExpression={"chave_java": {"$exists": True}},
        ),
        IndexModel([("java_id", ASCENDING)], name="por_java_id"),
        IndexModel([("excluido_em", ASCENDING), ("nome_busca", ASCENDING), ("_id", ASCENDING)], name="lista_nome"),
        IndexModel(
            [("excluido_em", ASCENDING), ("categoria_chave", ASCENDING), ("preco", ASCENDING)],
            name="lista_categoria_preco",
        ),
        IndexModel([("excluido_em", ASCENDING), ("preco", ASCENDING)], name="lista_preco"),
        IndexModel([("excluido_em", ASCENDING), ("criado_em", DESCENDING)], name="lista_criado"),
        # CRM sync: id-0 products are stored once per event, then linked by name.
        IndexModel(
            [("evento_origem", ASCENDING)],
            name="evento_origem_unico",
            unique=True,
            partialFilterExpression={"evento_origem": {"$exists": True}},
        ),
        IndexModel([("nome_busca", ASCENDING), ("criado_seq", ASCENDING)], name="vinculo_por_nome"),
    ],
    "clientes": [
        IndexModel([("email_norm", ASCENDING)], name="email_unico", unique=True),
        # As produtos' (above): the numeric index cost the sync's upserts by CRM id ~3x on
        # SQLite at 1,000 customers.
        IndexModel(
            [("chave_java", ASCENDING)],
            name="chave_java_unica",
            unique=True,
            partialFilterExpression={"chave_java": {"$exists": True}},
        ),
        IndexModel([("java_id", ASCENDING)], name="por_java_id"),
        IndexModel([("nome_busca", ASCENDING), ("_id", ASCENDING)], name="lista_nome"),
        IndexModel([("criado_em", DESCENDING)], name="lista_criado"),
    ],
    "api_keys": [IndexModel([("prefixo", ASCENDING)], name="prefixo_unico", unique=True)],
    "pedidos": [
        IndexModel([("cliente_id", ASCENDING), ("criado_em", DESCENDING)], name="por_cliente"),
        IndexModel([("status", ASCENDING), ("criado_em", DESCENDING)], name="por_status"),
        IndexModel([("criado_em", DESCENDING), ("_id", ASCENDING)], name="lista_criado"),
        # The beat finds cancellations whose follow-up stopped: only those are in it.
        IndexModel(
            [("cancelamento_pendente", ASCENDING)],
            name="cancelamento_pendente",
            partialFilterExpression={"cancelamento_pendente": True},
        ),
    ],
    "carrinhos": [IndexModel([("atualizado_em", DESCENDING)], name="lista_atualizado")],
    "envios": [IndexModel([("pedido_id", ASCENDING)], name="pedido_unico", unique=True)],
    "idempotencia": [IndexModel([("criado_em", ASCENDING)], name="por_idade")],
    "pagamentos": [
        IndexModel([("pedido_id", ASCENDING)], name="pedido_unico", unique=True),
        IndexModel([("status", ASCENDING), ("criado_em", ASCENDING)], name="por_status"),
    ],
    "eventos_rejeitados": [
        IndexModel([("event_id", ASCENDING)], name="event_id_unico", unique=True),
        IndexModel([("estado", ASCENDING), ("em", DESCENDING)], name="lista_estado"),
    ],
    "auditoria": [
        IndexModel([("em", DESCENDING), ("_id", ASCENDING)], name="lista_em"),
        IndexModel([("recurso", ASCENDING), ("recurso_id", ASCENDING), ("em", DESCENDING)], name="por_recurso"),
        IndexModel([("ator", ASCENDING), ("em", DESCENDING)], name="por_ator"),
        # Records grouped in one document (a sync batch): found by the resource they name.
        IndexModel([("itens.recurso_id", ASCENDING)], name="lote_por_recurso"),
        # A group's key: its write is an upsert on it (see MongoAuditoriaRepository.add_many).
        IndexModel(
            [("grupo", ASCENDING)],
            name="grupo_unico",
            unique=True,
            partialFilterExpression={"grupo": {"$exists": True}},
        ),
    ],
}


# The unique index on the numeric CRM id, before ``chave_java`` took its place.
INDICE_JAVA_ANTIGO = "java_id_unico"
# Where it was: each is migrated at start, whatever state the other is in.
COLECOES_CHAVE_JAVA = ("produtos", "clientes")


def ensure_indexes(db: Database) -> None:
    """Create every index Ponte's queries rely on; safe to call on every start."""
    for collection in COLECOES_CHAVE_JAVA:
        migrar_chave_java(db, collection)
    for collection, models in INDEXES.items():
        db[collection].create_indexes(models)


def migrar_chave_java(db: Database, collection: str) -> None:
    """A collection from before ``chave_java``: give every document with a CRM id its key,
    make the key unique, then drop the old index (whose key pattern ``por_java_id`` reuses).
    Uniqueness holds throughout: the new index exists before the old one goes."""
    col = db[collection]
    if INDICE_JAVA_ANTIGO not in col.index_information():
        return
    for doc in col.find({"java_id": {"$exists": True}, "chave_java": {"$exists": False}}, {"java_id": 1}):
        col.update_one({"_id": doc["_id"]}, {"$set": {"chave_java": str(doc["java_id"])}})
    col.create_indexes([m for m in INDEXES[collection] if m.document["name"] == "chave_java_unica"])
    col.drop_index(INDICE_JAVA_ANTIGO)
    logger.info("%s: unique CRM id moved to chave_java (%s dropped)", collection, INDICE_JAVA_ANTIGO)


class MongoConnector:
    """Hands out this process's ``Database``, creating indexes once per process."""

    def __init__(self, uri: str, db_name: str, timeout_ms: int = 5000, appname: str = "ponte"):
        self.uri = uri
        self.db_name = db_name
        self._client = PerProcess(
            lambda: MongoClient(
                uri,
                appname=appname,
                serverSelectionTimeoutMS=timeout_ms,
                connectTimeoutMS=timeout_ms,
                tz_aware=True,
            ),
            lambda client: client.close(),
        )
        self._indexed_pid: int | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> MongoClient:
        return self._client.get()

    def db(self) -> Database:
        database = self.client.get_database(self.db_name, codec_options=CODEC_OPTIONS)
        if self._indexed_pid != os.getpid():
            with self._lock:
                if self._indexed_pid != os.getpid():
                    ensure_indexes(database)
                    self._indexed_pid = os.getpid()
                    logger.info("indexes ensured on database %s", self.db_name)
        return database

    def ping(self, timeout_s: float) -> None:
        """Raise unless the server answers within ``timeout_s`` (the readiness probe)."""
        with pymongo.timeout(timeout_s):
            self.client.admin.command("ping")

    def close(self) -> None:
        self._client.close()
