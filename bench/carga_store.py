"""Issue #19's initial CRM load against the default store alone: no bridge, no Celery.

    python -m bench.carga_store --variante ponte --produtos 1000 [--perfil out.prof]

A fresh mongoeco SQLite server (``devstack.mongo_server``, under cProfile with
``--perfil``) gets Ponte's indexes (``adapters.mongo.ensure_indexes``), then ``criado``
events for products it does not have, in batches of ``--lote``, written one way:

- ``ponte``: what a worker does with a batch (``services.sync.aplicar_lote``, audit included);
- ``um_a_um``: the same, its new products created one by one (as before ``criar_varios``);
- ``upsert``: the conditional upserts Ponte's one-by-one path sends, in one ``bulk_write``;
- ``insert``: ``insert_many`` of the same documents;
- ``chave``: upserts whose filter is the CRM id's unique key alone (``$setOnInsert``);
- ``--sem INDEX`` (repeatable, or ``todos``) drops secondary indexes of ``produtos`` first.

Prints products/s per batch, against the store's size before it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from pymongo import MongoClient, UpdateOne

from adapters.mongo import CODEC_OPTIONS, INDEXES, ensure_indexes
from adapters.repositories import MongoAuditoriaRepository, chave_java
from adapters.sync_repositories import MongoProdutoSync, _older_than
from devstack import procs
from domain.eventos import CANAL_PRODUTOS, Envelope, Resultado

PRIMEIRO = 900_000  # CRM ids of the load (as bench.escala's)


def campos(java_id: int) -> dict:
    return {"nome": f"Produto {java_id}", "descricao": None, "preco": Decimal("9.90"), "estoque": 1}


def documento(sync: MongoProdutoSync, java_id: int, seq: int, agora: datetime) -> dict:
    """The document a ``criado`` stores: its upsert's ``$set`` and ``$setOnInsert``, ``versao`` 1."""
    change = sync._change_aplicar(campos(java_id), seq, agora, reviver=True)
    return {**change["$set"], **change["$setOnInsert"], **chave_java(java_id), "java_id": java_id, "versao": 1}


def escrever(db, variante: str, ids: list[int]) -> None:
    sync, agora = MongoProdutoSync(db), datetime.now(UTC)
    if variante in ("ponte", "um_a_um"):
        if variante == "um_a_um":
            sync.criar_varios = lambda eventos, agora: [(Resultado.AUSENTE, None)] * len(eventos)
        _ponte(db, sync, ids)
    elif variante == "insert":
        db.produtos.insert_many([documento(sync, j, j, agora) for j in ids], ordered=True)
    elif variante == "upsert":
        ops = []
        for j in ids:
            change = sync._change_aplicar(campos(j), j, agora, reviver=True)
            change["$setOnInsert"].update(chave_java(j))
            ops.append(UpdateOne({"java_id": j, **_older_than(j)}, change, upsert=True))
        db.produtos.bulk_write(ops, ordered=True)
    elif variante == "chave":
        ops = [UpdateOne(chave_java(j), {"$setOnInsert": documento(sync, j, j, agora)}, upsert=True) for j in ids]
        db.produtos.bulk_write(ops, ordered=True)
    else:
        raise ValueError(variante)


def _ponte(db, sync: MongoProdutoSync, ids: list[int]) -> None:
    from services import sync as servico
    from services.contexto import Contexto

    ctx = Contexto(
        produtos=None, clientes=None, chaves=None, auditoria=MongoAuditoriaRepository(db), hasher=None,
        sync_produtos=sync, sync_clientes=None, rejeitados=None, carrinhos=None, pedidos=None,
        idempotencia=None, estoque=None, pagamentos=None, gateway=None, envios=None, ator="sistema:java",
    )  # fmt: skip
    agora = datetime.now(UTC).isoformat()
    envs = []
    for j in ids:
        produto = {"id": j, "nome": f"Produto {j}", "preco": 9.9, "estoque": 1}
        payload = json.dumps({"acao": "criado", "produto": produto})
        envs.append(Envelope(f"ev-{j}", CANAL_PRODUTOS, payload, agora, seq=j))
    servico.aplicar_lote(ctx, envs)


