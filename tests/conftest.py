"""Shared fixtures: real Redis and a MongoDB-wire server, each test on its own database.

By default the session starts a throwaway ``redis-server`` and a mongoeco server (in
memory) on free ports. Set ``TEST_MONGO_URI`` / ``TEST_REDIS_URL`` to run the very same
suite against a real MongoDB / Redis instead; every test then uses a database named
``ponte_test_<random>`` that it drops at the end.
"""

from __future__ import annotations

import os
import uuid

import pytest
import redis
from pymongo import MongoClient

from deploy import redis_acl
from devstack import procs
from devstack import redis_users as redis_users_lib
from tests.secrets_audit import register

pytest_plugins = ["tests.secrets_audit"]


@pytest.fixture(scope="session")
def redis_users(tmp_path_factory):
    """The session's redis-server, with production's ACL users: URL of each user."""
    if os.environ.get("TEST_REDIS_URL"):
        url = os.environ["TEST_REDIS_URL"]
        yield dict.fromkeys((redis_acl.PONTE, redis_acl.CRM, redis_acl.CRM_PEDIDOS), url)
        return
    folder = tmp_path_factory.mktemp("redis")
    acl_file, passwords = redis_users_lib.prepare(folder)
    for password in passwords.values():
        register(password)
    port = procs.free_port()
    log = open(folder / "redis.log", "w")
    proc = procs.start_redis(port, log=log, acl_file=str(acl_file))
    yield {user: redis_users_lib.url(user, password, port) for user, password in passwords.items()}
    procs.stop(proc)
    log.close()


@pytest.fixture(scope="session")
def redis_url(redis_users):
    """What Ponte's processes use: the ``ponte`` user."""
    return redis_users[redis_acl.PONTE]


@pytest.fixture(scope="session")
def crm_redis_url(redis_users):
    """What the Java CRM publishes with: the ``crm`` user (PUBLISH and XADD only)."""
    return redis_users[redis_acl.CRM]


@pytest.fixture
def redis_proprio():
    """A Redis server of the test's own, with no users: bridge tests kill connections and elect
    leaders; the launcher meets a developer's open Redis."""
    proc = procs.start_redis(procs.free_port())
    port = proc.args[proc.args.index("--port") + 1]
    client = redis.Redis.from_url(f"redis://127.0.0.1:{port}/0")
    yield client
    client.close()
    procs.stop(proc)


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory):
    if os.environ.get("TEST_MONGO_URI"):
        yield os.environ["TEST_MONGO_URI"]
        return
    log = open(tmp_path_factory.mktemp("mongo") / "mongo.log", "w")
    proc, uri = procs.start_mongo(procs.free_port(), engine="memory", log=log)
    yield uri
    procs.stop(proc)
    log.close()


@pytest.fixture(scope="session")
def mongo_client(mongo_uri):
    client = MongoClient(mongo_uri, serverSelectionTimeoutMS=5000, tz_aware=True)
    yield client
    client.close()


@pytest.fixture
def db_name(mongo_client):
    name = f"ponte_test_{uuid.uuid4().hex[:12]}"
    yield name
    try:
        rejeitados_seguem_o_contrato(mongo_client[name])
    finally:
        mongo_client.drop_database(name)


def rejeitados_seguem_o_contrato(db) -> None:
    """Every dead letter a test left broke a rule contracts/asyncapi.yaml states: its
    message fails the schema or a rule, or its reason is one the contract names."""
    from adapters import contrato

    sem_regra = [
        (d["canal"], d["motivo"])
        # Only what Ponte stored (an envelope): a test may insert bare documents to count them.
        for d in db.eventos_rejeitados.find({"envelope": {"$exists": True}}, {"canal": 1, "motivo": 1, "envelope": 1})
        if contrato.classificar(d["canal"], d["envelope"].get("payload", ""), d["motivo"]) is None
    ]
    assert sem_regra == [], "dead letters that break no rule of the contract"


@pytest.fixture
def db(mongo_client, db_name):
    return mongo_client[db_name]


# Argon2 at its cheapest in tests (still argon2id): production parameters are checked
# by a dedicated test; everywhere else they would only slow the suite down.
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1}


@pytest.fixture
def app_config(mongo_uri, redis_url, db_name):
    return {
        "PONTE_ENV": "test",
        "MONGO_URI": mongo_uri,
        "MONGO_DB": db_name,
        "REDIS_URL": redis_url,
        # Rate-limit counters, token deny-list and lock-outs of each test stay apart.
        "REDIS_PREFIX": f"test:{db_name}",
        **FAST_ARGON2,
    }


@pytest.fixture
def app(app_config):
    from webapp import create_app

    app = create_app(app_config)
    yield app
    app.extensions["ponte"].close()


def make_key(app, scopes=("admin",), name="tests") -> str:
    """Create a staff key through the service layer; return the clear key."""
    from services import chaves
    from webapp.deps import build_contexto

    with app.app_context():
        return register(chaves.criar(build_contexto(app, ator="sistema:tests"), name, list(scopes))[1])


@pytest.fixture
def staff_key(app):
    return make_key(app)


@pytest.fixture
def client(app, staff_key):
    """A test client authenticated as staff with the ``admin`` scope."""
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {staff_key}"
    return c


@pytest.fixture
def par(app_config):
    """The same app twice on the same stores: with and without the fast read paths
    (``LEITURA_RAPIDA``), to compare their answers."""
    from webapp import create_app

    rapido = create_app(app_config)
    lento = create_app({**app_config, "LEITURA_RAPIDA": "false"})
    yield rapido, lento
    for a in (rapido, lento):
        a.extensions["ponte"].close()


@pytest.fixture
def anon(app):
    """A test client with no credential."""
    return app.test_client()
