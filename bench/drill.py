"""``make drill``: the disaster scenarios of issue 17 against a real ``make run`` stack.

Starts ``python -m devstack.run`` (what ``make run`` runs) with a throwaway var/ and ports
of its own, and the drill's own redis-server with production's ACL users plus a
``drill-admin`` (for FLUSHALL; no principal of production may do it), passed as REDIS_URL.
Seeds products through the CRM path, then runs each scenario while a CRM publisher sends
``atualizado`` events at a steady rate, both as pub/sub PUBLISH and as stream XADD (as the
``crm`` user), and a reader polls the API. Prints one table row per scenario and input,
and writes docs/drill.md. Every loop is bounded in count and time; every process it
started is stopped by PID at the end.

    .venv/bin/python -m bench.drill [--rate 10] [--only 1,3] [--no-write] [--keep]
    .venv/bin/python -m bench.drill --render var/drill-results.json   # the page again, same figures
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import settings  # noqa: E402
from bench.drill_contas import (  # noqa: E402
    PUBSUB,
    STREAM,
    Linha,
    Publicado,
    contar,
    ler_processados,
    primeiro_depois,
    tabela,
    visivel,
)
from deploy import redis_acl  # noqa: E402
from devstack import procs, redis_users, supervise  # noqa: E402
from devstack.procs import descendants, process_info  # noqa: E402

DOC = ROOT / "docs" / "drill.md"
NOTES = Path(__file__).with_name("drill_notes.md")  # the analysis, kept by hand, appended
PRODUTOS = 5  # per scenario and input
BASE_ID = 770_000
STREAM_KEY = "ponte:eventos"
EPOCA_KEY = f"{STREAM_KEY}:epoca"
REENVIO_JANELA_S = 15 * 60


def say(msg: str) -> None:
    print(f"[drill {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# -- processes, from /proc ------------------------------------------------------------
def main_processes(launcher_pid: int) -> dict[str, int]:
    """Procfile entry -> PID of its main process (a child of supervisord); plus ``mongo``."""
    found = supervise.main_processes(launcher_pid)
    for pid in descendants(launcher_pid):
        ppid, cmd = process_info(pid)
        if ppid == launcher_pid and "devstack.mongo_server" in cmd:
            found["mongo"] = pid
    return found


def pool_children(pid: int) -> list[int]:
    return sorted(child for child in descendants(pid) if process_info(child)[0] == pid)


# -- HTTP -----------------------------------------------------------------------------
def get(url: str, timeout: float = 5.0) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read()
            return resp.status, json.loads(body) if body[:1] in (b"{", b"[") else body
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (OSError, ValueError):
        return 0, None


def wait_until(pred: Callable[[], object], timeout: float, every: float = 0.2) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := pred():
                return value
        except Exception:
            pass
        time.sleep(every)
    return None


# -- the stack ------------------------------------------------------------------------
class Stack:
    """The drill's redis-server and ``devstack.run`` on it, in a throwaway folder."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.var = tmp / "var"
        self.var.mkdir(parents=True)
        self.redis_port, self.api_port = procs.free_port(), procs.free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.acl_file, pw = redis_users.prepare(tmp / "redis-acl")
        admin_pw = secrets.token_urlsafe(24)
        with open(self.acl_file, "a") as f:
            f.write(f"user drill-admin on >{admin_pw} ~* &* +@all\n")
        self.redis_log = open(tmp / "redis.log", "a")  # noqa: SIM115 - closed in close()
        self.redis_proc = self.start_redis()
        self.ponte_url = redis_users.url(redis_acl.PONTE, pw[redis_acl.PONTE], self.redis_port)
        self.crm_url = redis_users.url(redis_acl.CRM, pw[redis_acl.CRM], self.redis_port)
        self.admin = redis.Redis.from_url(
            redis_users.url("drill-admin", admin_pw, self.redis_port), socket_timeout=5, socket_connect_timeout=2
        )
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGO_", "REDIS_", "API_", "PONTE_"))}
        self.env.update(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            PONTE_VAR_DIR=str(self.var),
            API_PORT=str(self.api_port),
            PONTE_LOCAL_MONGO_PORT=str(procs.free_port()),
            FLOWER_PORT=str(procs.free_port()),
            REDIS_URL=self.ponte_url,
        )
        self.env.pop("FLOWER_BASIC_AUTH", None)
        self.log = open(tmp / "run.log", "w")  # noqa: SIM115 - closed in close()
        self.launcher = subprocess.Popen(
            [sys.executable, "-m", "devstack.run"],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.extra: list[subprocess.Popen] = []
        if not wait_until(lambda: get(self.url + "/ready")[0] == 200, timeout=120, every=0.5):
            raise RuntimeError(f"make run's stack not ready; see {tmp / 'run.log'}")
        wait_until(lambda: len(self.main()) == len(supervise.ENTRIES) + 1, timeout=60)

    def start_redis(self) -> subprocess.Popen:
        """Without persistence: stopped, it comes back empty (the drill's scenario 2)."""
        return procs.start_redis(self.redis_port, log=self.redis_log, acl_file=str(self.acl_file))

    def main(self) -> dict[str, int]:
        return main_processes(self.launcher.pid)

    def crm(self) -> redis.Redis:
        return redis.Redis.from_url(self.crm_url, socket_timeout=2, socket_connect_timeout=1)

    def start_bridge(self) -> subprocess.Popen:
        """A second ``python -m bridge`` with the settings ``make run`` recorded."""
        env = dict(self.env, PONTE_ENV="development")
        for line in (self.var / "stack.env").read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                env[key] = value
        proc = subprocess.Popen(
            [sys.executable, "-m", "bridge"],
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.extra.append(proc)
        return proc

    def close(self) -> None:
        for proc in self.extra:
            procs.stop(proc, timeout=30)
        mongo = self.main().get("mongo")
        if mongo:
            os.kill(mongo, signal.SIGCONT)  # never leave it stopped
        if self.launcher.poll() is None:
            self.launcher.send_signal(signal.SIGINT)  # Ctrl-C
            try:
                self.launcher.wait(timeout=120)
            except subprocess.TimeoutExpired:
                procs.stop(self.launcher)
        self.admin.close()
        procs.stop(self.redis_proc)
        self.redis_log.close()
        self.log.close()


# -- the CRM and the reader -----------------------------------------------------------
class Publicador(threading.Thread):
    """The CRM: ``atualizado`` events at ``rate``/s, round robin over ``ids``, increasing
    stock per product. A send that fails (Redis unreachable) is tried again, as a CRM's
    outbox would; one that PUBLISH delivered to nobody is recorded as such. On the stream it
    follows the contract: when ``ponte:eventos:epoca`` changes, it sends again what it sent
    in the last 15 minutes, each entry with ``reenvio_de`` (docs/sync.md)."""

    def __init__(self, stack: Stack, entrada: str, ids: list[int], rate: float, inicio: int):
        super().__init__(daemon=True)
        self.stack, self.entrada, self.ids, self.rate = stack, entrada, ids, rate
        self.estoque = dict.fromkeys(ids, inicio)
        self.publicados: list[Publicado] = []
        self.parar = threading.Event()
        self.rajada = 0  # events to send at once (scenario 10)
        self.reenviados = 0
        self._epoca: bytes | None = None
        self._epoca_em = 0.0

    def _payload(self, crm_id: int, estoque: int) -> str:
        produto = {"id": crm_id, "nome": f"Drill {crm_id}", "preco": 9.9, "estoque": estoque}
        return json.dumps({"acao": "atualizado", "produto": produto})

    def enviar(self, client: redis.Redis, crm_id: int) -> None:
        estoque = self.estoque[crm_id] + 1
        payload = self._payload(crm_id, estoque)
        for _ in range(50):  # bounded: about 10 s of retries
            t0 = time.monotonic()
            try:
                if self.entrada == PUBSUB:
                    n = client.publish("produtos", payload)
                    pub = Publicado(crm_id, estoque, time.monotonic(), entregue=n >= 1, t0=t0)
                else:
                    entry = client.xadd(STREAM_KEY, {"canal": "produtos", "payload": payload})
                    pub = Publicado(crm_id, estoque, time.monotonic(), event_id=f"s-{entry.decode()}", t0=t0)
                break
            except redis.RedisError:
                if self.parar.is_set():
                    return
                time.sleep(0.2)
        else:
            return  # never accepted: not published
        self.estoque[crm_id] = estoque
        self.publicados.append(pub)

    def _reenviar_se_preciso(self, client: redis.Redis) -> None:
        """Once a second: a new epoch means Redis lost the stream; send the window again."""
        if self.entrada == PUBSUB or time.monotonic() < self._epoca_em:
            return
        self._epoca_em = time.monotonic() + 1
        try:
            epoca = client.get(EPOCA_KEY)
            if epoca is None or epoca == self._epoca:
                return
            if self._epoca is not None:
                janela = time.monotonic() - REENVIO_JANELA_S
                for pub in [p for p in self.publicados if p.t0 >= janela]:
                    campos = {"canal": "produtos", "payload": self._payload(pub.crm_id, pub.estoque)}
                    client.xadd(STREAM_KEY, {**campos, "reenvio_de": pub.event_id.removeprefix("s-")})
                    self.reenviados += 1
            self._epoca = epoca
        except redis.RedisError:
            self._epoca_em = 0.0  # Redis away: look again at the next event

    def run(self) -> None:
        client = self.stack.crm()
        proximo, n = time.monotonic(), 0
        try:
            while not self.parar.is_set() and n < 100_000:
                self._reenviar_se_preciso(client)
                while self.rajada > 0:
                    self.rajada -= 1
                    self.enviar(client, self.ids[n % len(self.ids)])
                    n += 1
                self.enviar(client, self.ids[n % len(self.ids)])
                n += 1
                proximo += 1 / self.rate
                self.parar.wait(max(0.0, proximo - time.monotonic()))
        finally:
            client.close()


class Leitor(threading.Thread):
    """GET /produtos/{id} and GET /health, ``rate``/s; counts non-2xx and connection errors."""

    def __init__(self, url: str, produto_ids: list[str], rate: float = 5):
        super().__init__(daemon=True)
        self.url, self.ids, self.rate = url, produto_ids, rate
        self.erros = self.pedidos = 0
        self.parar = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.parar.is_set() and n < 100_000:
            path = "/health" if n % 2 else f"/produtos/{self.ids[n % len(self.ids)]}"
            status, _ = get(self.url + path, timeout=5)
            self.pedidos += 1
            self.erros += not 200 <= status < 300
            n += 1
            self.parar.wait(1 / self.rate)


# -- scenarios ------------------------------------------------------------------------
@dataclass
class Cenario:
    numero: int
    nome: str
    falha: Callable  # (drill, ctx) -> dict: {"t": instant of the fault, "processo": entry, ...}
    depois_s: float = 15.0  # publishing after the fault


class Drill:
    def __init__(self, stack: Stack, rate: float):
        self.stack, self.rate = stack, rate
        self.produto_ids: dict[int, str] = {}  # crm id -> Ponte id

    def ids(self, numero: int, entrada: str) -> list[int]:
        base = BASE_ID + numero * 100 + (0 if entrada == PUBSUB else 50)
        return list(range(base, base + PRODUTOS))

    def seed(self, numeros: list[int]) -> None:
        crm = self.stack.crm()
        todos = [i for n in numeros for e in (PUBSUB, STREAM) for i in self.ids(n, e)]
        wait_until(lambda: self.stack.admin.pubsub_numsub("produtos")[0][1] >= 1, timeout=60)
        for crm_id in todos:
            produto = {"id": crm_id, "nome": f"Drill {crm_id}", "preco": 9.9, "estoque": 0}
            crm.publish("produtos", json.dumps({"acao": "criado", "produto": produto}))
        crm.close()

        def achados():
            for crm_id in todos:
                if crm_id not in self.produto_ids:
                    status, body = get(f"{self.stack.url}/produtos?java_id={crm_id}")
                    if status == 200 and body:
                        self.produto_ids[crm_id] = body[0]["id"]
            return len(self.produto_ids) == len(todos)

        if not wait_until(achados, timeout=120, every=1):
            raise RuntimeError(f"seeded {len(self.produto_ids)} of {len(todos)} products")

    def estoques(self, ids: list[int]) -> dict[int, int | None]:
        lidos = {}
        for crm_id in ids:
            status, body = get(f"{self.stack.url}/produtos/{self.produto_ids[crm_id]}", timeout=3)
            lidos[crm_id] = body.get("estoque") if status == 200 and isinstance(body, dict) else None
        return lidos

    def quieto(self, timeout: float) -> bool:
        """Nothing left to do: stream read and acknowledged, no task queued or in flight."""
        admin = self.stack.admin

        def vazio():
            grupos = admin.xinfo_groups(STREAM_KEY) if admin.exists(STREAM_KEY) else []
            pend = sum((g.get("pending") or 0) + (g.get("lag") or 0) for g in grupos)
            return pend == 0 and admin.llen("sync") == 0 and admin.hlen("unacked") == 0

        return bool(wait_until(lambda: vazio() and (time.sleep(2) or vazio()), timeout=timeout, every=1))

    def rodar(self, cen: Cenario) -> list[Linha]:
        say(f"scenario {cen.numero}: {cen.nome}")
        pubs = {e: Publicador(self.stack, e, self.ids(cen.numero, e), self.rate, 1000) for e in (PUBSUB, STREAM)}
        todos = [i for e in pubs for i in self.ids(cen.numero, e)]
        leitor = Leitor(self.stack.url, [self.produto_ids[i] for i in todos])
        for t in (*pubs.values(), leitor):
            t.start()
        time.sleep(5)
        ctx = {"pubs": pubs}
        info = cen.falha(self, ctx) or {}
        t_falha = info.get("t", time.monotonic())
        # Recovery: the process back (if one was killed) and a CRM event sent after the fault
        # visible through the API, per input.
        primeiros: dict[str, dict[int, int]] = {}
        recuperado: dict[str, float | None] = dict.fromkeys(pubs)
        fim = time.monotonic() + cen.depois_s
        while time.monotonic() < fim + 60 and (time.monotonic() < fim or None in recuperado.values()):
            if time.monotonic() >= fim:
                for p in pubs.values():
                    p.parar.set()
            for e, p in pubs.items():
                if recuperado[e] is None:
                    primeiros[e] = primeiros.get(e) or primeiro_depois(list(p.publicados), t_falha)
                    if primeiros[e] and visivel(primeiros[e], self.estoques(list(primeiros[e]))):
                        recuperado[e] = time.monotonic()
            time.sleep(0.25)
        for p in pubs.values():
            p.parar.set()
        for p in pubs.values():
            p.join(timeout=30)
        t_volta = info.get("t_volta")
        if callable(t_volta):
            t_volta = t_volta()
        pendente = None
        if not self.quieto(timeout=info.get("quieto_s", 60)):
            admin = self.stack.admin
            pendente = f"sync queue {admin.llen('sync')}, unacknowledged tasks {admin.hlen('unacked')}"
            say(f"  still work pending after the wait ({pendente}): counted as it stands")
        time.sleep(1)  # the last log lines reach their files
        leitor.parar.set()
        leitor.join(timeout=10)
        if "depois" in info:
            info["depois"]()
        linhas = []
        for e, p in pubs.items():
            ids = self.ids(cen.numero, e)
            processados = ler_processados([self.stack.var / "log"], set(ids))
            li = contar(
                Linha(f"{cen.numero}. {cen.nome}", e),
                e,
                p.publicados,
                processados,
                self.estoques(ids),
            )
            li.erros_api = leitor.erros
            li.reenviados = p.reenviados
            if pendente:
                li.notas.append(f"at the count: {pendente}")
            if recuperado[e] is not None:
                li.recuperacao_s = max(recuperado[e], t_volta or 0) - t_falha
            linhas.append(li)
            say(
                f"  {e}: published {li.publicados}, applied {li.aplicados}, lost {li.perdidos} "
                f"({li.esperados} expected), duplicated {li.duplicados}, redelivered {li.reentregues}, "
                f"last wins {li.ultimo_ok}/{li.produtos}, API errors {li.erros_api}/{leitor.pedidos}, "
                f"recovery {li.recuperacao_s}"
            )
        return linhas


# -- the faults -----------------------------------------------------------------------
def _flushall(drill: Drill, ctx: dict) -> dict:
    t = time.monotonic()
    drill.stack.admin.flushall()
    return {"t": t}


def _redis_vazio(drill: Drill, ctx: dict) -> dict:
    st = drill.stack
    t = time.monotonic()
    procs.stop(st.redis_proc)
    st.redis_proc = st.start_redis()
    return {"t": t}


def _matar(entry: str, quieto_s: float = 60) -> Callable:
    def falha(drill: Drill, ctx: dict) -> dict:
        st = drill.stack
        antes = st.main()
        t = time.monotonic()
        os.kill(antes[entry], signal.SIGKILL)

        def volta():
            now = st.main()
            return now.get(entry) not in (None, antes[entry]) and time.monotonic()

        volta_em: list[float] = []
        esperar = threading.Thread(target=lambda: volta_em.append(wait_until(volta, 60, 0.1) or 0.0), daemon=True)
        esperar.start()
        return {"t": t, "t_volta": lambda: volta_em[0] if volta_em else None, "quieto_s": quieto_s}

    return falha


def _matar_filho_do_worker(drill: Drill, ctx: dict) -> dict:
    """SIGKILL a pool process while sync tasks run, three times, 4 s apart; the CRM sends a
    burst each time so the pool is busy."""
    st = drill.stack
    t = time.monotonic()
    for _ in range(3):
        ctx["pubs"][STREAM].rajada = ctx["pubs"][PUBSUB].rajada = 200
        time.sleep(0.3)
        worker = st.main().get("worker")
        filhos = pool_children(worker) if worker else []
        if filhos:
            os.kill(filhos[0], signal.SIGKILL)
        time.sleep(4)
    # 1,200 events at once: the count waits for the backlog (a loaded machine's workers need
    # minutes), so that what is counted lost is lost, not still queued.
    return {"t": t, "quieto_s": 180}


def _mongo_parado(drill: Drill, ctx: dict) -> dict:
    pid = drill.stack.main()["mongo"]
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(60)
    finally:
        os.kill(pid, signal.SIGCONT)
    return {"t": time.monotonic(), "quieto_s": 150}


def _segunda_ponte(drill: Drill, ctx: dict) -> dict:
    proc = drill.stack.start_bridge()

    def depois():
        procs.stop(proc, timeout=30)

    return {"t": time.monotonic(), "depois": depois}


def _ponte_morta_no_stream(drill: Drill, ctx: dict) -> dict:
    """A burst on the stream, and the bridge killed while it reads it (entries read and not
    yet acknowledged stay pending; the restarted bridge claims them)."""
    ctx["pubs"][STREAM].rajada = 400
    wait_until(lambda: ctx["pubs"][STREAM].rajada < 300, timeout=10, every=0.01)
    return _matar("bridge")(drill, ctx)


VISIBILIDADE_S = settings.DEFAULTS["BROKER_VISIBILITY_TIMEOUT_S"]

CENARIOS = [
    Cenario(1, "Redis FLUSHALL", _flushall),
    Cenario(2, "Redis restarted empty", _redis_vazio),
    Cenario(3, "kill -9 bridge", _matar("bridge")),
    # The tasks the killed worker had reserved come back once the broker's visibility timeout
    # (BROKER_VISIBILITY_TIMEOUT_S, 120 s by default) has passed: the count waits that long.
    Cenario(
        4,
        "kill -9 worker main process",
        _matar("worker", quieto_s=settings.DEFAULTS["BROKER_VISIBILITY_TIMEOUT_S"] + 60),
    ),
    Cenario(5, "kill -9 gunicorn master", _matar("web")),
    Cenario(6, "kill -9 beat", _matar("beat")),
    Cenario(7, "worker pool process killed mid-task", _matar_filho_do_worker),
    Cenario(8, "MongoDB stopped for 60 s", _mongo_parado, depois_s=10),
    Cenario(9, "a second bridge alongside", _segunda_ponte),
    Cenario(10, "bridge killed while the CRM writes to the stream", _ponte_morta_no_stream),
]


# -- the page -------------------------------------------------------------------------
def pagina(linhas: list[Linha], inicio: datetime, duracao_s: float, rate: float) -> str:
    notas = NOTES.read_text() if NOTES.exists() else ""
    stream = [li for li in linhas if li.entrada == STREAM]
    pubsub = [li for li in linhas if li.entrada == PUBSUB]
    inesperados = [li for li in stream if li.perdidos - li.esperados or li.duplicados]
    resumo = [
        f"- Stream: {sum(li.perdidos for li in stream)} lost of {sum(li.publicados for li in stream)} published, "
        f"{sum(li.duplicados for li in stream)} duplicated; "
        f"{sum(li.reenviados for li in stream)} entries resent by the CRM after Redis lost its data. "
        + (
            "Every stream entry was written once (a resend or redelivery of a written entry changed nothing)."
            if not inesperados
            else "Unexpected: " + "; ".join(li.cenario for li in inesperados) + "."
        ),
        f"- Pub/sub: {sum(li.perdidos for li in pubsub)} lost of {sum(li.publicados for li in pubsub)} published, "
        f"{sum(li.esperados for li in pubsub)} of them PUBLISHed while no bridge was subscribed "
        f"(Redis drops those); {sum(li.duplicados for li in pubsub)} duplicated.",
    ]
    return "\n".join(
        [
            "# Disaster drill",
            "",
            "<!-- Generated by `make drill` (python -m bench.drill); the analysis at the end is "
            "bench/drill_notes.md. Do not edit by hand. -->",
            "",
            f"Measured on {inicio:%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}; the whole drill took {duracao_s / 60:.1f} minutes. "
            "One `make run` stack (supervisord, embedded mongoeco on SQLite) on the drill's own "
            "redis-server (production's ACL users plus an admin for FLUSHALL, no persistence), "
            "everything on this machine's 2 cores, the drill included.",
            "",
            "Each scenario: the CRM (user `crm`) sends `atualizado` events with increasing `estoque` to "
            f"{PRODUTOS} products per input, {rate:g}/s by PUBLISH on `produtos` and {rate:g}/s by XADD "
            f"on `{STREAM_KEY}` at the same time, 5 s before the fault and 15 s after it (10 s after "
            "MongoDB comes back); then the drill waits for the stream and the queues to drain "
            "(bounded) and counts. A reader sends GET /produtos/{id} and GET /health at 5/s all along.",
            "",
            "- **Published**: events Redis accepted (a send that failed was retried, as a CRM outbox would). "
            "On the stream the CRM follows the contract: when `ponte:eventos:epoca` changes (Redis lost "
            "its data), it sends its last 15 minutes again, each entry with `reenvio_de` (docs/sync.md); "
            "a resend is its original event, not a new one (the *Resent* figure in the summary).",
            "- **Applied**: events a worker handled (its log line `evento event_id=...`): written, or found "
            "already superseded by a newer event of the same product (last write wins). Stream entries "
            "are matched one by one (`event_id` is `s-<entry id>`); pub/sub messages are counted (the "
            "bridge names them).",
            "- **Lost**: published, never applied. **Of which expected**: pub/sub messages PUBLISH "
            "delivered to no subscriber (no bridge listening). A stream entry is never an expected loss.",
            "- **Duplicated**: an event written twice (two outcomes other than `obsoleto` for one event "
            "id), or more pub/sub events handled than messages delivered. **Redelivered**: handled "
            "again and found already applied (`obsoleto`): at-least-once delivery, harmless.",
            "- **Last wins**: products whose final `estoque` (read through the API) is their last event's.",
            "- **API errors**: the reader's non-2xx answers and connection errors during the scenario "
            "(one reader for both inputs: the same figure on both rows).",
            "- **Recovery**: from the fault (the kill, the FLUSHALL, the restart, the end of the MongoDB "
            "stop) until the killed process is back under supervisord and an event sent after the fault "
            "is visible through the API.",
            "",
            tabela(linhas),
            "",
            "## Summary",
            "",
            *resumo,
            "",
            notas.strip(),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Disaster drill against a make run stack")
    parser.add_argument("--rate", type=float, default=10.0, help="events/s per input (two inputs at once)")
    parser.add_argument("--only", default="", help="scenario numbers, comma separated (default: all)")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave docs/drill.md")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway folder (logs) at the end")
    parser.add_argument("--render", metavar="JSON", help="only write docs/drill.md again from a run's results.json")
    args = parser.parse_args(argv)
    if args.render:
        dados = json.loads(Path(args.render).read_text())
        linhas = [Linha(**li) for li in dados["linhas"]]
        DOC.write_text(pagina(linhas, datetime.fromisoformat(dados["inicio"]), dados["duracao_s"], dados["rate"]))
        say(f"wrote {DOC.relative_to(ROOT)} from {args.render}")
        return 0
    numeros = [int(n) for n in args.only.split(",") if n] or [c.numero for c in CENARIOS]
    cenarios = [c for c in CENARIOS if c.numero in numeros]
    inicio, t0 = datetime.now(UTC), time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="ponte-drill-"))
    say(f"starting make run's stack in {tmp}")
    stack = None
    linhas: list[Linha] = []
    try:
        stack = Stack(tmp)
        drill = Drill(stack, args.rate)
        drill.seed(numeros)
        say(f"seeded {len(drill.produto_ids)} products through the CRM's pub/sub")
        for cen in cenarios:
            linhas += drill.rodar(cen)
    finally:
        if stack is not None:
            say("stopping the stack (Ctrl-C)")
            stack.close()
        if args.keep:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    duracao = time.monotonic() - t0
    print(tabela(linhas))
    resultados = {"inicio": inicio.isoformat(), "duracao_s": duracao, "rate": args.rate}
    resultados["linhas"] = [asdict(li) for li in linhas]
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "drill-results.json").write_text(json.dumps(resultados, indent=1))
    if not args.no_write and len(cenarios) == len(CENARIOS):
        DOC.write_text(pagina(linhas, inicio, duracao, args.rate))
        say(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
