"""``make bench``: the whole benchmark suite, one command, results in docs/performance.md.

Starts everything on loopback (bench.stack), runs the API scenarios with wrk next to
their ceiling (bench.api), the sync burst next to a raw pymongo ``bulk_write`` loop and
the raw ``PUBLISH`` rate (bench.sync), measures memory after the load, prints a table
and rewrites docs/performance.md. Every load is bounded in time and count.

    .venv/bin/python -m bench.run [--runs 3] [--seconds 5] [--produtos 2000] [--clientes 150]
        [--events 1000] [--rates 50,250] [--no-write] [--only-api] [--only-sync] [--only-store] [--only-auth]

Issue #19's sections (both mongoeco engines by catalogue size, store work per unit of work,
logging under ``make run``: bench.escala, bench.store, bench.logcost, rendered by
bench.relatorio) come last; ``--only-store`` runs them alone and rewrites them in place.
``--only-auth`` measures the authenticated reads and checkout latency (bench.autenticadas)
and rewrites its own section.
"""

from __future__ import annotations

import argparse
import pickle
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pymongo import monitoring

from bench import api, autenticadas, escala, logcost, relatorio, store
from bench import sync as syncbench
from bench.stack import SENHA, TETO, Stack, children, pss_rss_kib

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
ESCALAS = (1, 2, 4)
NOTES = Path(__file__).with_name("notes.md")  # the analysis, kept by hand, appended


def fmt(x: float, nd: int = 0) -> str:
    return "n/a" if x != x else f"{x:,.{nd}f}"


def run_api(stack: Stack, runs: int, seconds: int) -> dict[str, dict]:
    base = f"http://127.0.0.1:{stack.api_port}"
    script = api.ids_script(stack.tmp, stack.produto_ids[:1000])
    scenarios = {
        "hello@50": (f"http://127.0.0.1:{stack.hello_port}/hello", 50, None),
        "produto@50": (base, 50, script),
        "produto@200": (base, 200, script),
        "produto@50 sem rate limit": (f"http://127.0.0.1:{stack.nolimit_port}", 50, script),
        "produto@50 via Flask": (f"http://127.0.0.1:{stack.flask_port}", 50, script),
        "lista@50": (f"{base}/produtos?page=1&page_size=50&categoria=Bebidas&ordem=nome", 50, None),
    }
    # Warm-up: both apps, every cache line of the scripted ids.
    for url, _, scr in scenarios.values():
        api.wrk(url, 10, 2, scr)
    results: dict[str, list[dict]] = {name: [] for name in scenarios}
    for _ in range(runs):  # interleaved, so noise moves ceiling and Ponte together
        for name, (url, conns, scr) in scenarios.items():
            results[name].append(api.wrk(url, conns, seconds, scr))
    return {name: api.summary(samples) for name, samples in results.items()}


def run_checkout(stack: Stack, runs: int, seconds: int) -> dict:
    """After the sync runs: the payment tasks it enqueues would compete with them."""
    checkouts = [
        api.checkout(stack.api_port, stack.clientes[i * 50 : (i + 1) * 50], SENHA, stack.produto_ids, seconds, stack.db)
        for i in range(runs)
    ]
    return api.summary(checkouts)


