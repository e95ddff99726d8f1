"""Sync-pipeline loads and their ceilings, for bench.run and bench/sync_burst.py.

- ``burst``: N ``atualizado`` events over K existing products ``PUBLISH``ed at once;
  events/s from the first PUBLISH until every product shows its last value;
- ``latency``: events published at a steady rate; publish-to-visible p50/p99 (to within
  the 20 ms polling interval);
- ``ceiling_bulk``: the store's limit: a raw pymongo loop applying the same conditional
  updates (newer ``sync_seq`` only) with ``bulk_write`` in batches, on a copy of the
  products in the same server;
- ``publish_rate``: the raw ``PUBLISH`` rate of one client, one message at a time, as
  the Java CRM publishes.
"""

from __future__ import annotations

import json
import time

from pymongo import UpdateOne

# How often the latency run looks for the events it published: its resolution, and a
# load on the store small next to the writes measured.
POLL_S = 0.02


def evento(java_id: int, estoque: int) -> str:
    produto = {"id": java_id, "nome": f"Produto {java_id}", "preco": 9.9, "estoque": estoque}
    return json.dumps({"acao": "atualizado", "produto": produto})


def wait_values(col, esperado: dict[int, int], timeout: float) -> float:
    """Poll until every java_id shows its expected stock; the time it happened."""
    deadline = time.monotonic() + timeout
    pendentes = dict(esperado)
    while pendentes:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pendentes)} products never reached their last value")
        for doc in col.find({"java_id": {"$in": list(pendentes)}}, {"java_id": 1, "estoque": 1}):
            if pendentes.get(doc["java_id"]) == doc.get("estoque"):
                del pendentes[doc["java_id"]]
        if pendentes:
            # Each poll is a query the store must answer too (mongoeco filters in Python):
            # polling often would slow down the very writes being measured.
            time.sleep(0.25)
    return time.monotonic()


def burst(redis, col, events: int, java_ids: list[int], offset: int, timeout: float = 600) -> float:
    """Events/s; ``offset`` makes each run's values new, so nothing is already visible."""
    ultimo = {}
    t0 = time.monotonic()
    with redis.pipeline(transaction=False) as pipe:
        for n in range(events):
            java_id = java_ids[n % len(java_ids)]
            ultimo[java_id] = offset + n
            pipe.publish("produtos", evento(java_id, offset + n))
        pipe.execute()
    return events / (wait_values(col, ultimo, timeout) - t0)


def latency(redis, col, rate: float, seconds: float, java_ids: list[int], offset: int) -> list[float]:
    """Publish-to-visible times (ms) of events sent at ``rate`` for ``seconds``."""
    total = min(int(rate * seconds), len(java_ids))
    publicado: dict[int, float] = {}
    visto: dict[int, float] = {}
    interval = 1 / rate
    start = ultimo_poll = time.monotonic()
    n = 0
    while n < total or len(visto) < total:
        now = time.monotonic()
        if n < total and now >= start + n * interval:
            publicado[java_ids[n]] = time.monotonic()
            redis.publish("produtos", evento(java_ids[n], offset))
            n += 1
            continue
        if now - ultimo_poll >= POLL_S:
            ultimo_poll = now
            pendentes = [k for k in publicado if k not in visto]
            if pendentes:
                for doc in col.find({"java_id": {"$in": pendentes}, "estoque": offset}, {"java_id": 1}):
                    visto.setdefault(doc["java_id"], time.monotonic())
        if now - start > seconds + 120:
            raise RuntimeError("latency run did not finish")
        time.sleep(0.001)
    return [(visto[k] - publicado[k]) * 1000 for k in publicado]


def ceiling_bulk(col, events: int, java_ids: list[int], batch: int, seq0: int) -> float:
    """Conditional updates/s applied with raw ``bulk_write`` in batches of ``batch``."""
    t0 = time.monotonic()
    ops = []
    for n in range(events):
        seq = seq0 + n
        filtro = {"java_id": java_ids[n % len(java_ids)],
                  "$or": [{"sync_seq": {"$lt": seq}}, {"sync_seq": {"$exists": False}}]}  # fmt: skip
        ops.append(UpdateOne(filtro, {"$set": {"estoque": n, "sync_seq": seq}, "$inc": {"versao": 1}}))
        if len(ops) == batch:
            col.bulk_write(ops, ordered=False)
            ops = []
    if ops:
        col.bulk_write(ops, ordered=False)
    return events / (time.monotonic() - t0)


def publish_rate(redis, messages: int) -> float:
    payload = evento(1, 1)
    t0 = time.monotonic()
    for _ in range(messages):
        redis.publish("bench-nobody-listens", payload)
    return messages / (time.monotonic() - t0)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
