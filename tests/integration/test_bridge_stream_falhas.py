"""The bridge under Redis failures (real redis-server, real Celery producer).

A Redis error must never end an input thread while the bridge still calls itself the
leader, and a stream entry read again (claimed from a dead bridge, or after its XACK
failed) keeps its ``seq`` (its id's time): "last write wins" must not let an older update
overwrite a newer one.

Failures are injected in the bridge's own connections (``ConnectionError`` on the
commands named in ``falhas``), so they hit a command whether sent alone or in a pipeline.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import redis

from adapters.despachante import TASK_REJEITAR, CeleryDespachante, celery_produtor
from adapters.sequencia import seq_da_entrada
from bridge.core import Bridge, BridgeConfig
from tests.helpers import wait_for
from tests.integration.test_bridge_lotes import RAPIDO, tarefas

STREAM, GROUP = "s", "g"


class Falhas:
    """Commands that fail (``ConnectionError``) on the bridge's connections while listed."""

    def __init__(self):
        self.comandos: set[bytes] = set()
        self.vezes = 0


def cliente_com_falhas(port: int, falhas: Falhas) -> redis.Redis:
    class Conexao(redis.Connection):
        def send_packed_command(self, command, check_health=True):
            dados = command if isinstance(command, bytes) else b"".join(bytes(c) for c in command)
            for nome in list(falhas.comandos):
                if b"\r\n" + nome + b"\r\n" in dados:
                    falhas.vezes += 1
                    self.disconnect()
                    raise redis.ConnectionError(f"injected failure of {nome.decode()}")
            return super().send_packed_command(command, check_health)

    return redis.Redis(connection_pool=redis.ConnectionPool(connection_class=Conexao, host="127.0.0.1", port=port))


@pytest.fixture
def ponte(redis_proprio):
    """Start a bridge whose connections fail as ``falhas`` says; yields a function that does it."""
    started = []
    port = redis_proprio.connection_pool.connection_kwargs["port"]

    def start(falhas: Falhas, canais=(), stream=STREAM, lock_ttl_ms=1000, consumer=None, esperar_lider=True):
        extra = {"consumer": consumer} if consumer else {}
        cfg = BridgeConfig(channels=list(canais), patterns=[], stream=stream, group=GROUP, prefix="t",
                           lock_ttl_ms=lock_ttl_ms, batch_wait_ms=0, **extra)  # fmt: skip
        despachante = CeleryDespachante(celery_produtor(f"redis://127.0.0.1:{port}/0"))
        bridge = Bridge(cliente_com_falhas(port, falhas), despachante, cfg, hash_senha=lambda s, _conta: s)
        thread = threading.Thread(target=bridge.run, kwargs={"poll_s": 0.1}, daemon=True)
        started.append((bridge, thread))
        if esperar_lider:
            thread.start()
            wait_for(bridge.leading.is_set, **RAPIDO, what="bridge is the leader")
        return bridge, thread

    yield start
    for bridge, thread in started:
        bridge.stop.set()
        if thread.is_alive():
            thread.join(10)


def evento(java_id: int, preco: float) -> str:
    return json.dumps({"acao": "atualizado", "produto": {"id": java_id, "nome": "X", "preco": preco, "estoque": 1}})


def enfileirados(client) -> list[dict]:
    """Every envelope the bridge enqueued, oldest first (dead letters left out)."""
    return [e for nome, envs in tarefas(client) if nome != TASK_REJEITAR for e in envs]


def preco(envelope: dict) -> float:
    return json.loads(envelope["payload"])["produto"]["preco"]


def vence(envelopes: list[dict], java_id: int) -> dict:
    """The envelope "last received wins" applies last for a product: the highest seq."""
    return max((e for e in envelopes if json.loads(e["payload"])["produto"]["id"] == java_id), key=lambda e: e["seq"])


def pendentes(client) -> int:
    return client.xpending(STREAM, GROUP)["pending"]


# -- defect 1: a Redis error never silently ends an input -------------------------------
def test_a_failed_xack_does_not_stop_the_stream_intake(ponte, redis_proprio):
    falhas = Falhas()
    bridge, _ = ponte(falhas)
    falhas.comandos.add(b"XACK")
    redis_proprio.xadd(STREAM, {"canal": "produtos", "payload": evento(1, 1.0)})
    wait_for(
        lambda: len(enfileirados(redis_proprio)) == 1 and falhas.vezes > 0,
        **RAPIDO,
        what="E1 enqueued, its XACK failed",
    )
    falhas.comandos.clear()

    redis_proprio.xadd(STREAM, {"canal": "produtos", "payload": evento(2, 2.0)})
    wait_for(
        lambda: any(preco(e) == 2.0 for e in enfileirados(redis_proprio)),
        **RAPIDO,
        what="E2 enqueued after the failure",
    )
    assert bridge.leading.is_set()
    # E1, left pending by the failed XACK, is claimed again and acknowledged this time.
    wait_for(lambda: pendentes(redis_proprio) == 0, **{**RAPIDO, "timeout": 10}, what="every entry acknowledged")


