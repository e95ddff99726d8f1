"""Store work per unit of work, and the checkout's replay ceiling, for bench.run.

pymongo's command monitoring (a ``CommandListener``) counts, in this process, the MongoDB
commands and the documents they return or change for one unit of work: a sync event in a
burst (a batch of the bridge's size) and in a trickle (a batch of one), an API read or write,
a checkout. The units run in process, on the stack's own MongoDB and Redis, through the same
code the processes run (``services.sync.aplicar_lote``, the Flask app with its fast read path).

mongoeco's ``explain`` reports its plan but no ``docsExamined``/``keysExamined``: each
command's filter is explained once and reported as served through ``_id``/an index or by a
scan of the collection (which examines every document in it).

The replay ceiling: the commands one checkout sent, recorded, then sent again raw by threads
(as gunicorn's), with the ids of the documents the checkout created made new for each replay
and the cart filled again before each (not timed): what the store allows for a checkout's
own commands.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bson import ObjectId
from pymongo import monitoring

ROOT = Path(__file__).resolve().parents[1]

# Commands that write, and what their reply counts.
ESCRITAS = {"insert", "update", "delete", "findAndModify"}
LEITURAS = {"find", "aggregate", "count", "distinct", "getMore"}
IGNORADOS = {"hello", "isMaster", "ismaster", "ping", "endSessions", "buildInfo", "saslStart", "saslContinue",
             "createIndexes", "listIndexes", "killCursors", "explain"}  # fmt: skip


@dataclass
class Comando:
    nome: str
    colecao: str
    db: str
    corpo: dict
    devolvidos: int = 0
    alterados: int = 0


@dataclass
class Gravador(monitoring.CommandListener):
    """Records the commands sent while ``ativo`` (pymongo calls it from any thread)."""

    ativo: bool = False
    comandos: list[Comando] = field(default_factory=list)
    _pendentes: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def started(self, event):
        if self.ativo and event.command_name not in IGNORADOS:
            corpo = copy.deepcopy(dict(event.command))
            cmd = Comando(event.command_name, str(corpo.get(event.command_name, "")), event.database_name, corpo)
            with self._lock:
                self._pendentes[event.request_id] = cmd
                self.comandos.append(cmd)

    def succeeded(self, event):
        with self._lock:
            cmd = self._pendentes.pop(event.request_id, None)
        if cmd is not None:
            cmd.devolvidos, cmd.alterados = contar(event.command_name, event.reply)

    def failed(self, event):
        with self._lock:
            self._pendentes.pop(event.request_id, None)

    def gravar(self, fn) -> list[Comando]:
        """The commands ``fn()`` sent."""
        with self._lock:
            self.comandos, self._pendentes = [], {}
        self.ativo = True
        try:
            fn()
        finally:
            self.ativo = False
        return list(self.comandos)


def contar(nome: str, reply) -> tuple[int, int]:
    """(documents returned, documents changed) from a command's reply."""
    if nome in ("find", "aggregate", "getMore"):
        cursor = reply.get("cursor", {})
        return len(cursor.get("firstBatch", cursor.get("nextBatch", []))), 0
    if nome == "count":
        return 1, 0
    if nome == "findAndModify":
        valor = 1 if reply.get("value") is not None else 0
        le = reply.get("lastErrorObject", {})
        return valor, int(le.get("n", 0)) if (le.get("updatedExisting") or le.get("upserted")) else 0
    if nome == "update":
        return 0, int(reply.get("nModified", reply.get("n", 0))) + len(reply.get("upserted", []))
    if nome in ("insert", "delete"):
        return 0, int(reply.get("n", 0))
    return 0, 0


def resumo(comandos: list[Comando], unidades: int = 1) -> dict:
    """Commands, documents returned and changed per unit, and the commands by name."""
    por_nome: dict[str, int] = {}
    for c in comandos:
        chave = f"{c.nome} {c.colecao}"
        por_nome[chave] = por_nome.get(chave, 0) + 1
    return {
        "comandos": len(comandos) / unidades,
        "devolvidos": sum(c.devolvidos for c in comandos) / unidades,
        "alterados": sum(c.alterados for c in comandos) / unidades,
        "por_nome": por_nome,
    }