def carga(variante: str, produtos: int, lote: int, sem: list[str], perfil: str | None, limite_s: float) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        proc, uri = _servidor(f"{tmp}/ponte.sqlite", perfil)
        client = MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=5000, socketTimeoutMS=600_000)
        try:
            db = client.get_database("ponte", codec_options=CODEC_OPTIONS)
            ensure_indexes(db)
            nomes = [m.document["name"] for m in INDEXES["produtos"]] if sem == ["todos"] else sem
            for nome in nomes:
                db.produtos.drop_index(nome)
            linhas, t0 = [], time.monotonic()
            for inicio in range(0, produtos, lote):
                ids = list(range(PRIMEIRO + inicio, PRIMEIRO + min(inicio + lote, produtos)))
                t = time.monotonic()
                escrever(db, variante, ids)
                s = time.monotonic() - t
                linhas.append({"antes": inicio, "n": len(ids), "s": round(s, 3), "pps": round(len(ids) / s, 1)})
                print(json.dumps(linhas[-1]), flush=True)
                if time.monotonic() - t0 > limite_s:
                    break
            assert db.produtos.count_documents({}) == linhas[-1]["antes"] + linhas[-1]["n"]
            return linhas
        finally:
            client.close()
            procs.stop(proc, timeout=60)


def _servidor(path: str, perfil: str | None):
    """``procs.start_mongo``'s server, under cProfile when ``perfil`` names its output
    (written when SIGTERM ends it cleanly)."""
    if not perfil:
        return procs.start_mongo(procs.free_port(), engine="sqlite", path=path)
    import subprocess
    import sys

    port = procs.free_port()
    cmd = [sys.executable, "-m", "cProfile", "-o", perfil, "-m", "devstack.mongo_server"]
    cmd += ["--port", str(port), "--engine", "sqlite", "--path", path]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True)
    line = proc.stdout.readline()
    if not line.startswith("mongoeco ready"):
        procs.stop(proc)
        raise RuntimeError(f"mongoeco did not start: {line!r}")
    return proc, line.split()[2]


def extrapolar(linhas: list[dict], alvo: int = 10_000) -> dict:
    """Least-squares line through the seconds per product of each batch against the store's
    size at its middle (t = a + b*n), and the load of ``alvo`` products it predicts
    (a*N + b*N^2/2): the growth measured, carried on."""
    xs = [x["antes"] + x["n"] / 2 for x in linhas]
    ys = [x["s"] / x["n"] for x in linhas]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / (sum((x - mx) ** 2 for x in xs) or 1)
    a = my - b * mx
    total = a * alvo + b * alvo**2 / 2
    return {"ms_0": round(a * 1e3, 2), "ms_por_1000": round(b * 1e6, 2), "pps_em_alvo": round(1 / (a + b * alvo), 1),
            "s_alvo": round(total), "alvo": alvo}  # fmt: skip


def resumo(perfil: str, n: int = 15) -> None:
    """The server profile's top entries by own time, and by cumulative time within the
    store's engine, each with its share of the profile's total."""
    import pstats

    stats = pstats.Stats(perfil)
    total = stats.total_tt
    linhas = stats.stats.items()  # (file, line, name) -> (calls, ncalls, tottime, cumtime, callers)
    for titulo, k, filtro in (("own", 2, ""), ("cumulative, engines/", 3, "/engines/")):
        print(f"-- top by {titulo} time (total {total:.1f} s)")
        escolhidos = [(f, v) for f, v in linhas if filtro in f[0]]
        for (arquivo, linha, nome), v in sorted(escolhidos, key=lambda x: -x[1][k])[:n]:
            print(f"{v[k] / total:6.1%} {v[k]:8.2f}s {v[1]:>9} {Path(arquivo).name}:{linha}({nome})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variante", choices=("ponte", "um_a_um", "upsert", "insert", "chave"), default="ponte")
    parser.add_argument("--produtos", type=int, default=1000)
    parser.add_argument("--lote", type=int, default=100)
    parser.add_argument("--sem", action="append", default=[], help="an index of produtos to drop first (or todos)")
    parser.add_argument("--perfil", help="cProfile output of the server")
    parser.add_argument("--resumo", help="summarise a server profile written by --perfil, and stop")
    parser.add_argument("--limite-s", type=float, default=300.0, help="stop after the batch that passes it")
    args = parser.parse_args()
    if args.resumo:
        return resumo(args.resumo)
    linhas = carga(args.variante, min(args.produtos, 1000), args.lote, args.sem, args.perfil, args.limite_s)
    total = sum(x["n"] for x in linhas) / sum(x["s"] for x in linhas)
    print(json.dumps({"variante": args.variante, "sem": args.sem, "pps_total": round(total, 1)}))
    if len(linhas) > 2:
        print(json.dumps(extrapolar(linhas)))


if __name__ == "__main__":
    main()
