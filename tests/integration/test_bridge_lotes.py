"""How the bridge groups pub/sub messages into sync tasks (real Redis, real Celery producer).

A lone message goes at once while the workers keep up; while the sync queue still holds
a task nobody has taken, the bridge keeps gathering (bounded by BRIDGE_BATCH_ESPERA_MS)
so that a steady stream near the workers' rate becomes fewer, larger tasks instead of a
backlog of one-event tasks. Each test has its own redis-server: the sync queue's length
is what is being tested, and other tests leave tasks in the shared one.
"""

from __future__ import annotations

import base64
import json
import threading
import time

import pytest

from adapters.despachante import FILA_SYNC, TASK_APLICAR, TASK_APLICAR_LOTE, CeleryDespachante, celery_produtor
from bridge.core import Bridge, BridgeConfig
from tests.helpers import wait_for

# The bridge answers within milliseconds here: poll often, give up after 5 s.
RAPIDO = {"timeout": 5, "interval": 0.005}


@pytest.fixture
def ponte(redis_proprio):
    """Start a bridge on the ``produtos`` channel; yields a function that does it."""
    started = []

    def start(espera_ms: int, despachante_cls=CeleryDespachante) -> Bridge:
        url = "redis://{host}:{port}/0".format(**redis_proprio.connection_pool.connection_kwargs)
        despachante = despachante_cls(celery_produtor(url))
        cfg = BridgeConfig(channels=["produtos"], patterns=[], stream="", group="g", prefix="t",
                           batch_wait_ms=espera_ms)  # fmt: skip
        bridge = Bridge(redis_proprio, despachante, cfg, hash_senha=lambda s, _conta: s)
        thread = threading.Thread(target=bridge.run, daemon=True)
        thread.start()
        started.append((bridge, thread))
        wait_for(
            lambda: redis_proprio.pubsub_numsub("produtos")[0][1] == 1,
            timeout=5,
            interval=0.005,
            what="bridge subscribed",
        )
        return bridge

    yield start
    for bridge, thread in started:
        bridge.stop.set()
        thread.join(10)


def tarefas(client) -> list[tuple[str, list]]:
    """The sync queue, oldest first: (task name, envelopes)."""
    out = []
    for raw in reversed(client.lrange(FILA_SYNC, 0, -1)):  # kombu pushes on the left
        msg = json.loads(raw)
        args = json.loads(base64.b64decode(msg["body"]))[0]
        out.append((msg["headers"]["task"], args[0] if isinstance(args[0], list) else [args[0]]))
    return out


def evento(java_id: int) -> str:
    return json.dumps({"acao": "atualizado", "produto": {"id": java_id, "nome": "X", "preco": 1.0, "estoque": 1}})


def test_a_lone_message_goes_at_once_when_the_queue_is_empty(ponte, redis_proprio):
    ponte(espera_ms=5_000)
    for n in range(3):
        redis_proprio.publish("produtos", evento(n))
        wait_for(lambda: len(tarefas(redis_proprio)) == 1, **RAPIDO, what=f"message {n} enqueued")
        [(nome, envelopes)] = tarefas(redis_proprio)
        assert nome == TASK_APLICAR and json.loads(envelopes[0]["payload"])["produto"]["id"] == n
        redis_proprio.rpop(FILA_SYNC)  # a worker takes it


def test_while_a_task_waits_in_the_queue_messages_are_gathered_into_one(ponte, redis_proprio):
    bridge = ponte(espera_ms=5_000)
    bridge.despachante.enviar({"event_id": "ainda-na-fila"})  # no worker took it yet
    for n in range(5):  # a steady stream: each message arrives alone, read before the next
        redis_proprio.publish("produtos", evento(100 + n))
        wait_for(lambda n=n: bridge.stats.values["recebidos"] == n + 1, **RAPIDO, what="read")
    assert len(tarefas(redis_proprio)) == 1  # held back: the queue is still busy
    redis_proprio.rpop(FILA_SYNC)  # a worker takes the waiting task

    wait_for(lambda: len(tarefas(redis_proprio)) == 1, **RAPIDO, what="the gathered batch")
    [(nome, envelopes)] = tarefas(redis_proprio)
    assert nome == TASK_APLICAR_LOTE
    assert [json.loads(e["payload"])["produto"]["id"] for e in envelopes] == [100, 101, 102, 103, 104]
    assert [e["seq"] for e in envelopes] == sorted(e["seq"] for e in envelopes)


