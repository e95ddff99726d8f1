"""The new sections of docs/performance.md (issue #19): both engines at several catalogue
sizes, the default store's flood and initial load, store work per unit of work, and what
logging costs under ``make run``. Rendered by bench.run; ``--only-store`` rewrites them alone
(between the markers below), leaving the rest of the page as the last full run left it.
"""

from __future__ import annotations

import statistics

from bench import store

INICIO = "<!-- bench.relatorio: begin (generated; --only-store rewrites it) -->"
FIM = "<!-- bench.relatorio: end -->"
MOTORES = {"sqlite": "SQLite (the default store, as `make run` configures it)", "memory": "in memory"}


def fmt(x: float, nd: int = 0) -> str:
    return "n/a" if x != x else f"{x:,.{nd}f}"


def _spread(r: dict, nome: str, nd: int = 0) -> str:
    lo, hi = r[f"{nome}_spread"]
    return f"{fmt(lo, nd)}-{fmt(hi, nd)}"


def escala(resultados: dict, runs: int, seconds: int) -> list[str]:
    linhas = [
        "## Both engines by catalogue size",
        "",
        f"A fresh stack per engine and size (API, Celery worker with 2 processes, bridge; bench.escala). Medians of "
        f"{runs} runs, min-max beside them. Sync: a burst of `atualizado` events (the count is in the table: the "
        "default store takes seconds per event at 10,000 products) until every value shows, beside a raw "
        "`bulk_write` of the same writes to a copy of the products on the same server. Checkout: 50 customers "
        f"for {seconds} s, beside the raw replay of one checkout's own MongoDB commands (recorded with a "
        "`CommandListener`, sent again by 8 threads with new ids and a rotating product).",
        "",
        "| engine | products | events | sync events/s | bulk_write/s | sync / ceiling | checkout orders/s | "
        "checkout p99 ms | replay orders/s | checkout / replay | stock exact |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (motor, produtos), r in resultados.items():
        linhas.append(
            f"| {motor} | {produtos:,} | {r['events']:,} | {fmt(r['sync'], 1)} ({_spread(r, 'sync', 1)}) | "
            f"{fmt(r['bulk_write'], 1)} ({_spread(r, 'bulk_write', 1)}) | {r['sync'] / r['bulk_write']:.0%} | "
            f"{fmt(r['checkout'], 1)} ({_spread(r, 'checkout', 1)}) | {fmt(r['p99'])} | "
            f"{fmt(r['replay'], 1)} ({_spread(r, 'replay', 1)}) | {r['checkout'] / r['replay']:.0%} | "
            f"{'yes' if r['stock_exact'] else '**NO**'} |"
        )
    return linhas


def padrao(flood: dict | None, carga: dict | None) -> list[str]:
    linhas = []
    if flood:
        linhas += ["", f"The issue's flood on the default store: {flood['events']:,} `atualizado` events over "
                   f"{flood['produtos']:,} products, one run: **{fmt(flood['sync'])} events/s**, its `bulk_write` "
                   f"ceiling {fmt(flood['bulk_write'])}/s ({flood['sync'] / flood['bulk_write']:.0%})."]  # fmt: skip
    if carga:
        fim = (
            f"all {carga['produtos']:,} in {carga['s']:.0f} s"
            if carga["completo"]
            else f"{carga['feitos']:,} of {carga['produtos']:,} when the bound of {carga['s']:.0f} s stopped it"
        )
        linhas += ["", f"The initial CRM load on the default store (an empty SQLite store, {carga['produtos']:,} "
                   f"`criado` events published at once): **{fmt(carga['rps'], 1)} products/s**, {fim}."]  # fmt: skip
        if carga.get("curva"):
            linhas[-1] += " Products stored, minute by minute: " + ", ".join(
                f"{n:,} at {t} s" for t, n in carga["curva"]) + "."  # fmt: skip
        if "erros" in carga:  # a batch that failed goes one by one: fast enough to hide it
            linhas[-1] += f" Error lines in the worker's log: {carga['erros']:,}."
    return linhas


def trabalho(api: dict, sync: dict, tamanho: int) -> list[str]:
    linhas = [
        "",
        "## Store work per unit of work",
        "",
        f"MongoDB commands one unit of work sends, and the documents their replies return or say they changed "
        f"(pymongo command monitoring, in process, {tamanho:,} products, in-memory engine; the counts are the "
        "application's and carry over to a real MongoDB). mongoeco's `explain` gives no `docsExamined` (and "
        "reports even an `_id` lookup as a scan of the collection), so the last column names what each command "
        "selects by: on MongoDB `_id` and the indexed fields examine only what they return.",
        "",
        "| unit | commands | docs returned | docs changed | commands (selected by) |",
        "|---|---|---|---|---|",
    ]
    for nome, (comandos, n) in sync.items():
        if not nome.startswith("_"):
            linhas.append(_linha(nome, comandos, n))
    for nome, comandos in api.items():
        linhas.append(_linha(nome, comandos, 1))
    return linhas


def _linha(nome: str, comandos: list, n: int) -> str:
    r = store.resumo(comandos, n)
    vistos: dict[str, int] = {}
    for c in comandos:
        chave = f"{c.nome} {c.colecao} ({store.filtro(c)})"
        vistos[chave] = vistos.get(chave, 0) + 1
    quais = "; ".join(f"{k}{f' x{v}' if v > 1 else ''}" for k, v in vistos.items()) or "none"
    nd = 3 if n > 1 else 0
    return f"| {nome} | {fmt(r['comandos'], nd)} | {fmt(r['devolvidos'], nd)} | {fmt(r['alterados'], nd)} | {quais} |"


def logs(medidas: dict[str, dict], seconds: int, runs: int) -> list[str]:
    linhas = [
        "",
        "## Logging under `make run`",
        "",
        f"`make run`'s launcher on the default store (bench.logcost), one cached product read by wrk at 50 "
        f"connections for {seconds} s, {runs} runs (medians), each after the same load on the bare flask-smorest "
        "`hello` app on the same gunicorn configuration (the ceiling, as in *API*); CPU seconds of each role "
        "over a run, from /proc.",
        "",
        "| logging | req/s | vs hello | p99 ms | launcher CPU s | supervisord CPU s | web CPU s | relay / web | "
        "web ms CPU per request |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for nome, r in medidas.items():
        relay = (r["launcher"] + r["supervisord"]) / r["web"] if r["web"] else 0
        por = r["web"] / (r["rps"] * seconds) * 1000 if r["rps"] else float("nan")
        cpu = f"{r['launcher']:.2f} | {r['supervisord']:.2f} | {r['web']:.2f} | {relay:.0%} | {por:.2f}"
        linhas.append(f"| {nome} | {fmt(r['rps'])} | {r['rps'] / r['hello']:.0%} | {fmt(r['p99'], 1)} | {cpu} |")
    return linhas


def metas(dados: dict) -> list[str]:
    """Issue #19's targets that these sections measure, against this run."""
    motor = {n: r for (m, n), r in dados["escala"].items() if m == "sqlite"}
    memoria = {n: r for (m, n), r in dados["escala"].items() if m == "memory"}
    rajada = next(store.resumo(c, n) for nome, (c, n) in dados["sync"].items() if nome.startswith("sync burst"))
    checkout = store.resumo(dados["api"]["POST /pedidos, one item (checkout)"])
    flood, carga, logs_ = dados.get("flood"), dados.get("carga"), dados["logs"]
    relay = next(iter(logs_.values()))
    padrao_ = list(logs_.values())[1]
    linhas = [
        ("default store: sync >= 80% of its bulk_write at every size",
         ", ".join(f"{n:,}: {r['sync'] / r['bulk_write']:.0%}" for n, r in motor.items()),
         all(r["sync"] >= 0.8 * r["bulk_write"] for r in motor.values())),
        ("default store: the 2,000-event flood over 200 products >= 150 events/s (or the store's own ceiling "
         "below it, with the profile: docs/mongoeco.md)",
         f"{fmt(flood['sync'])}/s, ceiling {fmt(flood['bulk_write'])}/s" if flood else "n/a",
         None if not flood else flood["sync"] >= 150 or flood["bulk_write"] < 150),
        ("default store: 10,000-product initial CRM load <= 10 minutes",
         f"{carga['feitos']:,} of {carga['produtos']:,} products in {carga['s']:.0f} s" if carga else "n/a",
         None if not carga else (carga["produtos"] >= 10_000 and carga["completo"] and carga["s"] <= 600)),
        ("in-memory engine: checkout >= 60% of its replay ceiling",
         ", ".join(f"{n:,}: {r['checkout'] / r['replay']:.0%}" for n, r in memoria.items()),
         all(r["checkout"] >= 0.6 * r["replay"] for r in memoria.values())),
        ("in-memory engine: checkout p99 <= 500 ms at 50 customers",
         ", ".join(f"{n:,}: {fmt(r['p99'])} ms" for n, r in memoria.items()),
         all(r["p99"] <= 500 for r in memoria.values())),
        ("sync in bursts <= 0.02 MongoDB commands per event", f"{rajada['comandos']:.3f}", rajada["comandos"] <= 0.02),
        ("a one-item checkout: at most 8 commands", f"{checkout['comandos']:.0f}", checkout["comandos"] <= 8),
        ("default store (make run's defaults): anonymous product reads >= 55% of hello",
         f"{padrao_['rps'] / padrao_['hello']:.0%}", padrao_["rps"] >= 0.55 * padrao_["hello"]),
        ("logging: launcher and relay < 1/5 of the web tier's CPU (make run's default)",
         f"{(padrao_['launcher'] + padrao_['supervisord']) / padrao_['web']:.0%} (every line relayed: "
         f"{(relay['launcher'] + relay['supervisord']) / relay['web']:.0%})",
         padrao_["launcher"] + padrao_["supervisord"] < padrao_["web"] / 5),
    ]  # fmt: skip
    veredito = {True: "yes", False: "**no**", None: "not measured"}
    out = ["", "## Targets (issue #19) these sections measure", "", "| target | measured | met |", "|---|---|---|"]
    return out + [f"| {nome} | {valor} | {veredito[ok]} |" for nome, valor, ok in linhas]


def secao(dados: dict, args) -> str:
    partes = [INICIO, ""]
    partes += escala(dados["escala"], args.runs, args.seconds)
    partes += padrao(dados.get("flood"), dados.get("carga"))
    partes += trabalho(dados["api"], dados["sync"], dados["tamanho_trabalho"])
    partes += logs(dados["logs"], args.log_seconds, args.runs)
    partes += metas(dados)
    partes += ["", FIM]
    return "\n".join(partes)


def substituir(texto: str, nova: str, antes_de: str = "## Targets (issue #7)", inicio: str = INICIO,
               fim: str = FIM) -> str:  # fmt: skip
    """The page with its generated section (between ``inicio`` and ``fim``) replaced, or
    placed before ``antes_de``."""
    if inicio in texto and fim in texto:
        a, b = texto.index(inicio), texto.index(fim) + len(fim)
        return texto[:a] + nova + texto[b:]
    k = texto.find(antes_de)
    return texto[:k] + nova + "\n\n" + texto[k:] if k >= 0 else texto.rstrip() + "\n\n" + nova + "\n"


__all__ = ["secao", "statistics", "substituir"]
