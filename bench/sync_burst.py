"""Benchmark of the CRM sync pipeline alone: PUBLISH -> bridge -> Celery -> MongoDB.

(``make bench`` runs the whole suite, this included; this script is the quick loop for
working on the pipeline.)

Starts its own redis-server and in-memory mongoeco on loopback, one bridge and one
Celery worker, then measures, over several runs (median and spread printed):

- burst: N ``atualizado`` events over K products published at once; events/s from the
  first PUBLISH until every product shows its last value in MongoDB;
- latency: events published at a steady rate; p50/p99 from PUBLISH to visible.

    .venv/bin/python bench/sync_burst.py [--events 2000] [--products 200] [--runs 3]
        [--rate 100] [--seconds 5] [--concurrency 2]

Traffic goes to 127.0.0.1 only; every run is bounded in count and time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from pymongo import MongoClient  # noqa: E402

from bench.sync import burst, evento, latency, pct, wait_values  # noqa: E402
from devstack import procs  # noqa: E402


class Stack:
    def __init__(self, concurrency: int, tmp: Path):
        self.redis_port = procs.free_port()
        self.redis_proc = procs.start_redis(self.redis_port)
        self.mongo_proc, self.mongo_uri = procs.start_mongo(procs.free_port(), engine="memory")
        self.env = {
            **os.environ,
            "MONGO_URI": self.mongo_uri,
            "MONGO_DB": "bench",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "LOG_LEVEL": "WARNING",
        }
        self.logs = []
        self.worker = self._start(
            [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q", "default,sync", "-c", str(concurrency),
             "--loglevel=WARNING", "--without-mingle", "--without-gossip"], tmp / "worker.log",
        )  # fmt: skip
        self.bridge = self._start([sys.executable, "-m", "bridge"], tmp / "bridge.log")
        self.redis = redis.Redis(port=self.redis_port)
        self.col = MongoClient(self.mongo_uri).bench.produtos
        deadline = time.monotonic() + 60
        while self.redis.pubsub_numsub("produtos")[0][1] < 1:
            if time.monotonic() > deadline:
                raise RuntimeError("bridge did not subscribe")
            time.sleep(0.05)
        # Warm-up: the worker's first task opens its connections and creates indexes.
        self.redis.publish("produtos", evento(1, 1))
        wait_values(self.col, {1: 1}, timeout=60)

    def _start(self, cmd, log_path):
        log = open(log_path, "w")  # noqa: SIM115
        self.logs.append(log)
        return subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def close(self):
        for p in (self.bridge, self.worker):
            procs.stop(p)
        procs.stop(self.mongo_proc)
        procs.stop(self.redis_proc)
        for log in self.logs:
            log.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--products", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ponte-bench-") as tmp:
        stack = Stack(args.concurrency, Path(tmp))
        try:
            rates, p50s, p99s = [], [], []
            for run in range(args.runs):
                java_ids = list(range(1000 + run * args.products, 1000 + (run + 1) * args.products))
                rates.append(burst(stack.redis, stack.col, args.events, java_ids, offset=run * args.events))
                novos = list(range(100_000 + run * 100_000, 100_000 + run * 100_000 + int(args.rate * args.seconds)))
                lat = latency(stack.redis, stack.col, args.rate, args.seconds, novos, offset=7)
                p50s.append(pct(lat, 50))
                p99s.append(pct(lat, 99))
                print(f"run {run + 1}: burst {rates[-1]:.0f} events/s; latency p50 {p50s[-1]:.1f} ms, "
                      f"p99 {p99s[-1]:.1f} ms at {args.rate:.0f}/s")  # fmt: skip
        finally:
            stack.close()

    def line(name, values, unit):
        return f"| {name} | {statistics.median(values):.1f} {unit} | {min(values):.1f} – {max(values):.1f} |"

    print()
    print(
        f"Sync pipeline, {args.runs} runs, worker concurrency {args.concurrency}, burst of {args.events} events "
        f"over {args.products} products, latency at {args.rate:.0f} events/s:"
    )
    print("| measure | median | spread (min – max) |")
    print("|---|---|---|")
    print(line("burst throughput", rates, "events/s"))
    print(line("publish-to-visible p50", p50s, "ms"))
    print(line("publish-to-visible p99", p99s, "ms"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
