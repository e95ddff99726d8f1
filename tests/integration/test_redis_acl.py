"""The Redis users of deploy/redis_acl.py on a real redis-server: what each principal may do.

The session's Redis runs with the shipped rules (tests/conftest.py); every other test of the
suite runs Ponte as ``ponte`` and publishes as ``crm`` on it, so these are the refusals.
"""

from __future__ import annotations

import json
import os

import pytest
import redis

from deploy import redis_acl
from tests.helpers import wait_for

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TEST_REDIS_URL")), reason="TEST_REDIS_URL: a Redis of your own, without Ponte's users"
)


@pytest.fixture
def crm(redis_users):
    client = redis.Redis.from_url(redis_users[redis_acl.CRM])
    yield client
    client.close()


@pytest.fixture
def crm_pedidos(redis_users):
    client = redis.Redis.from_url(redis_users[redis_acl.CRM_PEDIDOS])
    yield client
    client.close()


@pytest.fixture
def ponte(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_the_crm_publishes_on_its_channels_and_adds_to_the_stream(crm, ponte):
    for channel in ("produtos", "canal-clientes", "carrinho:3", "carrinho:123"):
        assert crm.publish(channel, b"{}") >= 0
    entry = crm.xadd("ponte:eventos", {"canal": "produtos", "payload": "{}"})
    assert ponte.xrange("ponte:eventos", entry, entry)[0][1] == {b"canal": b"produtos", b"payload": b"{}"}
    ponte.xdel("ponte:eventos", entry)


def test_the_crm_reads_the_stream_epoch_and_cannot_write_it(crm, ponte):
    ponte.set("ponte:eventos:epoca", "e1")
    assert crm.get("ponte:eventos:epoca") == b"e1"
    with pytest.raises(redis.exceptions.NoPermissionError):
        crm.set("ponte:eventos:epoca", "outra")
    with pytest.raises(redis.exceptions.NoPermissionError):
        crm.delete("ponte:eventos:epoca")


REFUSED_TO_THE_CRM = {
    "SUBSCRIBE produtos": lambda r: r.execute_command("SUBSCRIBE", "produtos"),
    "GET a key of Ponte's": lambda r: r.get("ponte:bridge:seq"),
    "KEYS": lambda r: r.keys("*"),
    "PUBLISH pedidos": lambda r: r.publish("pedidos", b"{}"),
    "PUBLISH another channel": lambda r: r.publish("outro", b"{}"),
    "XADD another stream": lambda r: r.xadd("outro:stream", {"a": "b"}),
    "XREAD the stream": lambda r: r.xread({"ponte:eventos": "0"}),
    "LPUSH a queue": lambda r: r.lpush("sync", b"x"),
    "FLUSHALL": lambda r: r.flushall(),
    "CONFIG GET": lambda r: r.config_get("maxmemory"),
    "ACL LIST": lambda r: r.acl_list(),
}


@pytest.mark.parametrize("what", REFUSED_TO_THE_CRM)
def test_the_crm_may_do_nothing_else(crm, what):
    with pytest.raises(redis.exceptions.NoPermissionError):
        REFUSED_TO_THE_CRM[what](crm)


def test_the_crm_order_reader_only_subscribes_to_pedidos(crm_pedidos, ponte):
    sub = crm_pedidos.pubsub()
    sub.subscribe("pedidos")
    assert wait_for(lambda: sub.get_message(timeout=0.2), what="the subscription")["type"] == "subscribe"
    # A message as Ponte publishes it (the e2e session checks every one against the contract).
    aviso = json.dumps({
        "pedido_id": "6b0fa137f60ac7bc6aac09c1", "cliente_id": "6b0fa131f60ac7bc6aac09bc", "cliente_java_id": None,
        "status_anterior": "pendente", "status": "confirmado", "em": "2026-12-02T04:40:23.680000+00:00",
    }).encode()  # fmt: skip
    ponte.publish("pedidos", aviso)
    message = wait_for(lambda: sub.get_message(timeout=0.2), what="the order message")
    assert message["data"] == aviso
    sub.close()
    with pytest.raises(redis.exceptions.NoPermissionError):
        crm_pedidos.publish("pedidos", b"{}")
    with pytest.raises(redis.exceptions.NoPermissionError):
        crm_pedidos.get("ponte:bridge:seq")


@pytest.mark.parametrize("command", [("FLUSHALL",), ("CONFIG", "GET", "maxmemory"), ("ACL", "LIST"), ("KEYS", "*")])
def test_ponte_runs_no_administrative_command(ponte, command):
    with pytest.raises(redis.exceptions.NoPermissionError):
        ponte.execute_command(*command)


def test_without_credentials_nothing_answers(redis_url):
    anonymous = redis.Redis.from_url(redis_url.replace(redis_url.split("//")[1].split("@")[0] + "@", ""))
    with pytest.raises(redis.exceptions.AuthenticationError):
        anonymous.get("ponte:bridge:seq")
