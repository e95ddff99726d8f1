"""Redis loses everything while the CRM publishes: the order of events must not go back.

Before, the counter started again at 1 and every later event for a product stored before
was discarded as obsolete, silently, and API edits answered 409. Real bridge and worker
processes, the CRM publishing as its own Redis user; the loss is a FLUSHALL, or Redis
restarted empty on the same port.
"""

from __future__ import annotations

import pytest

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
