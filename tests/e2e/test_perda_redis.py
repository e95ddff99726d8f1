"""Redis loses everything while the CRM publishes: the order of events must not go back.

Before, the counter started again at 1 and every later event for a product stored before
was discarded as obsolete, silently, and API edits answered 409. Real bridge and worker
processes, the CRM publishing as its own Redis user; the loss is a FLUSHALL, or Redis
restarted empty on the same port.
"""

from __future__ import annotations

import re

import pytest

from adapters.sequencia import seq_da_entrada
from devstack import procs
from tests.conftest import make_key
from tests.e2e.test_sync_pipeline import estoque_de, produto

pytestmark = pytest.mark.e2e

IDS = range(9101, 9111)


def publicar_e_esperar(pipeline, estoque: int) -> None:
    pipeline.wait(lambda: pipeline.redis.pubsub_numsub("produtos")[0][1] >= 1, what="bridge subscribed")
    for java_id in IDS:
        pipeline.crm.publish("produtos", produto("atualizado", java_id, estoque))
    pipeline.wait(
        lambda: all(estoque_de(pipeline, java_id) == estoque for java_id in IDS),
        timeout=90,
        what=f"every product at estoque {estoque}",
    )


def editar_pela_api(pipeline, estoque: int) -> int:
    key = make_key(pipeline.app, ("admin",), "drill")
    produto_id = pipeline.api_get(f"/produtos?java_id={IDS[0]}")[0]["id"]
    resp = pipeline.app.test_client().patch(
        f"/produtos/{produto_id}", json={"estoque": estoque}, headers={"Authorization": f"Bearer {key}"}
    )
    return resp.status_code


@pytest.mark.parametrize("perda", ["flushall", "reinicio-vazio"])
def test_events_and_edits_after_redis_lost_its_data_apply(pipeline, perda):
    pipeline.start_worker()
    pipeline.start_bridge()
    publicar_e_esperar(pipeline, 1)
    assert editar_pela_api(pipeline, 5) == 200
    if perda == "flushall":
        pipeline.admin.flushall()
    else:
        procs.stop(pipeline.redis_proc)
        pipeline.redis_proc = pipeline.start_redis()
    publicar_e_esperar(pipeline, 2)  # newer than what MongoDB holds: each one applies
    assert editar_pela_api(pipeline, 7) == 200
    assert estoque_de(pipeline, IDS[0]) == 7


def epoca(pipeline) -> bytes | None:
    return pipeline.crm.get("ponte:eventos:epoca")  # what the CRM reads, as the CRM


def test_stream_entries_lost_with_redis_are_applied_once_when_the_crm_sends_them_again(pipeline):
    """The CRM's outbox holds every entry it sent (id -> fields). Entries Redis took and
    lost before the bridge read them reach MongoDB only through the resend; entries already
    applied, sent again, must not be written again over newer data. Sent newest first: with
    a number taken on reading, the older resends would overwrite the newer."""
    worker = pipeline.start_worker()
    bridge = pipeline.start_bridge()
    outbox: dict[str, dict] = {}

    def xadd(estoque: int) -> None:
        for java_id in IDS:
            fields = {"canal": "produtos", "payload": produto("atualizado", java_id, estoque)}
            outbox[pipeline.crm.xadd("ponte:eventos", fields).decode()] = fields

    pipeline.wait(lambda: epoca(pipeline) is not None, what="the stream's epoch")
    visto = epoca(pipeline)
    xadd(1)
    pipeline.wait(lambda: all(estoque_de(pipeline, j) == 1 for j in IDS), timeout=90, what="estoque 1 applied")
    bridge.close()  # nobody reads: the next entries are only in Redis when it loses them
    xadd(2)
    procs.stop(pipeline.redis_proc)
    pipeline.redis_proc = pipeline.start_redis()
    assert estoque_de(pipeline, IDS[0]) == 1  # estoque 2 was lost with Redis's data
    pipeline.start_bridge()
    pipeline.wait(lambda: epoca(pipeline) not in (None, visto), what="a new epoch: the CRM is to send again")
    for original in sorted(outbox, key=seq_da_entrada, reverse=True):
        pipeline.crm.xadd("ponte:eventos", {**outbox[original], "reenvio_de": original})

    def resultados() -> dict[str, list[str]]:
        por_evento: dict[str, list[str]] = {}
        for event_id, resultado in re.findall(r"evento event_id=s-(\S+) .* resultado=(\w+)", worker.output()):
            por_evento.setdefault(event_id, []).append(resultado)
        return por_evento

    pipeline.wait(lambda: sum(map(len, resultados().values())) == 3 * len(IDS), timeout=90, what="the resends handled")
    feitos = resultados()
    assert set(feitos) == set(outbox)  # each resend is its original entry
    obsoletos = [i for i, r in feitos.items() if r[-1] == "obsoleto"]
    assert sorted(obsoletos) == sorted(i for i, f in outbox.items() if '"estoque": 1' in f["payload"])
    assert all(len(r) == 1 or r == [r[0], "obsoleto"] for r in feitos.values())  # written at most once
    assert all(estoque_de(pipeline, j) == 2 for j in IDS)