def test_a_consumer_group_that_cannot_be_created_at_first_is_retried(ponte, redis_proprio):
    falhas = Falhas()
    falhas.comandos.add(b"XGROUP")
    ponte(falhas)
    wait_for(lambda: falhas.vezes > 0, **RAPIDO, what="XGROUP CREATE failed")
    redis_proprio.xadd(STREAM, {"canal": "produtos", "payload": evento(1, 1.0)})
    falhas.comandos.clear()
    wait_for(lambda: len(enfileirados(redis_proprio)) == 1, **RAPIDO, what="the entry enqueued once the group exists")


def test_a_subscribe_that_fails_at_first_is_retried(ponte, redis_proprio):
    falhas = Falhas()
    falhas.comandos.add(b"SUBSCRIBE")
    bridge, _ = ponte(falhas, canais=["produtos"], stream="")
    wait_for(lambda: falhas.vezes > 0, **RAPIDO, what="SUBSCRIBE failed")
    falhas.comandos.clear()
    wait_for(lambda: redis_proprio.pubsub_numsub("produtos")[0][1] == 1, **RAPIDO, what="bridge subscribed")
    redis_proprio.publish("produtos", evento(1, 1.0))
    wait_for(lambda: len(enfileirados(redis_proprio)) == 1, **RAPIDO, what="the message enqueued")
    assert bridge.leading.is_set()


def test_an_input_thread_that_ends_is_noticed_and_started_again(ponte, redis_proprio):
    """Whatever ends an input thread, the bridge does not go on as a leader without it."""
    falhas = Falhas()
    bridge, thread = ponte(falhas, esperar_lider=False)
    original = bridge.stream.loop
    chamadas = []

    def morre_na_primeira(lost):
        chamadas.append(1)
        if len(chamadas) > 1:
            original(lost)

    bridge.stream.loop = morre_na_primeira
    thread.start()
    redis_proprio.xadd(STREAM, {"canal": "produtos", "payload": evento(1, 1.0)})
    wait_for(lambda: len(enfileirados(redis_proprio)) == 1, **RAPIDO, what="the entry enqueued by a new stream thread")
    assert len(chamadas) == 2 and bridge.leading.is_set()


# -- defect 2: an entry read again keeps its first seq ------------------------------------
def test_an_entry_claimed_from_a_dead_bridge_keeps_its_seq(ponte, redis_proprio):
    """Bridge A reads E1 (price 1.0) and stops before its XACK; bridge B reads E2 (price
    2.0), then claims E1: E2 was received last, so E2's price must win."""
    falhas_a = Falhas()
    a, thread_a = ponte(falhas_a, lock_ttl_ms=5000, consumer="a")  # A never reclaims during the test
    falhas_a.comandos.add(b"XACK")
    redis_proprio.xadd(STREAM, {"canal": "produtos", "payload": evento(7, 1.0)})
    wait_for(
        lambda: len(enfileirados(redis_proprio)) == 1 and falhas_a.vezes > 0, **RAPIDO, what="A enqueued E1, no XACK"
    )
    a.stop.set()  # A goes away: E1 is left pending, with A
    thread_a.join(10)
    assert redis_proprio.xpending(STREAM, GROUP)["consumers"] == [{"name": b"a", "pending": 1}]

    # B claims entries idle for 3 s: E1 (read well under a second ago) is not yet, so B
    # reads E2 before it claims E1 (a wide margin: a loaded CI machine stalls).
    ponte(Falhas(), lock_ttl_ms=3000, consumer="b")
    redis_proprio.xadd(STREAM, {"canal": "produtos", "payload": evento(7, 2.0)})
    wait_for(
        lambda: pendentes(redis_proprio) == 0 and len(enfileirados(redis_proprio)) == 3,
        **RAPIDO,
        what="B took E2, then E1",
    )

    e1_a, e2, e1_b = enfileirados(redis_proprio)
    assert [preco(e1_a), preco(e2), preco(e1_b)] == [1.0, 2.0, 1.0]
    assert e1_b["event_id"] == e1_a["event_id"] and e1_b["seq"] == e1_a["seq"] < e2["seq"]
    assert preco(vence(enfileirados(redis_proprio), 7)) == 2.0
    assert e1_b["seq"] == seq_da_entrada(e1_a["event_id"].removeprefix("s-"))  # the entry's own time


def test_an_entry_read_again_after_a_failed_xack_keeps_its_seq(ponte, redis_proprio):
    falhas = Falhas()
    ponte(falhas)
    falhas.comandos.add(b"XACK")
    redis_proprio.xadd(STREAM, {"canal": "produtos", "payload": evento(8, 1.0)})
    wait_for(
        lambda: len(enfileirados(redis_proprio)) == 1 and falhas.vezes > 0,
        **RAPIDO,
        what="E1 enqueued, its XACK failed",
    )
    falhas.comandos.clear()
    redis_proprio.xadd(STREAM, {"canal": "produtos", "payload": evento(8, 2.0)})
    wait_for(
        lambda: pendentes(redis_proprio) == 0 and len(enfileirados(redis_proprio)) == 3,
        **RAPIDO,
        what="E2, then E1 again",
    )

    e1, e2, e1_outra_vez = enfileirados(redis_proprio)
    assert e1_outra_vez["event_id"] == e1["event_id"] and e1_outra_vez["seq"] == e1["seq"] < e2["seq"]
    assert preco(vence(enfileirados(redis_proprio), 8)) == 2.0


