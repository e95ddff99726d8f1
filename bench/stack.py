"""A whole Ponte stack on loopback for the benchmarks, with realistic data.

Starts its own redis-server and in-memory mongoeco (the servers the tests use), loads
products and customers straight into MongoDB in the documents' stored shape, and
starts the Procfile's processes with the default settings: gunicorn (2 workers x 4
threads), a Celery worker (2 processes), the bridge and beat. Also the ceiling app
(``bench.hello_app``) on the same gunicorn configuration. Everything it started is
stopped by PID at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import redis
from bson import BSON, ObjectId
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import settings  # noqa: E402
from adapters.mongo import CODEC_OPTIONS, INDEXES, ensure_indexes  # noqa: E402
from adapters.passwords import Argon2Hasher  # noqa: E402
from adapters.repositories import MongoClienteRepository, MongoProdutoRepository, chave_java  # noqa: E402
from devstack import procs  # noqa: E402

SECRET = "bench-secret-key-long-enough-for-production-mode-0123456789"
SENHA = "bench-senha-1"
TETO = "produtos_teto"  # the copy the bulk_write ceiling writes to
CATEGORIAS = ("Bebidas", "Mercearia", "Limpeza", "Higiene", "Padaria", "Hortifruti", "Frios", "Pet")


def pss_rss_kib(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in KiB, from /proc/<pid>/smaps_rollup."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("Pss", "Rss"):
                values[name] = int(rest.split()[0])
    except OSError:
        return 0, 0
    return values.get("Pss", 0), values.get("Rss", 0)


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


class Stack:
    def __init__(self, tmp: Path, produtos: int = 10_000, clientes: int = 1_000, workers: int = 2,
                 engine: str = "memory"):  # fmt: skip
        self.tmp = tmp
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs = []
        self.redis_proc = None
        # The data goes in with the server's start (``devstack.mongo_server --seed``):
        # mongoeco's own insert_many checks a batch against its indexes only: far faster
        # than the wire's insert, which takes documents one at a time.
        t0 = time.monotonic()
        seed = tmp / "seed.bson"
        self.produto_ids, self.clientes = self._write_seed(seed, produtos, clientes)
        # engine="sqlite": the store as ``make run`` configures it (a file, see devstack.run).
        self.engine = engine
        arquivo = str(tmp / "mongo" / "ponte.sqlite") if engine == "sqlite" else None
        self.mongo_proc, self.mongo_uri = procs.start_mongo(procs.free_port(), engine=engine, path=arquivo,
                                                            seed=str(seed))  # fmt: skip
        self.load_s = time.monotonic() - t0
        self.redis_port = procs.free_port()
        try:
            self.redis_proc = procs.start_redis(self.redis_port)
        except BaseException:
            procs.stop(self.mongo_proc)
            raise
        self.api_port, self.hello_port, self.nolimit_port = procs.free_port(), procs.free_port(), procs.free_port()
        self.flask_port = procs.free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("MONGO_", "REDIS_", "API_", "PONTE_"))},
            "PONTE_ENV": "production",
            # Loopback stores without users (mongoeco has none): production refuses them otherwise.
            "TRUSTED_NETWORK": "true",
            "SECRET_KEY": SECRET,
            "MONGO_URI": self.mongo_uri,
            "MONGO_DB": "bench",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "LOG_LEVEL": "WARNING",
            "METRICS_DIR": str(tmp / "metrics"),
            # Rate limiting stays on (its Redis round trip is part of the cost), its limit
            # out of the way of a load generator that is one address.
            "RATELIMIT_DEFAULT": "100000000 per minute",
            "RATELIMIT_LOGIN": "100000000 per minute",
            "PONTE_VAR_DIR": str(tmp),
        }
        self.prefix = "ponte"  # REDIS_PREFIX's default (the latency run watches cache keys)
        # The bridge's batch size, which the bulk_write ceiling uses too ("batches of the same size").
        self.batch_max = int(self.env.get("BRIDGE_BATCH_MAX", settings.DEFAULTS["BRIDGE_BATCH_MAX"]))
        self.redis = redis.Redis(port=self.redis_port)
        self.db = MongoClient(self.mongo_uri).bench
        try:
            ensure_indexes(self.db)  # already there: what every process does on start
        except BaseException:
            self.close()
            raise
        self.workers = workers

    # -- data ------------------------------------------------------------------------
    def _write_seed(self, path: Path, produtos: int, clientes: int) -> tuple[list[str], list[str]]:
        """The seed file: every index first (as ``ensure_indexes`` creates them on empty
        collections), then the products, their copy for the ``bulk_write`` ceiling (same
        indexes, same documents) and the customers, in their stored shape."""
        indexes = {coll: [m.document for m in models] for coll, models in INDEXES.items()}
        indexes[TETO] = indexes["produtos"]
        produto_docs = self._produtos(produtos)
        cliente_docs, emails = self._clientes(clientes)
        with path.open("wb") as f:
            for coll, specs in indexes.items():
                f.write(BSON.encode({"ns": f"bench.{coll}", "indexes": specs}, codec_options=CODEC_OPTIONS))
            for coll, docs in (("produtos", produto_docs), (TETO, produto_docs), ("clientes", cliente_docs)):
                for start in range(0, len(docs), 1000):
                    record = {"ns": f"bench.{coll}", "documents": docs[start : start + 1000]}
                    f.write(BSON.encode(record, codec_options=CODEC_OPTIONS))
        return [str(d["_id"]) for d in produto_docs], emails

    @staticmethod
    def _produtos(n: int) -> list[dict]:
        repo = MongoProdutoRepository(MongoClient(connect=False).bench)  # its mapping only
        agora = datetime.now(UTC)
        docs = []
        for i in range(n):
            campos = {
                "nome": f"Produto {i:05d}",
                "preco": Decimal(f"{(i % 500) + 1}.90"),
                "estoque": 1_000,
                "descricao": f"Descrição do produto {i}",
                "categoria": CATEGORIAS[i % len(CATEGORIAS)],
            }
            docs.append({"_id": ObjectId(), **repo.to_doc(campos), "java_id": 100_000 + i, **chave_java(100_000 + i),
                         "criado_em": agora,
                         "atualizado_em": agora, "versao": 1, "excluido_em": None})  # fmt: skip
        return docs

    @staticmethod
    def _clientes(n: int) -> tuple[list[dict], list[str]]:
        repo = MongoClienteRepository(MongoClient(connect=False).bench)  # its mapping only
        senha_hash = Argon2Hasher(2, 19456, 1).hash(SENHA)  # one hash: loading stays fast
        agora = datetime.now(UTC)
        emails = [f"cliente{i:04d}@bench.example" for i in range(n)]
        # A delivery address: a customer without one cannot check out.
        endereco = {"rua": "Rua 1", "numero": "1", "bairro": "Centro", "cidade": "Goiânia", "estado": "GO",
                    "cep": "74000-000"}  # fmt: skip
        docs = [{"_id": ObjectId(), **repo.to_doc({"nome": f"Cliente {i}", "email": e}), "senha_hash": senha_hash,
                 "endereco": endereco, "criado_em": agora, "atualizado_em": agora, "versao": 1}
                for i, e in enumerate(emails)]  # fmt: skip
        return docs, emails

    # -- processes ---------------------------------------------------------------------
    def start(self, name: str, cmd: list[str], **env) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "w")  # noqa: SIM115
        self.logs.append(log)
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env={**self.env, **{k: str(v) for k, v in env.items()}}, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.procs[name] = proc
        return proc

    def start_all(self) -> None:
        gunicorn = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
        self.start("web", [*gunicorn, "wsgi:app"], API_PORT=self.api_port)
        self.start("hello", [*gunicorn, "bench.hello_app:app"], API_PORT=self.hello_port, METRICS_DIR=self.tmp / "m2")
        # The same API without rate limits, to show what they cost (not in the memory table).
        self.start("nolimit", [*gunicorn, "wsgi:app"], API_PORT=self.nolimit_port, RATELIMIT_ENABLED="false",
                   METRICS_DIR=self.tmp / "m3")  # fmt: skip
        # And with every read through Flask: what webapp.leitura_rapida saves.
        self.start("flask", [*gunicorn, "wsgi:app"], API_PORT=self.flask_port, LEITURA_RAPIDA="false",
                   METRICS_DIR=self.tmp / "m4")  # fmt: skip
        self.start("worker", [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q",
                              "default,sync,pagamentos,envios", "-c", str(self.workers), "--without-mingle",
                              "--without-gossip", "--loglevel=WARNING"])  # fmt: skip
        self.start("bridge", [sys.executable, "-m", "bridge"])
        self.start("beat", [sys.executable, "-m", "celery", "-A", "tasks", "beat", "--loglevel=WARNING",
                            "--schedule", str(self.tmp / "celerybeat-schedule")])  # fmt: skip
        self.wait_http(f"http://127.0.0.1:{self.api_port}/health")
        self.wait_http(f"http://127.0.0.1:{self.hello_port}/hello")
        self.wait_http(f"http://127.0.0.1:{self.nolimit_port}/health")
        self.wait_http(f"http://127.0.0.1:{self.flask_port}/health")
        deadline = time.monotonic() + 60
        while self.redis.pubsub_numsub("produtos")[0][1] < 1:
            if time.monotonic() > deadline:
                raise RuntimeError("bridge did not subscribe")
            time.sleep(0.05)

    def start_core(self) -> None:
        """Only what a sync burst and a checkout need: the API, a Celery worker, the bridge."""
        self.start("web", [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                   API_PORT=self.api_port)  # fmt: skip
        self.start("worker", [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q",
                              "default,sync,pagamentos,envios", "-c", str(self.workers), "--without-mingle",
                              "--without-gossip", "--loglevel=WARNING"])  # fmt: skip
        self.start("bridge", [sys.executable, "-m", "bridge"])
        self.wait_http(f"http://127.0.0.1:{self.api_port}/health")
        deadline = time.monotonic() + 60
        while self.redis.pubsub_numsub("produtos")[0][1] < 1:
            if time.monotonic() > deadline:
                raise RuntimeError("bridge did not subscribe")
            time.sleep(0.05)

    def restart_worker(self, concurrency: int, pool: str = "prefork", prefetch: int = 1) -> None:
        """The Celery worker again with ``concurrency`` processes (or threads, with
        ``pool="threads"``); returns once it beats."""
        procs.stop(self.procs.pop("worker"), timeout=30)
        self.start("worker", [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q",
                              "default,sync,pagamentos,envios", "-c", str(concurrency), "-P", pool,
                              "--prefetch-multiplier", str(prefetch), "--without-mingle",
                              "--without-gossip", "--loglevel=WARNING"])  # fmt: skip
        deadline = time.monotonic() + 60
        while not self.redis.zcount("ponte:workers:sync", time.time() - 30, "+inf"):
            if time.monotonic() > deadline:
                raise RuntimeError("restarted worker did not announce itself")
            time.sleep(0.1)

    def drain(self, timeout: float = 300) -> None:
        """Wait until no task waits or runs (payments of earlier checkouts, sync batches)."""
        deadline = time.monotonic() + timeout
        while any(self.redis.llen(q) for q in ("default", "sync", "pagamentos", "envios")) or self.redis.hlen(
            "unacked"
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("queues did not drain")
            time.sleep(0.5)

    def start_web(self, name: str, workers: int, threads: int | None = None, worker_class: str | None = None) -> int:
        """Another gunicorn serving Ponte with ``workers`` workers (and ``threads`` each, and
        another worker class, when given); its port."""
        port = procs.free_port()
        extra = {"WEB_THREADS": threads} if threads else {}
        classe = ["--worker-class", worker_class] if worker_class else []  # the command line wins over the file
        self.start(name, [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *classe, "wsgi:app"],
                   API_PORT=port, WEB_CONCURRENCY=workers, METRICS_DIR=self.tmp / f"m-{name}", **extra)  # fmt: skip
        self.wait_http(f"http://127.0.0.1:{port}/health")
        return port

    def stop(self, name: str) -> None:
        procs.stop(self.procs.pop(name), timeout=30)

    def wait_http(self, url: str, timeout: float = 60) -> None:
        wait_http(url, timeout)

    def memory(self) -> dict[str, list[tuple[int, int]]]:
        """(PSS, RSS) KiB of each process, by role: masters and their children."""
        out: dict[str, list[tuple[int, int]]] = {}
        for name, proc in self.procs.items():
            if name in ("hello", "nolimit", "flask") or name.startswith("web-"):
                continue
            pids = [proc.pid, *children(proc.pid)]
            out[name] = [pss_rss_kib(pid) for pid in pids]
        return out

    def close(self) -> None:
        for proc in self.procs.values():
            procs.stop(proc, timeout=20)
        procs.stop(self.mongo_proc)
        if self.redis_proc is not None:
            procs.stop(self.redis_proc)
        for log in self.logs:
            log.close()


def wait_http(url: str, timeout: float = 60) -> None:
    """Until ``url`` answers 200 (a process starting up), or RuntimeError after ``timeout``."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except Exception:  # not listening yet
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")