def run_sync(stack: Stack, runs: int, events: int, rates: list[float], seconds: float) -> dict[str, dict]:
    """The pipeline (bridge + Celery worker) next to the store's and Redis's own limits."""
    produtos = stack.db.produtos
    por_java = {d["java_id"]: str(d["_id"]) for d in produtos.find({}, {"java_id": 1}).sort("java_id", 1)}
    java_ids = list(por_java)
    # The ceiling writes to a copy in the same server (seeded with the same documents and
    # indexes, bench.stack): its sequence numbers must not make the pipeline's events look old.
    teto = stack.db[TETO]
    # The first burst after the start meets every product for the first time: the workers
    # read each one once (then share its document id in Redis). Reported on its own row.
    frio, _ = syncbench.burst(stack.redis, produtos, len(java_ids), java_ids, 1_000_000, stack.prefix)
    out: dict[str, list[dict]] = {
        "pipeline": [], "bridge": [], "worker": [], "bulk_write": [], "publish": [], "publish_pipe": []
    }  # fmt: skip
    out |= {f"latency@{rate:g}": [] for rate in rates}
    out["pipeline_frio"] = [{"rps": frio}]
    for run in range(runs):
        offset = 2_000_000 + run * 100_000
        pipeline, ponte = syncbench.burst(stack.redis, produtos, events, java_ids, offset, stack.prefix)
        out["pipeline"].append({"rps": pipeline})
        out["bridge"].append({"rps": ponte})
        seq0 = 10**9 + run * 10**6
        out["bulk_write"].append({"rps": syncbench.ceiling_bulk(teto, events, java_ids, stack.batch_max, seq0)})
        out["publish"].append({"rps": syncbench.publish_rate(stack.redis, events)})
        out["publish_pipe"].append({"rps": syncbench.publish_rate(stack.redis, events, pipelined=True)})
        worker = syncbench.worker_sem_store(stack.mongo_uri, produtos.database.name, stack.redis, stack.prefix,
                                            java_ids, stack.batch_max, 4_000_000 + run * 100_000)  # fmt: skip
        out["worker"].append({"rps": worker})
        for k, rate in enumerate(rates):
            offset = 3_000_000 + run * 100 + k
            lat = syncbench.latency(stack.redis, produtos, rate, seconds, por_java, offset, stack.prefix)
            out[f"latency@{rate:g}"].append({"rps": rate, "p50": syncbench.pct(lat, 50), "p99": syncbench.pct(lat, 99)})
    return {name: api.summary(samples) for name, samples in out.items()}


def run_scaling(stack: Stack, seconds: int, events: int, primeiro_cliente: int) -> dict[int, dict]:
    """One sync burst per Celery concurrency, one checkout run per gunicorn worker count."""
    produtos = stack.db.produtos
    java_ids = [d["java_id"] for d in produtos.find({}, {"java_id": 1}).sort("java_id", 1)]
    out: dict[int, dict] = {}
    for n, processos in enumerate(ESCALAS):
        stack.drain()  # earlier checkouts' payments must not compete with this run
        stack.restart_worker(processos)
        burst, _ = syncbench.burst(stack.redis, produtos, events, java_ids, 5_000_000 + n * 100_000, stack.prefix)
        stack.drain()
        port = stack.start_web(f"web-{processos}", processos)
        clientes = stack.clientes[primeiro_cliente + n * 50 : primeiro_cliente + (n + 1) * 50]
        try:
            pedidos = api.checkout(port, clientes, SENHA, stack.produto_ids, seconds, stack.db)
        finally:
            stack.stop(f"web-{processos}")
        out[processos] = {"sync": burst, "checkout": pedidos["rps"], "checkout_p99": pedidos["p99"]}
    return out


# Celery pool and prefetch for the sync queue: (label, pool, concurrency, prefetch).
POOLS = (
    ("prefork, 2 processes, prefetch 1 (default)", "prefork", 2, 1),
    ("prefork, 2 processes, prefetch 4", "prefork", 2, 4),
    ("threads, 1 process x 4 threads, prefetch 1", "threads", 4, 1),
    ("solo, 1 process, prefetch 1", "solo", 1, 1),
)


def run_pools(stack: Stack, events: int, rate: float, seconds: float) -> dict[str, dict]:
    """One sync burst and one steady-rate run per Celery pool/prefetch setting."""
    produtos = stack.db.produtos
    por_java = {d["java_id"]: str(d["_id"]) for d in produtos.find({}, {"java_id": 1}).sort("java_id", 1)}
    java_ids = list(por_java)
    out: dict[str, dict] = {}
    for n, (label, pool, concurrency, prefetch) in enumerate(POOLS):
        stack.drain()
        stack.restart_worker(concurrency, pool=pool, prefetch=prefetch)
        burst, _ = syncbench.burst(stack.redis, produtos, events, java_ids, 7_000_000 + n * 100_000, stack.prefix)
        lat = syncbench.latency(stack.redis, produtos, rate, seconds, por_java, 8_000_000 + n, stack.prefix)
        pss = sum(p for p, _ in stack.memory()["worker"])
        out[label] = {"sync": burst, "p99": syncbench.pct(lat, 99), "pss": pss}
    stack.restart_worker(2)
    return out


# gunicorn worker class and counts: (label, workers, threads, worker class).
WEBS = (
    ("gthread, 2 workers x 4 threads (default)", 2, 4, "gthread"),
    ("gthread, 4 workers x 2 threads", 4, 2, "gthread"),
    ("gthread, 1 worker x 8 threads", 1, 8, "gthread"),
    ("sync, 2 workers", 2, 1, "sync"),
    ("sync, 4 workers", 4, 1, "sync"),
)