# -- the units of work ---------------------------------------------------------------------
def _app(stack, tmp, **extra):
    """Ponte's Flask app in this process, on the stack's stores (fast read path included)."""
    from webapp import create_app

    chaves = ("MONGO_URI", "MONGO_DB", "REDIS_URL", "SECRET_KEY", "RATELIMIT_DEFAULT", "RATELIMIT_LOGIN")
    cfg = {k: stack.env[k] for k in chaves} | {
        "PONTE_ENV": "production",
        "TRUSTED_NETWORK": "true",
        "METRICS_DIR": str(tmp / "metrics-inproc"),
        "LOG_LEVEL": "WARNING",
    }
    return create_app(cfg | extra)


def unidades_api(stack, gravador: Gravador, email: str, senha: str, chave: str) -> dict[str, list[Comando]]:
    """The commands of each API unit of work, through the app in process (WSGI, no socket)."""
    client = _app(stack, stack.tmp).test_client()
    token = client.post("/auth/login", json={"email": email, "senha": senha}).get_json()["access_token"]
    cliente, staff = {"Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {chave}"}
    p1, p2 = stack.produto_ids[5], stack.produto_ids[6]
    client.get(f"/produtos/{p1}")  # the read cache holds p1; p2 is a miss below
    lista = "/produtos?page=1&page_size=50&categoria=Bebidas&ordem=nome"
    passos = {
        "GET /produtos/{id}, cached": lambda: client.get(f"/produtos/{p1}"),
        "GET /produtos/{id}, not cached": lambda: client.get(f"/produtos/{p2}"),
        "GET /produtos/{id} with a staff key": lambda: client.get(f"/produtos/{p1}", headers=staff),
        "GET /clientes/me": lambda: client.get("/clientes/me", headers=cliente),
        "GET /carrinhos/me": lambda: client.get("/carrinhos/me", headers=cliente),
        "PATCH /produtos/{id} (staff)": lambda: client.patch(
            f"/produtos/{p2}", json={"estoque": 999}, headers={**staff, "If-Match": "*"}
        ),
        "GET /produtos filtered page (a miss: after a write)": lambda: client.get(lista),
        "POST /carrinhos/me/itens": lambda: client.post(
            "/carrinhos/me/itens", json={"produto_id": p1, "quantidade": 1}, headers=cliente
        ),
        "POST /pedidos, one item (checkout)": lambda: client.post(
            "/pedidos", json={"pagamento_metodo": "boleto"}, headers=cliente
        ),
    }
    out = {}
    for nome, passo in passos.items():
        respostas: list = []
        out[nome] = gravador.gravar(lambda p=passo, r=respostas: r.append(p()))
        if respostas[0].status_code >= 400:
            raise RuntimeError(f"{nome}: {respostas[0].status_code} {respostas[0].get_data(as_text=True)[:300]}")
    return out


def unidades_sync(stack, gravador: Gravador, lote: int) -> dict[str, tuple[list[Comando], int]]:
    """The commands of a sync batch of ``lote`` events (a burst) and of one event (a
    trickle), known products, through ``services.sync.aplicar_lote`` as a worker runs it."""
    from datetime import UTC, datetime
    from uuid import uuid4

    from pymongo import MongoClient

    from adapters.cache import ProdutoCache
    from adapters.mongo import CODEC_OPTIONS
    from adapters.sequencia import RedisSequencia
    from bench.sync import evento
    from bootstrap import montar_contexto
    from domain.eventos import Envelope
    from services import sync

    client = MongoClient(stack.mongo_uri)
    try:
        ctx = montar_contexto(client.get_database(stack.db.name, codec_options=CODEC_OPTIONS), None, "sistema:java",
                              cache=ProdutoCache(stack.redis, stack.prefix, 60))  # fmt: skip
        java_ids = [d["java_id"] for d in stack.db.produtos.find({}, {"java_id": 1}).limit(lote)]
        agora = datetime.now(UTC).isoformat()

        def envelopes(n: int, base: int) -> list[Envelope]:
            seq0 = RedisSequencia(stack.redis, stack.prefix).reservar(n)
            return [Envelope(uuid4().hex, "produtos", evento(java_ids[k % len(java_ids)], base + k), agora, seq0 + k)
                    for k in range(n)]  # fmt: skip

        sync.aplicar_lote(ctx, envelopes(lote, 9_000_000))  # the process meets the products (their ids)
        rajada = gravador.gravar(lambda: sync.aplicar_lote(ctx, envelopes(lote, 9_100_000)))
        gota = gravador.gravar(lambda: sync.aplicar_lote(ctx, envelopes(1, 9_200_000)))
        frio = gravador.gravar(lambda: sync.aplicar_lote(ctx, envelopes(1, 9_300_000)))
    finally:
        client.close()
    return {f"sync burst (per event, batches of {lote})": (rajada, lote),
            "sync trickle (a batch of one event)": (gota, 1), "_frio": (frio, 1)}  # fmt: skip


