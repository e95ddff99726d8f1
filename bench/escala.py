"""Both mongoeco engines at several catalogue sizes, for bench.run (``--only-escala`` alone).

For each engine (``sqlite``: the store as ``make run`` configures it, a file; ``memory``: the
tests' and the rest of the bench's) and catalogue size, a fresh stack (API, Celery worker,
bridge: bench.stack) measures, each next to its in-run ceiling on the same server:

- sync: a burst of ``atualizado`` events, events/s until every value shows, beside a raw
  ``bulk_write`` of the same writes on a copy of the products (bench.sync);
- checkout: 50 customers for a few seconds, orders/s and p99, beside the raw replay of one
  checkout's own commands (bench.store);

and, on the default store, the initial CRM load: ``criado`` events for products the store
does not have, bounded in time (events/s and how many were in when it stopped).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bson import ObjectId

from bench import api, store
from bench import sync as syncbench
from bench.stack import SENHA, TETO, Stack

CLIENTES_POR_RODADA = 50


def _burst_e_teto(stack: Stack, events: int, rodada: int) -> tuple[float, float]:
    java_ids = [d["java_id"] for d in stack.db.produtos.find({}, {"java_id": 1}).sort("java_id", 1)]
    offset = 20_000_000 + rodada * 100_000
    burst, _ = syncbench.burst(stack.redis, stack.db.produtos, events, java_ids, offset, stack.prefix, timeout=900)
    teto = syncbench.ceiling_bulk(stack.db[TETO], events, java_ids, stack.batch_max, 10**12 + rodada * 10**6)
    return burst, teto


def medir(engine: str, produtos: int, tmp: Path, runs: int, events: int, seconds: int, gravador) -> dict:
    """One fresh stack: medians of ``runs`` sync bursts, checkouts and their ceilings."""
    stack = Stack(tmp, produtos=produtos, clientes=CLIENTES_POR_RODADA * runs + 1, engine=engine)
    try:
        stack.start_core()
        # Recorded first (the last customer), so that its ids and product are this stack's.
        comandos = store.gravar_checkout(stack, gravador, stack.clientes[-1], SENHA)
        oids = [ObjectId(p) for p in stack.produto_ids[:200]]
        # Not measured: the products' first events (each worker process reads a product it has
        # never met once, then shares its id: the main sync table's "first burst" row).
        _burst_e_teto(stack, events, 0)  # numbered below the runs': theirs must apply
        linhas: dict[str, list[float]] = {"sync": [], "bulk_write": [], "checkout": [], "p99": [], "replay": []}
        exato = True
        for r in range(runs):
            burst, teto = _burst_e_teto(stack, events, r + 1)
            stack.drain()
            clientes = stack.clientes[r * CLIENTES_POR_RODADA : (r + 1) * CLIENTES_POR_RODADA]
            pedidos = api.checkout(stack.api_port, clientes, SENHA, stack.produto_ids, seconds, stack.db)
            exato &= pedidos["stock_exact"] == 1
            stack.drain()
            replay = store.replay(stack.db.client, comandos, oids, seconds)
            for nome, valor in (("sync", burst), ("bulk_write", teto), ("checkout", pedidos["rps"]),
                                ("p99", pedidos["p99"]), ("replay", replay)):  # fmt: skip
                linhas[nome].append(valor)
        out = {nome: statistics.median(v) for nome, v in linhas.items()}
        out |= {f"{nome}_spread": (min(v), max(v)) for nome, v in linhas.items()}
        return out | {"load_s": stack.load_s, "stock_exact": exato, "comandos_checkout": len(comandos)}
    finally:
        stack.close()


def carga_inicial(tmp: Path, produtos: int, limite_s: float, engine: str = "sqlite") -> dict:
    """``criado`` events for ``produtos`` products the store does not have, published at once:
    events/s until each exists, or how many did within ``limite_s``."""
    stack = Stack(tmp, produtos=0, clientes=1, engine=engine)
    try:
        stack.start_core()
        t0 = time.monotonic()
        with stack.redis.pipeline(transaction=False) as pipe:
            for n in range(produtos):
                pipe.publish("produtos", syncbench.evento(900_000 + n, 1).replace("atualizado", "criado"))
            pipe.execute()
        feitos, curva, marca = 0, [], t0 + 60
        while time.monotonic() - t0 < limite_s:
            time.sleep(1.0)  # the pace of the polling (the load runs in other processes)
            if time.monotonic() >= marca:  # the store's size each minute: how the rate falls
                curva.append((round(time.monotonic() - t0), stack.db.produtos.estimated_document_count()))
                marca += 60
            if syncbench.ocioso(stack.redis):
                feitos = stack.db.produtos.count_documents({})
                if feitos >= produtos:
                    break
        else:
            feitos = stack.db.produtos.estimated_document_count()
        took = time.monotonic() - t0
        # A failed batch is retried event by event: the load completes, slowly (issue #19's $in).
        erros = sum('"level": "ERROR"' in linha for linha in (tmp / "worker.log").open(errors="replace"))
        return {"produtos": produtos, "feitos": feitos, "s": took, "rps": feitos / took, "completo": feitos >= produtos,
                "curva": curva, "erros": erros}  # fmt: skip
    finally:
        stack.close()


def eventos_sqlite(produtos: int) -> int:
    """Events per burst on the default store: its writes take longer the larger the
    catalogue (about half a second each at 10,000 products), and every bench is bounded."""
    return max(50, min(500, 200_000 // max(produtos, 1)))


def flood(tmp: Path, produtos: int, events: int, engine: str = "sqlite") -> dict:
    """The issue's flood, one run: ``events`` over ``produtos`` on a fresh stack, beside its ceiling."""
    stack = Stack(tmp, produtos=produtos, clientes=1, engine=engine)
    try:
        stack.start_core()
        burst, teto = _burst_e_teto(stack, events, 0)
        return {"produtos": produtos, "events": events, "sync": burst, "bulk_write": teto}
    finally:
        stack.close()