def test_gathering_is_bounded_when_the_queue_never_drains(ponte, redis_proprio):
    bridge = ponte(espera_ms=300)
    bridge.despachante.enviar({"event_id": "ainda-na-fila"})
    inicio = time.monotonic()
    redis_proprio.publish("produtos", evento(200))

    wait_for(lambda: len(tarefas(redis_proprio)) == 2, **RAPIDO, what="the held message, after the bound")
    assert time.monotonic() - inicio >= 0.3  # held for the bound, never dropped
    assert tarefas(redis_proprio)[1][0] == TASK_APLICAR


def test_a_burst_is_numbered_in_arrival_order_and_counted(ponte, redis_proprio):
    """Messages read together take their numbers with one script call and the counters are
    mirrored once per batch: still one number per message, in arrival order, from the
    counter API writes share, and every message counted."""
    from adapters.sequencia import chave_sequencia

    ponte(espera_ms=0)
    inicio = 8 * 10**15  # numbers taken before, ahead of the clock: the last one + 1 wins
    redis_proprio.set(chave_sequencia("t"), inicio - 1)
    redis_proprio.config_resetstat()
    with redis_proprio.pipeline(transaction=False) as pipe:
        for n in range(300):
            pipe.publish("produtos", evento(1000 + n))
        pipe.publish("produtos", "{nope")  # dead-lettered, numbered all the same
        pipe.execute()
    wait_for(
        lambda: int(redis_proprio.hget("t:bridge:stats", "recebidos") or 0) == 301,
        timeout=5,
        interval=0.005,
        what="every message counted",
    )

    envelopes = [e for nome, envs in tarefas(redis_proprio) if nome != "tasks.sync.rejeitar_evento" for e in envs]
    assert [json.loads(e["payload"])["produto"]["id"] for e in envelopes] == list(range(1000, 1300))
    assert [e["seq"] for e in envelopes] == list(range(inicio, inicio + 300))
    assert int(redis_proprio.get(chave_sequencia("t"))) == inicio + 300
    stats = {k.decode(): int(float(v)) for k, v in redis_proprio.hgetall("t:bridge:stats").items()}
    assert (stats["enfileirados"], stats["rejeitados"]) == (300, 1)
    # One numbering call per read and one counter update per batch, not one of each per message.
    chamadas = {k: v["calls"] for k, v in redis_proprio.info("commandstats").items()}
    numeracoes = chamadas.get("cmdstat_evalsha", 0) + chamadas.get("cmdstat_eval", 0)
    assert 1 <= numeracoes <= 30 and chamadas["cmdstat_hincrby"] <= 4 * 30, chamadas


class _FilaIlegivel(CeleryDespachante):
    """A broker that takes tasks but cannot say how many wait (e.g. its own outage)."""

    def sync_em_espera(self) -> int:
        raise ConnectionError("broker unreachable")


def test_when_the_queue_cannot_be_read_messages_go_at_once(ponte, redis_proprio):
    bridge = ponte(espera_ms=600_000, despachante_cls=_FilaIlegivel)  # gathering would outlast the wait
    bridge.despachante.enviar({"event_id": "ainda-na-fila"})
    redis_proprio.publish("produtos", evento(300))

    wait_for(lambda: len(tarefas(redis_proprio)) == 2, **RAPIDO, what="the message, not held")


def test_stopping_sends_what_is_held_at_once(ponte, redis_proprio):
    """A bridge that stops (or loses the leader lock: a new leader may be listening
    already) sends the messages it is holding instead of waiting out the bound."""
    bridge = ponte(espera_ms=600_000)
    bridge.despachante.enviar({"event_id": "ainda-na-fila"})
    redis_proprio.publish("produtos", evento(400))
    wait_for(lambda: bridge.stats.values["recebidos"] == 1, **RAPIDO, what="the message read and held")
    assert len(tarefas(redis_proprio)) == 1

    bridge.stop.set()
    wait_for(lambda: len(tarefas(redis_proprio)) == 2, **RAPIDO, what="the held message, sent on stop")
