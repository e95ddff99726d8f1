"""What logging costs the web tier under ``make run``: CPU seconds of the launcher, supervisord
and gunicorn (master and workers) over a fixed load, for bench.run and by hand.

    .venv/bin/python -m bench.logcost [--seconds 20] [--runs 3] [--env ACCESS_LOG=errors ...]

Starts ``make run``'s launcher (``devstack.run``) in a throwaway folder on free ports, stores
one product, reads it with wrk (50 connections) and reads each process's CPU time from
/proc before and after; before each run, the same load on the bare ``bench.hello_app`` (the
ceiling). Everything it started is stopped by PID.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from bench import api
from bench.stack import wait_http
from devstack import procs
from devstack.supervise import main_processes

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (0 once it is gone)."""
    try:
        campos = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(campos[11]) + int(campos[12])) / TICK


def papeis(launcher: int) -> dict[str, list[int]]:
    """launcher, supervisord and web (gunicorn master and workers): their PIDs."""
    web = main_processes(launcher)["web"]
    familia = procs.descendants(launcher)
    supervisord = [p for p in familia if "supervisor.supervisord" in procs.process_info(p)[1]]
    return {"launcher": [launcher], "supervisord": supervisord, "web": [web, *procs.descendants(web)]}


def _produto(port: int, var: Path) -> str:
    chave = (var / "staff.key").read_text().strip()
    corpo = json.dumps({"nome": "Caneca", "preco": 29.9, "estoque": 5}).encode()
    headers = {"Authorization": f"Bearer {chave}", "Content-Type": "application/json"}
    req = urllib.request.Request(f"http://127.0.0.1:{port}/produtos", corpo, method="POST", headers=headers)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())["id"]


def _iniciar(var: Path, port: int, extra: dict[str, str]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGO_", "REDIS_", "API_", "PONTE_", "LOG_"))}
    env |= {"PONTE_VAR_DIR": str(var), "API_PORT": str(port), "FLOWER_PORT": str(procs.free_port()),
            "PONTE_LOCAL_MONGO_PORT": str(procs.free_port()), "PONTE_LOCAL_REDIS_PORT": str(procs.free_port()),
            "RATELIMIT_DEFAULT": "100000000 per minute", **extra}  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "devstack.run"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip


def _hello(tmp: Path) -> tuple[subprocess.Popen, str]:
    """The ceiling: the bare flask-smorest app on the same gunicorn configuration, no logging."""
    port = procs.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGO_", "REDIS_", "API_", "PONTE_", "LOG_"))}
    env |= {"API_PORT": str(port), "METRICS_DIR": str(tmp / "metrics-hello"), "LOG_LEVEL": "WARNING",
            "PONTE_VAR_DIR": str(tmp / "hello")}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "bench.hello_app:app"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    return proc, f"http://127.0.0.1:{port}/hello"


def medir(seconds: int, runs: int, extra: dict[str, str]) -> dict:
    """Median CPU seconds per role over ``runs`` wrk runs of ``seconds``, and requests/s
    (each run after one of the ceiling app, ``hello``)."""
    with tempfile.TemporaryDirectory(prefix="ponte-logcost-") as tmp:
        port = procs.free_port()
        launcher = _iniciar(Path(tmp), port, extra)
        hello, hello_url = _hello(Path(tmp))
        try:
            wait_http(hello_url, 120)
            wait_http(f"http://127.0.0.1:{port}/health", 120)
            url = f"http://127.0.0.1:{port}/produtos/{_produto(port, Path(tmp))}"
            api.wrk(url, 10, 2)  # warm-up: the cache line, the workers' first requests
            amostras = []
            for _ in range(runs):
                teto = api.wrk(hello_url, 50, seconds)["rps"]
                pids = papeis(launcher.pid)
                antes = {papel: sum(cpu_s(p) for p in lista) for papel, lista in pids.items()}
                r = api.wrk(url, 50, seconds)
                depois = {papel: sum(cpu_s(p) for p in lista) for papel, lista in pids.items()}
                cpu = {p: depois[p] - antes[p] for p in pids}
                amostras.append({"rps": r["rps"], "hello": teto, "p99": r["p99"], **cpu})
            logs = sum(f.stat().st_size for f in (Path(tmp) / "log").glob("web-*.log"))
        finally:
            procs.stop(hello)
            launcher.send_signal(signal.SIGINT)
            try:
                launcher.wait(timeout=120)
            except subprocess.TimeoutExpired:
                procs.stop(launcher)
    resumo = api.summary(amostras)
    resumo["web_log_bytes"] = logs
    return resumo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the stack (repeatable)")
    args = parser.parse_args()
    extra = dict(e.split("=", 1) for e in args.env)
    r = medir(args.seconds, args.runs, extra)
    print(json.dumps({"env": extra, **r}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