# -- shutdown: what was received is still enqueued ----------------------------------------
class _BrokerVoltaEm:
    """A broker that refuses every enqueue for ``segundos`` (a hiccup), then accepts."""

    def __init__(self, segundos: float):
        self.volta, self.enviados, self.tentativas = time.monotonic() + segundos, [], 0

    def enviar_lote(self, envelopes):
        self.tentativas += 1
        if time.monotonic() < self.volta:
            raise redis.ConnectionError("broker restarting")
        self.enviados.extend(envelopes)

    def enviar(self, envelope, headers=None):
        self.enviar_lote([envelope])


def test_retries_still_wait_while_the_bridge_stops(redis_proprio):
    """After SIGTERM the bridge enqueues what it already received: its retries must wait
    for a short broker hiccup then, not spend every try in an instant."""
    broker = _BrokerVoltaEm(0.5)
    cfg = BridgeConfig(channels=["produtos"], patterns=[], stream="", group="g", prefix="t", consumer="c")
    bridge = Bridge(redis_proprio, broker, cfg, hash_senha=lambda s, _conta: s)
    bridge.stop.set()  # stopping: draining what was read
    lote = [{"event_id": "e1", "canal": "produtos"}, {"event_id": "e2", "canal": "produtos"}]
    assert bridge.flush(lote)
    assert [e["event_id"] for e in broker.enviados] == ["e1", "e2"]


def test_the_drain_after_a_stop_is_bounded(redis_proprio):
    """A broker that stays down must not keep a stopping bridge alive message by message
    (5 tries, ~6 s each) past its stop grace: the retries end with the drain's bound."""
    broker = _BrokerVoltaEm(3600)
    cfg = BridgeConfig(channels=["produtos"], patterns=[], stream="", group="g", prefix="t", consumer="c",
                       drain_max_s=0.3)  # fmt: skip
    bridge = Bridge(redis_proprio, broker, cfg, hash_senha=lambda s, _conta: s)
    bridge.stop.set()
    assert not bridge.flush([{"event_id": "e1", "canal": "produtos"}])
    assert broker.tentativas == 1  # the first wait (0.4 s) would already pass the 0.3 s bound
    assert not bridge.flush([{"event_id": "e2", "canal": "produtos"}])
    assert broker.tentativas == 2  # and so on for every message: one try each


def test_a_channel_name_that_is_not_utf8_does_not_lose_the_batch(redis_proprio):
    lido = []
    cfg = BridgeConfig(channels=[], patterns=["*"], stream="", group="g", prefix="t", consumer="c")
    bridge = Bridge(redis_proprio, _BrokerVoltaEm(0), cfg, hash_senha=lambda s, _conta: s)
    pubsub = redis_proprio.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe("*")
    wait_for(
        lambda: pubsub.get_message(timeout=0.05) is None and redis_proprio.pubsub_numpat() == 1,
        **RAPIDO,
        what="psubscribed",
    )
    redis_proprio.publish(b"produtos\xff", b"{}")
    wait_for(lambda: bridge.pubsub.read(pubsub, 0.05, lido) and lido, **RAPIDO, what="the message read")
    assert lido == [("produtos\ufffd", b"{}")]
    pubsub.close()


def test_a_group_that_disappears_is_created_again_without_replaying_old_entries(ponte, redis_proprio):
    """A stream entry applied yesterday must not come back with a new seq over newer data
    because an operator deleted the consumer group; a first start still reads a stream
    that was written before any bridge ran."""
    redis_proprio.xadd(STREAM, {"canal": "produtos", "payload": evento(9, 1.0)})  # before any bridge
    ponte(Falhas())
    wait_for(
        lambda: len(enfileirados(redis_proprio)) == 1 and pendentes(redis_proprio) == 0,
        **RAPIDO,
        what="E1 read at first start",
    )
    redis_proprio.xgroup_destroy(STREAM, GROUP)
    redis_proprio.xadd(STREAM, {"canal": "produtos", "payload": evento(9, 3.0)})  # written while it was gone
    wait_for(lambda: redis_proprio.xinfo_groups(STREAM), **RAPIDO, what="the group created again")
    redis_proprio.xadd(STREAM, {"canal": "produtos", "payload": evento(9, 2.0)})
    # The group reads in stream order: a replay of E1 would be enqueued before E3 is.
    wait_for(lambda: 2.0 in [preco(e) for e in enfileirados(redis_proprio)], **RAPIDO, what="E3 read")
    assert [preco(e) for e in enfileirados(redis_proprio)] in ([1.0, 2.0], [1.0, 3.0, 2.0])