def run_webs(stack: Stack, seconds: int, primeiro_cliente: int) -> dict[str, dict]:
    """Product reads, a filtered list (50 connections) and checkout (50 customers) per
    gunicorn setting, and the memory of that gunicorn (master and workers) after the load."""
    script = api.ids_script(stack.tmp, stack.produto_ids[:1000])
    out: dict[str, dict] = {}
    for n, (label, workers, threads, classe) in enumerate(WEBS):
        name = f"webcfg-{n}"
        port = stack.start_web(name, workers, threads=threads, worker_class=classe)
        base = f"http://127.0.0.1:{port}"
        try:
            # Every scripted id read once: earlier runs' sync bursts and the cache's TTL have
            # left the read cache cold, and the first setting would pay for all of it.
            api.aquecer(base, stack.produto_ids[:1000])
            produto = api.wrk(base, 50, seconds, script)
            lista = api.wrk(f"{base}/produtos?page=1&page_size=50&categoria=Bebidas&ordem=nome", 50, seconds)
            stack.drain()  # earlier payments must not compete with this checkout run
            clientes = stack.clientes[primeiro_cliente + n * 50 : primeiro_cliente + (n + 1) * 50]
            pedidos = api.checkout(port, clientes, SENHA, stack.produto_ids, seconds, stack.db)
            pid = stack.procs[name].pid
            pss = sum(pss_rss_kib(p)[0] for p in [pid, *children(pid)])
        finally:
            stack.stop(name)
        out[label] = {"produto": produto, "lista": lista, "checkout": pedidos, "pss": pss}
    return out


# What logging costs under make run: (label, settings of that stack).
LOGS = (
    ("every line, one access line per request, also to the terminal (ACCESS_LOG=all, LOG_STDOUT_LEVEL=INFO: "
     "relayed by supervisord and the launcher)", {"ACCESS_LOG": "all", "LOG_STDOUT_LEVEL": "INFO"}),
    ("default: access lines for writes, errors and slow requests (ACCESS_LOG=writes); every line in var/log, "
     "warnings to the terminal", {}),
    ("ACCESS_LOG=all: one access line per request, in var/log", {"ACCESS_LOG": "all"}),
    ("no access or info lines (LOG_LEVEL=WARNING)", {"LOG_LEVEL": "WARNING"}),
)  # fmt: skip


# The phases of run_relatorio done so far: a run that fails at its fortieth minute keeps them
# (``--retomar`` goes on from there); removed once the page is written.
PONTO = ROOT / "var" / "bench-relatorio.pickle"


def run_relatorio(args, tmp: Path) -> dict:
    """Issue #19's figures: both engines by catalogue size, the default store's flood and
    initial load, store work per unit of work, logging under make run (bench.relatorio)."""
    gravador = store.Gravador()
    monitoring.register(gravador)  # clients made from now on report to it (only while it records)
    dados: dict = pickle.loads(PONTO.read_bytes()) if args.retomar and PONTO.exists() else {"escala": {}}
    for motor in ("sqlite", "memory"):
        for n in args.escala:
            if (motor, n) in dados["escala"]:
                continue
            events = escala.eventos_sqlite(n) if motor == "sqlite" else args.events_comparacao
            print(f"escala: {motor} at {n:,} products, {events:,} events per burst", flush=True)
            r = escala.medir(motor, n, _pasta(tmp), args.runs, events, args.seconds, gravador)
            dados["escala"][(motor, n)] = r | {"events": events}
            _guardar(dados)
    fases = {
        "flood": lambda: escala.flood(_pasta(tmp), 200, args.events_comparacao),
        "carga": lambda: escala.carga_inicial(_pasta(tmp), args.carga, args.carga_limite_s),
        "api": lambda: _unidades(tmp, gravador, dados),
        "logs": lambda: {nome: logcost.medir(args.log_seconds, args.runs, env) for nome, env in LOGS},
    }
    for nome, fase in fases.items():
        if nome not in dados:
            print(f"relatorio: {nome}", flush=True)
            dados[nome] = fase()
            _guardar(dados)
    return dados


