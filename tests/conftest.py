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
from pymongo import MongoClient

from devstack import procs


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    port = procs.free_port()
    log = open(tmp_path_factory.mktemp("redis") / "redis.log", "w")
    proc = procs.start_redis(port, log=log)
    yield f"redis://127.0.0.1:{port}/0"
    procs.stop(proc)
    log.close()


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
    mongo_client.drop_database(name)


@pytest.fixture
def db(mongo_client, db_name):
    return mongo_client[db_name]


@pytest.fixture
def app_config(mongo_uri, redis_url, db_name):
    return {"PONTE_ENV": "test", "MONGO_URI": mongo_uri, "MONGO_DB": db_name, "REDIS_URL": redis_url}


@pytest.fixture
def app(app_config):
    from webapp import create_app

    app = create_app(app_config)
    yield app
    app.extensions["ponte"].close()


@pytest.fixture
def client(app):
    return app.test_client()
