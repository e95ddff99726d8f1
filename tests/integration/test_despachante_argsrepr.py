"""What a sync task shows of its arguments (Flower, the worker's "received" log line) is
the events' ids and channels, never the payload: a customer event carries names,
e-mails and a password hash."""

from __future__ import annotations

import json

from adapters.despachante import FILA_SYNC, CeleryDespachante, celery_produtor


def test_sync_tasks_show_event_ids_not_payloads(redis_proprio):
    port = redis_proprio.connection_pool.connection_kwargs["port"]
    despachante = CeleryDespachante(celery_produtor(f"redis://127.0.0.1:{port}/0"))
    cliente = {"event_id": "ev-7", "canal": "canal-clientes", "payload": '{"email": "maria@example.com"}', "seq": 1}
    despachante.enviar(cliente)
    despachante.enviar_lote([cliente, {**cliente, "event_id": "ev-8"}])
    despachante.rejeitar(cliente, "json inválido")
    mostrados = [json.loads(raw)["headers"]["argsrepr"] for raw in reversed(redis_proprio.lrange(FILA_SYNC, 0, -1))]
    assert mostrados == [
        "[1 evento(s): canal-clientes:ev-7]",
        "[2 evento(s): canal-clientes:ev-7, canal-clientes:ev-8]",
        "[1 evento(s): canal-clientes:ev-7]",
    ]
    assert not any("maria@example.com" in m for m in mostrados)