def _unidades(tmp: Path, gravador, dados: dict) -> dict:
    """Store work per unit (``dados["sync"]`` too); the API's units returned."""
    dados["tamanho_trabalho"] = 1_000
    stack = Stack(_pasta(tmp), produtos=1_000, clientes=2)
    try:
        dados["sync"] = store.unidades_sync(stack, gravador, stack.batch_max)
        return store.unidades_api(stack, gravador, stack.clientes[0], SENHA, store.chave_staff(stack))
    finally:
        stack.close()


def _guardar(dados: dict) -> None:
    PONTO.parent.mkdir(exist_ok=True)
    PONTO.write_bytes(pickle.dumps(dados))


def _pasta(tmp: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=tmp))


def memory_table(stack: Stack) -> list[tuple[str, int, int]]:
    rows = []
    for name, values in stack.memory().items():
        for i, (pss, rss) in enumerate(values):
            role = f"{name} {'master' if i == 0 else f'child {i}'}" if len(values) > 1 else name
            rows.append((role, pss, rss))
    return rows


def render(
    results: dict,
    sync: dict,
    mem: list,
    escala: dict,
    pools: dict,
    webs: dict,
    args,
    started: str,
    took: float,
    novos: str = "",
) -> str:
    runs, seconds = args.runs, args.seconds
    rates = ",".join(f"{r:g}" for r in args.rates)
    hello = results["hello@50"]["rps"]
    lines = [
        "# Performance",
        "",
        f"Generated by `make bench` (`.venv/bin/python -m bench.run --runs {runs} --seconds {seconds} "
        f"--produtos {args.produtos} --clientes {args.clientes} --events {args.events} "
        f"--events-comparacao {args.events_comparacao} --rates {rates}`) "
        f"on {started}, {platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}, "
        f"in {took:.0f} s. MongoDB is the in-memory mongoeco stand-in, Redis a local redis-server, "
        "the load generator wrk on the same machine (it competes for the same 2 cores). Every figure "
        f"is the median of {runs} runs of {seconds} s; the spread (min-max of requests/s) is beside it. "
        "Ceilings run interleaved with Ponte's scenarios so machine noise moves both.",
        "",
        "## API",
        "",
        "| scenario | req/s | spread | vs hello | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        ratio = f"{r['rps'] / hello:.0%}" if name != "hello@50" else "ceiling"
        lines.append(
            f"| {name} | {fmt(r['rps'])} | {fmt(r['spread'][0])}-{fmt(r['spread'][1])} | {ratio} | "
            f"{fmt(r['p50'], 1)} | {fmt(r['p99'], 1)} | {fmt(r['errors'])} |"
        )
    co = results["checkout@50"]
    lines += [
        "",
        f"Checkout: stock accounting exact after every run: **{'yes' if co['stock_exact'] == 1 else 'NO'}** "
        "(each product's stock fell by exactly the units of the orders that succeeded; none below 0).",
        "",
        "## CRM sync pipeline",
        "",
        f"Burst: {args.events} `atualizado` events over {args.produtos} existing products, PUBLISHed at once; "
        "events/s from the first PUBLISH until every product shows its last value in MongoDB "
        "(bridge + one Celery worker with 2 processes; the end is watched in Redis, every value then "
        "checked in MongoDB). The ceiling applies the same conditional writes (same filter, same update "
        "document, same indexes) with raw `bulk_write`. Latency: events at a steady rate, each visible "
        "when the worker's cache invalidation (right after its write) shows.",
        "",
        "| measure | events/s | spread | ratio |",
        "|---|---|---|---|",
        f"| pipeline burst | {fmt(sync['pipeline']['rps'])} | {fmt(sync['pipeline']['spread'][0])}-"
        f"{fmt(sync['pipeline']['spread'][1])} | {sync['pipeline']['rps'] / sync['bulk_write']['rps']:.0%} "
        "of bulk_write |",
        f"| first burst after the start, one event per product (each product read once) | "
        f"{fmt(sync['pipeline_frio']['rps'])} | one run | "
        f"{sync['pipeline_frio']['rps'] / sync['bulk_write']['rps']:.0%} of bulk_write |",
        f"| ceiling: raw pymongo bulk_write of the same writes, batches of {args.batch_max} | "
        f"{fmt(sync['bulk_write']['rps'])} | "
        f"{fmt(sync['bulk_write']['spread'][0])}-{fmt(sync['bulk_write']['spread'][1])} | store limit |",
        f"| the bridge alone: first PUBLISH to every event enqueued | {fmt(sync['bridge']['rps'])} | "
        f"{fmt(sync['bridge']['spread'][0])}-{fmt(sync['bridge']['spread'][1])} | "
        f"{sync['bridge']['rps'] / sync['publish_pipe']['rps']:.0%} of pipelined PUBLISH |",
        f"| one worker process, MongoDB time taken out (its own code per batch of {args.batch_max}) | "
        f"{fmt(sync['worker']['rps'])} | {fmt(sync['worker']['spread'][0])}-{fmt(sync['worker']['spread'][1])} | "
        "what the store allows |",
        f"| ceiling: raw PUBLISH, one at a time | {fmt(sync['publish']['rps'])} | {fmt(sync['publish']['spread'][0])}-"
        f"{fmt(sync['publish']['spread'][1])} | Redis limit, as the CRM publishes |",
        f"| ceiling: raw PUBLISH, pipelined (as the burst is sent) | {fmt(sync['publish_pipe']['rps'])} | "
        f"{fmt(sync['publish_pipe']['spread'][0])}-{fmt(sync['publish_pipe']['spread'][1])} | the bridge's limit |",
        "",
        "| steady rate, events/s | publish-to-visible p50 ms | p99 ms |",
        "|---|---|---|",
        *(
            f"| {rate:g} | {fmt(sync[f'latency@{rate:g}']['p50'], 1)} | {fmt(sync[f'latency@{rate:g}']['p99'], 1)} |"
            for rate in args.rates
        ),
        "",
        "## Memory after the load",
        "",
        "| process | PSS MiB | RSS MiB |",
        "|---|---|---|",
    ]
    total = 0
    for role, pss, rss in mem:
        total += pss
        lines.append(f"| {role} | {pss / 1024:.1f} | {rss / 1024:.1f} |")
    lines += [f"| **total** | **{total / 1024:.1f}** | |", ""]
    lines += [
        "## Scaling with processes (one run each)",
        "",
        f"Sync: a burst of {args.events_comparacao} events with the Celery worker at 1, 2 and 4 processes. Checkout: "
        "50 customers against a gunicorn with 1, 2 and 4 workers (4 threads each).",
        "",
        "| processes | sync events/s | checkout orders/s | checkout p99 ms |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {n} | {fmt(r['sync'])} | {fmt(r['checkout'], 1)} | {fmt(r['checkout_p99'])} |" for n, r in escala.items()
    ]
    rate = _ritmo_pools(args.rates)
    lines += [
        "",
        "## Celery pool and prefetch (one run each)",
        "",
        f"The sync queue under each worker setting: a burst of {args.events_comparacao} events, then a steady {rate:g} "
        "events/s (publish-to-visible p99), and the worker's memory (all its processes).",
        "",
        f"| worker | sync burst events/s | p99 ms at {rate:g}/s | worker PSS MiB |",
        "|---|---|---|---|",
        *(f"| {label} | {fmt(r['sync'])} | {fmt(r['p99'])} | {r['pss'] / 1024:.0f} |" for label, r in pools.items()),
        "",
        "## gunicorn worker class and counts (one run each)",
        "",
        "Product reads and the filtered list at 50 connections, then checkout with 50 customers, against a "
        "gunicorn started with each setting (the rest of the stack unchanged), and that gunicorn's memory "
        "(master and workers) after the load.",
        "",
        "| gunicorn | produto req/s | p99 ms | lista req/s | p99 ms | checkout orders/s | p99 ms | errors | PSS MiB |",
        "|---|---|---|---|---|---|---|---|---|",
        *(
            f"| {label} | {fmt(r['produto']['rps'])} | {fmt(r['produto']['p99'], 1)} | {fmt(r['lista']['rps'])} | "
            f"{fmt(r['lista']['p99'], 1)} | {fmt(r['checkout']['rps'], 1)} | {fmt(r['checkout']['p99'])} | "
            f"{fmt(r['produto']['errors'] + r['lista']['errors'] + r['checkout']['errors'])} | "
            f"{r['pss'] / 1024:.0f} |"
            for label, r in webs.items()
        ),
        "",
    ]
    if novos:
        lines += [novos, ""]
    lines += targets(results, sync, mem, max(args.rates))
    lines += ["", NOTES.read_text().rstrip(), ""]
    return "\n".join(lines) + "\n"


def targets(results: dict, sync: dict, mem: list, rate: float) -> list[str]:
    """Issue #7's targets against this run's figures."""
    hello = results["hello@50"]["rps"]
    web = [rss for role, _, rss in mem if role.startswith("web child")]
    celery = [rss for role, _, rss in mem if role.startswith("worker child")]
    bridge = [rss for role, _, rss in mem if role == "bridge"]
    total_pss = sum(pss for _, pss, _ in mem)
    rows = [
        ("GET /produtos/{id} >= 55% of hello", f"{results['produto@50']['rps'] / hello:.0%}",
         results["produto@50"]["rps"] >= 0.55 * hello),
        ("GET /produtos/{id} p99 <= 50 ms at 50 connections", f"{results['produto@50']['p99']:.0f} ms",
         results["produto@50"]["p99"] <= 50),
        ("no errors at 200 connections", f"{results['produto@200']['errors']:.0f}",
         results["produto@200"]["errors"] == 0),
        ("filtered list >= 1,000 req/s", f"{results['lista@50']['rps']:,.0f}", results["lista@50"]["rps"] >= 1000),
        ("filtered list p99 <= 100 ms", f"{results['lista@50']['p99']:.0f} ms", results["lista@50"]["p99"] <= 100),
        ("sync burst >= 2,000 events/s", f"{sync['pipeline']['rps']:,.0f}", sync["pipeline"]["rps"] >= 2000),
        # Not the target itself: whether Ponte's own code would allow it on a faster store.
        ("(the pipeline's own code: bridge, and one worker process with MongoDB time taken out, >= 2,000/s)",
         f"bridge {sync['bridge']['rps']:,.0f}, worker {sync['worker']['rps']:,.0f}",
         min(sync["bridge"]["rps"], sync["worker"]["rps"]) >= 2000),
        ("sync burst >= 50% of bulk_write", f"{sync['pipeline']['rps'] / sync['bulk_write']['rps']:.0%}",
         sync["pipeline"]["rps"] >= 0.5 * sync["bulk_write"]["rps"]),
        ("sync p99 publish-to-visible <= 250 ms at 500 events/s",
         f"{sync[f'latency@{rate:g}']['p99']:.0f} ms at {rate:g}/s",
         None if rate < 500 else sync[f"latency@{rate:g}"]["p99"] <= 250),
        ("checkout: no oversell", "exact" if results["checkout@50"]["stock_exact"] == 1 else "NOT exact",
         results["checkout@50"]["stock_exact"] == 1),
        ("each gunicorn worker <= 80 MB RSS", f"{max(web) / 1024:.0f} MB", max(web) <= 80 * 1024),
        ("each Celery process <= 100 MB RSS", f"{max(celery) / 1024:.0f} MB", max(celery) <= 100 * 1024),
        ("bridge <= 60 MB RSS", f"{max(bridge) / 1024:.0f} MB", max(bridge) <= 60 * 1024),
        ("default stack <= 512 MB PSS", f"{total_pss / 1024:.0f} MB", total_pss <= 512 * 1024),
    ]  # fmt: skip
    out = ["## Targets (issue #7) in this run", "", "| target | measured | met |", "|---|---|---|"]
    verdito = {True: "yes", False: "**no**", None: "not measurable here"}
    out += [f"| {name} | {value} | {verdito[ok]} |" for name, value, ok in rows]
    return out


def _ritmo_pools(rates: list[float]) -> float:
    """The steady rate of the pool comparison: below the store's limit (at it, every
    setting only shows the same backlog)."""
    return min(250.0, max(rates))


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def argumentos() -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--produtos", type=int, default=10_000)
    parser.add_argument("--clientes", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=20_000, help="events per sync burst (the main sync table)")
    parser.add_argument(
        "--events-comparacao", type=int, default=2_000,
        help="events per burst of the comparisons (worker counts, Celery pools): one burst per setting",
    )  # fmt: skip
    parser.add_argument(
        "--rates",
        type=lambda v: [float(x) for x in v.split(",")],
        default=[50.0, 250.0, 500.0],
        help="steady events/s of the latency runs, comma-separated",
    )
    parser.add_argument(
        "--escala",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[200, 1_000, 10_000],
        help="catalogue sizes of the engines' table, comma-separated",
    )
    parser.add_argument("--carga", type=int, default=10_000, help="criado events of the initial load (the target's)")
    parser.add_argument("--carga-limite-s", type=float, default=720, help="bound of the initial load, seconds")
    parser.add_argument("--log-seconds", type=int, default=10, help="seconds of each logging run")
    parser.add_argument(
        "--only-store",
        action="store_true",
        help="issue #19's sections only (engines, store work, logging): rewritten in place",
    )
    parser.add_argument(
        "--only-auth", action="store_true", help="authenticated reads and checkout latency only: rewritten in place"
    )
    parser.add_argument(
        "--retomar", action="store_true", help="--only-store: go on from the phases a failed run kept (var/)"
    )
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md")
    parser.add_argument("--only-api", action="store_true", help="API scenarios only, printed (a quick loop)")
    parser.add_argument("--only-sync", action="store_true", help="sync pipeline and its ceilings only, printed")
    return parser.parse_args()


def main() -> int:
    args = argumentos()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (apt-get install wrk)")
    # SIGTERM (timeout, Ctrl-C in a runner) still stops every process started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ponte-bench-") as tmp:
        if args.only_store:
            return _so_relatorio(args, Path(tmp))
        if args.only_auth:
            return _so_autenticadas(args, Path(tmp))
        clientes = max(args.clientes, 50 * (args.runs + len(ESCALAS) + len(WEBS)))
        stack = Stack(Path(tmp), produtos=args.produtos, clientes=clientes)
        args.batch_max = stack.batch_max
        try:
            print(f"{args.produtos:,} products and {clientes:,} customers loaded in {stack.load_s:.0f} s", flush=True)
            stack.start_all()
            if args.only_sync:
                for name, r in run_sync(stack, args.runs, args.events, args.rates, args.seconds).items():
                    print(f"{name:12} {r['rps']:8,.0f}/s  spread {r['spread'][0]:,.0f}-{r['spread'][1]:,.0f}  {r}")
                return 0
            results = run_api(stack, args.runs, args.seconds)
            if args.only_api:
                for name, r in results.items():
                    print(
                        f"{name:28} {r['rps']:8,.0f} req/s  p50 {r['p50']:6.1f}  p99 {r['p99']:6.1f}  err {r['errors']}"
                    )
                return 0
            sync = run_sync(stack, args.runs, args.events, args.rates, args.seconds)
            results["checkout@50"] = run_checkout(stack, args.runs, args.seconds)
            mem = memory_table(stack)
            escala = run_scaling(stack, args.seconds, args.events_comparacao, primeiro_cliente=50 * args.runs)
            pools = run_pools(stack, args.events_comparacao, _ritmo_pools(args.rates), args.seconds)
            webs = run_webs(stack, args.seconds, primeiro_cliente=50 * (args.runs + len(ESCALAS)))
        finally:
            stack.close()
        novos = relatorio.secao(run_relatorio(args, Path(tmp)), args)
    text = render(results, sync, mem, escala, pools, webs, args, started, time.monotonic() - t0, novos)
    print(text)
    if not args.no_write:
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text)
    return 0


