"""Redis behind Sentinel, configuration only: a real redis-server and a real sentinel
(``redis-server --sentinel``); the API, its rate limiter and the Celery producer all
reach the master through ``REDIS_URL=sentinel://...``."""

from __future__ import annotations

import subprocess

import pytest
import redis

from adapters.despachante import celery_produtor
from adapters.redis_client import (
    celery_transport_options,
    limiter_storage,
    parse_sentinel,
    redis_from_url,
)
from devstack import procs
from tests.helpers import wait_for

MASTER = "ponte-master"


def test_sentinel_urls_are_parsed_like_celerys():
    url = "sentinel://:s3cr%40t@s1:26379/2;sentinel://:s3cr%40t@s2:26380/2"
    assert parse_sentinel(url) == ([("s1", 26379), ("s2", 26380)], "s3cr@t", 2)
    assert celery_transport_options(url, "m") == {"master_name": "m", "sentinel_kwargs": {"password": "s3cr@t"}}
    assert limiter_storage(url, "m") == ("redis+sentinel://:s3cr@t@s1:26379,s2:26380/m", {"db": 2})
    assert celery_transport_options("redis://h:6379/0", "m") == {}
    with pytest.raises(ValueError, match="sentinel://"):
        parse_sentinel("sentinel://a:1;redis://b:2")


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sentinel")
    master_port, sentinel_port = procs.free_port(), procs.free_port()
    log = open(tmp / "redis.log", "w")
    master = procs.start_redis(master_port, log=log)
    conf = tmp / "sentinel.conf"
    conf.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp}\n"
        f"sentinel monitor {MASTER} 127.0.0.1 {master_port} 1\n"
        f"sentinel down-after-milliseconds {MASTER} 5000\n"
    )
    proc = subprocess.Popen(
        [procs.redis_binary(), str(conf), "--sentinel"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:

        def vigiando():
            if proc.poll() is not None:
                raise AssertionError("sentinel exited:\n" + (tmp / "redis.log").read_text())
            return redis.Redis(port=sentinel_port).sentinel_get_master_addr_by_name(MASTER)

        wait_for(vigiando, timeout=15, what="the sentinel to watch its master")
        yield {"url": f"sentinel://127.0.0.1:{sentinel_port}/0", "master": redis.Redis(port=master_port)}
    finally:
        procs.stop(proc)
        procs.stop(master)
        log.close()


def test_clients_find_the_master_through_the_sentinel(sentinel):
    client = redis_from_url(sentinel["url"], MASTER, socket_timeout=3)
    client.set("sentinel:probe", "1")
    assert sentinel["master"].get("sentinel:probe") == b"1"


def test_celery_producer_enqueues_on_the_master(sentinel):
    app = celery_produtor(sentinel["url"])
    app.conf.broker_transport_options = {
        **app.conf.broker_transport_options,
        **celery_transport_options(sentinel["url"], MASTER),
    }
    app.send_task("tasks.sync.aplicar_evento", args=[{"event_id": "x"}], queue="sentinel-q")
    assert sentinel["master"].llen("sentinel-q") == 1


def test_api_and_rate_limiter_work_through_the_sentinel(sentinel, mongo_uri, db_name):
    from webapp import create_app

    app = create_app(
        {
            "PONTE_ENV": "test",
            "MONGO_URI": mongo_uri,
            "MONGO_DB": db_name,
            "REDIS_URL": sentinel["url"],
            "REDIS_SENTINEL_MASTER": MASTER,
            "REDIS_PREFIX": "sentinel",
        }
    )
    try:
        resp = app.test_client().get("/ready")
        assert resp.get_json()["dependencias"]["redis"] == "ok"
        assert app.test_client().get("/produtos").status_code == 200
        # The rate limiter counted the request on the master, not in its memory fallback.
        assert sentinel["master"].keys("*sentinel:rl*"), sentinel["master"].keys("*")
    finally:
        app.extensions["ponte"].close()
