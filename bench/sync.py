"""Sync-pipeline loads and their ceilings, for bench.run (``--only-sync`` runs them alone).

- ``burst``: N ``atualizado`` events over K existing products ``PUBLISH``ed at once;
  events/s from the first PUBLISH until every product shows its last value;
- ``latency``: events published at a steady rate; publish-to-visible p50/p99 (to within
  the 5 ms polling interval);
- ``ceiling_bulk``: the store's limit: a raw pymongo loop applying the same conditional
  updates (same filter, same update document) with ``bulk_write`` in batches, on a copy
  of the products with the same indexes in the same server;
- ``worker_sem_store``: what one worker process could apply if MongoDB answered at once;
- ``publish_rate``: the raw ``PUBLISH`` rate of one client, one message at a time as
  the Java CRM publishes, or pipelined as the burst is sent.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

from pymongo import MongoClient, monitoring

from adapters.cache import ProdutoCache
from adapters.mongo import CODEC_OPTIONS
from adapters.sequencia import RedisSequencia
from adapters.sync_repositories import MARCAS_FOLGA, MongoProdutoSync
from bootstrap import montar_contexto
from domain.eventos import Envelope
from services import sync

# How often the runs look for the end: Redis only (cheap); MongoDB is read to verify.
POLL_S = 0.005
VERIFY_S = 0.25
FILAS = ("default", "sync", "pagamentos", "envios")


def evento(java_id: int, estoque: int) -> str:
    produto = {"id": java_id, "nome": f"Produto {java_id}", "preco": 9.9, "estoque": estoque}
    return json.dumps({"acao": "atualizado", "produto": produto})


def ocioso(redis) -> bool:
    """Nothing queued and nothing running (tasks are acked late: running ones are in
    ``unacked``)."""
    with redis.pipeline(transaction=False) as pipe:
        for fila in FILAS:
            pipe.llen(fila)
        pipe.hlen("unacked")
        return not any(pipe.execute())


def faltando(col, esperado: dict[int, int]) -> dict[int, int]:
    """The products that do not show their expected stock yet (one query)."""
    pendentes = dict(esperado)
    # mongoeco matches every document against the whole $in list (N x k): for more than a
    # few products one read of the whole collection costs far less.
    filtro = {"java_id": {"$in": list(pendentes)}} if len(pendentes) <= 100 else {}
    for doc in col.find(filtro, {"java_id": 1, "estoque": 1}):
        if pendentes.get(doc["java_id"]) == doc.get("estoque"):
            del pendentes[doc["java_id"]]
    return pendentes


def wait_values(redis, col, esperado: dict[int, int], timeout: float) -> float:
    """When every java_id showed its expected stock.

    mongoeco answers an ``$in`` query by scanning the collection, in the one thread that
    also applies the writes being measured: polling it would slow the pipeline down.
    So the queues are watched in Redis and MongoDB is read only once they are idle (and
    at most every VERIFY_S), which is also when the last write has landed.
    """
    deadline = time.monotonic() + timeout
    pendentes, verificado = dict(esperado), 0.0
    while True:
        now = time.monotonic()
        if now > deadline:
            raise RuntimeError(f"{len(pendentes)} products never reached their last value")
        if now - verificado >= VERIFY_S and ocioso(redis):
            fim = time.monotonic()
            pendentes = faltando(col, pendentes)
            if not pendentes:
                return fim
            verificado = time.monotonic()
        time.sleep(POLL_S)


def burst(redis, col, events: int, java_ids: list[int], offset: int, prefix: str, timeout: float = 600):
    """(pipeline events/s, bridge events/s); ``offset`` makes each run's values new, so
    nothing is already visible. The bridge's rate runs from the first PUBLISH until it
    has enqueued every event (its counters, mirrored in Redis once per batch)."""
    contador = f"{prefix}:bridge:stats"
    base = int(redis.hget(contador, "enfileirados") or 0)
    ultimo = {}
    t0 = time.monotonic()
    with redis.pipeline(transaction=False) as pipe:
        for n in range(events):
            java_id = java_ids[n % len(java_ids)]
            ultimo[java_id] = offset + n
            pipe.publish("produtos", evento(java_id, offset + n))
        pipe.execute()
    deadline = t0 + timeout
    while int(redis.hget(contador, "enfileirados") or 0) < base + events:
        if time.monotonic() > deadline:
            raise RuntimeError("the bridge never enqueued every event")
        time.sleep(POLL_S)
    ponte = time.monotonic()
    return events / (wait_values(redis, col, ultimo, timeout) - t0), events / (ponte - t0)


def latency(redis, col, rate: float, seconds: float, produtos: dict[int, str], offset: int, prefix: str) -> list[float]:
    """Publish-to-visible times (ms) of events sent at ``rate`` for ``seconds``.

    ``produtos``: java_id -> product id. A product counts as visible when its cache
    generation moves (the worker bumps it right after its MongoDB write returns: an
    upper bound, watched in Redis to the POLL_S); every value is then checked in MongoDB.
    """
    java_ids = list(produtos)[: int(rate * seconds)]
    chave = {j: f"{prefix}:cache:produto:{produtos[j]}:gen" for j in java_ids}
    antes = dict(zip(java_ids, redis.mget([chave[j] for j in java_ids]), strict=True))
    publicado: dict[int, float] = {}
    visto: dict[int, float] = {}
    interval = 1 / rate
    start = time.monotonic()
    n = 0
    while n < len(java_ids) or len(visto) < len(java_ids):
        now = time.monotonic()
        if n < len(java_ids) and now >= start + n * interval:
            publicado[java_ids[n]] = time.monotonic()
            redis.publish("produtos", evento(java_ids[n], offset))
            n += 1
            continue
        pendentes = [k for k in publicado if k not in visto]
        if pendentes:
            agora = time.monotonic()
            for k, gen in zip(pendentes, redis.mget([chave[k] for k in pendentes]), strict=True):
                if gen != antes[k]:
                    visto[k] = agora
        if now - start > seconds + 120:
            raise RuntimeError("latency run did not finish")
        time.sleep(POLL_S)
    if perdidos := faltando(col, dict.fromkeys(java_ids, offset)):
        raise RuntimeError(f"{len(perdidos)} products do not show their last value")
    return [(visto[k] - publicado[k]) * 1000 for k in publicado]


def ceiling_bulk(col, events: int, java_ids: list[int], batch: int, seq0: int) -> float:
    """Conditional updates/s applied with raw ``bulk_write`` in batches of ``batch``.

    The very writes a sync batch makes: the same filter (the product's document and CRM
    id, only a newer ``sync_seq``) and the same update document (with its mark),
    built by the same code (``MongoProdutoSync.operacao``), to a collection with the same
    indexes. Document ids are looked up before the clock starts, as a worker remembers
    those of the products it has written.
    """
    col = col.with_options(codec_options=CODEC_OPTIONS)  # Decimal prices, as the application writes them
    sync = MongoProdutoSync(col.database)
    ids = {d["java_id"]: str(d["_id"]) for d in col.find({}, {"java_id": 1})}
    agora = datetime.now(UTC)
    t0 = time.monotonic()
    ops, lote = [], uuid4().hex[:16]
    for n in range(events):
        seq = seq0 + n
        java_id = java_ids[n % len(java_ids)]
        campos = {"nome": f"Produto {java_id}", "preco": Decimal("9.9"), "estoque": n}
        marca = (f"{lote}:{len(ops)}", 1 + MARCAS_FOLGA)
        ops.append(sync.operacao(java_id, "atualizado", campos, seq, agora, doc_id=ids[java_id], marca=marca))
        if len(ops) == batch:
            col.bulk_write(ops, ordered=True)
            ops, lote = [], uuid4().hex[:16]
    if ops:
        col.bulk_write(ops, ordered=True)
    return events / (time.monotonic() - t0)


class _TempoNoStore(monitoring.CommandListener):
    """Adds up the time MongoDB commands took, as pymongo saw it."""

    def __init__(self):
        self.ms = 0.0

    def started(self, event):
        pass

    def succeeded(self, event):
        self.ms += event.duration_micros / 1000

    def failed(self, event):
        self.ms += event.duration_micros / 1000


def worker_sem_store(mongo_uri: str, db_name: str, redis, prefix: str, java_ids: list[int], batch: int,
                     offset: int) -> float:  # fmt: skip
    """Events/s one worker process could apply if MongoDB answered instantly.

    The worker's own code for a batch of known products (``services.sync.aplicar_lote``:
    decoding, the service, building the writes, the audit record, cache invalidation in
    Redis), run in this process on real envelopes; the time pymongo spent in MongoDB
    commands is subtracted. What the pipeline could reach on a store faster than this one.
    """
    tempo = _TempoNoStore()
    client = MongoClient(mongo_uri, event_listeners=[tempo])
    try:
        ctx = montar_contexto(client.get_database(db_name, codec_options=CODEC_OPTIONS), None, "sistema:java",
                              cache=ProdutoCache(redis, prefix, 60))  # fmt: skip
        agora = datetime.now(UTC).isoformat()
        # Numbers from the bridge's own counter: later events must not look old.
        seq0 = RedisSequencia(redis, prefix).reservar(batch)
        lote = [
            Envelope(uuid4().hex, "produtos", evento(java_ids[n % len(java_ids)], offset + n), agora, seq0 + n)
            for n in range(batch)
        ]
        sync.aplicar_lote(ctx, lote[:1])  # the process's first batch builds its repositories
        tempo.ms = 0.0
        t0 = time.monotonic()
        sync.aplicar_lote(ctx, lote)
        fora = (time.monotonic() - t0) * 1000 - tempo.ms
        return batch / (fora / 1000)
    finally:
        client.close()


def publish_rate(redis, messages: int, pipelined: bool = False) -> float:
    """PUBLISHes/s of one client: one round trip each (as the CRM publishes), or all in
    one pipeline (as the burst is sent, the bridge's own ceiling)."""
    payload = evento(1, 1)
    t0 = time.monotonic()
    if pipelined:
        with redis.pipeline(transaction=False) as pipe:
            for _ in range(messages):
                pipe.publish("bench-nobody-listens", payload)
            pipe.execute()
    else:
        for _ in range(messages):
            redis.publish("bench-nobody-listens", payload)
    return messages / (time.monotonic() - t0)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