def _so_relatorio(args, tmp: Path) -> int:
    """``--only-store``: issue #19's sections, spliced into the page the last full run wrote."""
    t0 = time.monotonic()
    dados = run_relatorio(args, tmp)
    texto = relatorio.secao(dados, args)
    took = time.monotonic() - t0
    texto = texto.replace(relatorio.INICIO, f"{relatorio.INICIO}\n\n*These sections: `.venv/bin/python -m bench.run "
                          f"--only-store --runs {args.runs} --seconds {args.seconds}`, "
                          f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, {took:.0f} s.*", 1)  # fmt: skip
    print(texto)
    if not args.no_write:
        DOC.write_text(relatorio.substituir(DOC.read_text(), texto))
    PONTO.unlink(missing_ok=True)
    return 0


def _so_autenticadas(args, tmp: Path) -> int:
    """``--only-auth``: the authenticated reads and checkout latency, spliced into the page."""
    gravador = store.Gravador()
    monitoring.register(gravador)
    dados = autenticadas.medir(tmp, args.runs, args.seconds, gravador)
    texto = autenticadas.secao(dados, args.runs, args.seconds, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    print(texto)
    if not args.no_write:
        pagina = relatorio.substituir(DOC.read_text(), texto, inicio=autenticadas.INICIO, fim=autenticadas.FIM)
        DOC.write_text(pagina)
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["main", "statistics"]