def filtro(cmd: Comando) -> str:
    """The fields a command selects its documents by (what an index must serve)."""
    corpo = cmd.corpo
    alvo = corpo.get("filter") or corpo.get("query")
    if alvo is None and cmd.nome == "aggregate":
        alvo = next((etapa["$match"] for etapa in corpo.get("pipeline", []) if "$match" in etapa), None)
    if alvo is None and cmd.nome in ("update", "delete"):
        alvo = (corpo.get("updates") or corpo.get("deletes") or [{}])[0].get("q")
    if cmd.nome == "insert":
        return "-"
    return ", ".join(sorted(alvo)) if alvo else "(none)"


# -- the replay ceiling ----------------------------------------------------------------------
def _novos_ids(comandos: list[Comando]) -> set[ObjectId]:
    return {d["_id"] for c in comandos if c.nome == "insert" for d in c.corpo.get("documents", []) if "_id" in d}


def _trocar(valor, troca: dict):
    """``valor`` with every ObjectId of ``troca`` (and its string form) replaced."""
    if isinstance(valor, ObjectId):
        return troca.get(valor, valor)
    if isinstance(valor, str):
        return troca.get(valor, valor)
    if isinstance(valor, dict):
        return {k: _trocar(v, troca) for k, v in valor.items()}
    if isinstance(valor, list):
        return [_trocar(v, troca) for v in valor]
    return valor


def replay(client, comandos: list[Comando], produtos: list[ObjectId], seconds: float, threads: int = 8) -> float:
    """Checkouts/s when the recorded commands are all the store is sent: ``threads`` loops
    (gunicorn's 2 workers x 4 threads) for ``seconds``, each replay with new ids for what the
    checkout created and the next of ``produtos`` for the product it bought."""
    novos = _novos_ids(comandos)
    produto = {c.corpo["query"]["_id"] for c in comandos if c.nome == "findAndModify" and c.colecao == "produtos"}
    base = [(c.db, {k: v for k, v in c.corpo.items() if k not in ("lsid", "$db", "txnNumber", "$clusterTime")})
            for c in comandos]  # fmt: skip
    from adapters.mongo import CODEC_OPTIONS  # the commands hold Decimals, as the app sent them

    bancos = {db: client.get_database(db, codec_options=CODEC_OPTIONS) for db, _ in base}
    feitos = [0] * threads
    fim = time.monotonic() + seconds

    def loop(n: int) -> None:
        k = n
        while time.monotonic() < fim:
            troca: dict = {}
            for velho in novos:
                troca[velho] = novo = ObjectId()
                troca[str(velho)] = str(novo)
            for velho in produto:
                troca[velho] = outro = produtos[k % len(produtos)]
                troca[str(velho)] = str(outro)
            for db, corpo in base:
                bancos[db].command(_trocar(corpo, troca), codec_options=CODEC_OPTIONS)
            feitos[n] += 1
            k += threads

    t0 = time.monotonic()
    trabalhadores = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for t in trabalhadores:
        t.start()
    for t in trabalhadores:
        t.join()
    return sum(feitos) / (time.monotonic() - t0)


def gravar_checkout(stack, gravador: Gravador, email: str, senha: str) -> list[Comando]:
    """The commands of one one-item checkout (``POST /pedidos``), through the app in process."""
    client = _app(stack, stack.tmp).test_client()
    token = client.post("/auth/login", json={"email": email, "senha": senha}).get_json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    item = {"produto_id": stack.produto_ids[7], "quantidade": 1}
    assert client.post("/carrinhos/me/itens", json=item, headers=auth).status_code < 300
    respostas: list = []
    comandos = gravador.gravar(lambda: respostas.append(client.post("/pedidos", json={"pagamento_metodo": "boleto"},
                                                                    headers=auth)))  # fmt: skip
    if respostas[0].status_code != 201:
        raise RuntimeError(f"checkout: {respostas[0].status_code} {respostas[0].get_data(as_text=True)[:300]}")
    return comandos


def chave_staff(stack) -> str:
    """An admin staff key for the stack's database, made by the CLI as make run makes its own."""
    import subprocess
    import sys

    resultado = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "keys", "create", "--name", "bench", "--scope", "admin",
         "--quiet"], env=stack.env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return resultado.stdout.strip()
