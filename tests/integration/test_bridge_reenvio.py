"""A stream entry sent again by the CRM (``reenvio_de``) and the epoch that asks for it
(real redis-server, real Celery producer): the resend is its original entry, same event id
and same number; a ``reenvio_de`` that names no earlier entry is refused."""

from __future__ import annotations

import base64
import json

import pytest

from adapters.despachante import FILA_SYNC, TASK_REJEITAR
from adapters.sequencia import seq_da_entrada
from tests.helpers import wait_for
from tests.integration.test_bridge_lotes import RAPIDO, tarefas
from tests.integration.test_bridge_stream_falhas import STREAM, Falhas, enfileirados, evento, ponte  # noqa: F401

EPOCA = f"{STREAM}:epoca"


def motivos(client) -> list[str]:
    """The reasons of the dead letters in the sync queue (a kombu message: body = [args, ...])."""
    corpos = [json.loads(base64.b64decode(json.loads(raw)["body"])) for raw in client.lrange(FILA_SYNC, 0, -1)]
    return [corpo[0][1] for corpo in corpos if len(corpo[0]) > 1]


def test_an_entry_sent_again_is_its_original_entry(ponte, redis_proprio):  # noqa: F811
    ponte(Falhas())
    original = redis_proprio.xadd(STREAM, {"canal": "produtos", "payload": evento(3, 1.0)}).decode()
    redis_proprio.xadd(STREAM, {"canal": "produtos", "payload": evento(3, 1.0), "reenvio_de": original})
    wait_for(lambda: len(enfileirados(redis_proprio)) == 2, **RAPIDO, what="both enqueued")
    primeira, segunda = enfileirados(redis_proprio)
    assert primeira["event_id"] == segunda["event_id"] == f"s-{original}"
    assert primeira["seq"] == segunda["seq"] == seq_da_entrada(original)


@pytest.mark.parametrize("reenvio_de", ["abc", "1-", "99999999999999-0", "0-0 ", ""])
def test_a_resend_of_no_earlier_entry_is_refused(ponte, redis_proprio, reenvio_de):  # noqa: F811
    ponte(Falhas())
    redis_proprio.xadd(STREAM, {"canal": "produtos", "payload": evento(4, 1.0), "reenvio_de": reenvio_de})
    wait_for(lambda: tarefas(redis_proprio), **RAPIDO, what="a task")
    [(nome, [envelope])] = tarefas(redis_proprio)
    assert nome == TASK_REJEITAR and envelope["canal"] == "produtos"
    assert motivos(redis_proprio) == [f"reenvio_de inválido: {reenvio_de!r} não é o id de uma entrada anterior"]
    wait_for(lambda: redis_proprio.xpending(STREAM, "g")["pending"] == 0, **RAPIDO, what="refused, not left pending")


def test_the_epoch_is_set_with_the_group_and_changes_when_redis_loses_it(ponte, redis_proprio):  # noqa: F811
    ponte(Falhas(), lock_ttl_ms=300)
    wait_for(lambda: redis_proprio.get(EPOCA), **RAPIDO, what="an epoch")
    primeira = redis_proprio.get(EPOCA)
    redis_proprio.flushall()
    wait_for(lambda: redis_proprio.get(EPOCA) not in (None, primeira), **RAPIDO, what="a new epoch")
    entrada = redis_proprio.xadd(STREAM, {"canal": "produtos", "payload": evento(5, 1.0)}).decode()
    wait_for(lambda: enfileirados(redis_proprio), **RAPIDO, what="an entry written after the loss read")
    assert enfileirados(redis_proprio)[0]["event_id"] == f"s-{entrada}"
