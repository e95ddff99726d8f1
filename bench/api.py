"""API load: wrk against Ponte and against the bare flask-smorest ceiling, in one run.

Scenarios (each ``runs`` times; the median and the spread are reported):

- ``hello@50``: the ceiling, ``GET /hello`` of ``bench.hello_app`` on the same gunicorn;
- ``produto@50``: ``GET /produtos/{id}`` over 1,000 different products, 50 connections;
- ``produto@200``: the same at 200 connections (errors must stay 0);
- ``lista@50``: ``GET /produtos?page=1&page_size=50&categoria=...`` (filtered list);
- ``checkout@50``: 50 customers in parallel, each adding to its cart and placing an
  order in a loop (Python threads; orders/s and p99), stock accounting checked after.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import statistics
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")


def wrk(url: str, conns: int, seconds: int, script: Path | None = None, threads: int = 2) -> dict:
    """Run wrk once; requests/s, p50/p99 (ms) and errors (non-2xx + socket errors)."""
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{seconds}s", "--latency", "--timeout", "5s"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    if rps == 0:
        print(f"wrk {url} answered nothing:\n{out}", flush=True)
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": _ms(lat.get("50", "nan")), "p99": _ms(lat.get("99", "nan")),
            "errors": errors + (int(non2xx.group(1)) if non2xx else 0)}  # fmt: skip


def aquecer(base: str, ids: list[str]) -> None:
    """Read each product once (the read cache fills), one keep-alive connection."""
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        for produto_id in ids:
            conn.request("GET", f"/produtos/{produto_id}")
            conn.getresponse().read()
    finally:
        conn.close()


def ids_script(tmp: Path, ids: list[str]) -> Path:
    path = tmp / "produtos.lua"
    lua_ids = ",".join(f'"{i}"' for i in ids)
    path.write_text(
        f"ids = {{{lua_ids}}}\ncounter = 0\n"
        "request = function()\n  counter = counter + 1\n"
        '  return wrk.format("GET", "/produtos/" .. ids[(counter % #ids) + 1])\nend\n'
    )
    return path


def summary(samples: list[dict]) -> dict:
    """Median of each figure over the runs, and the spread of requests/s."""
    keys = samples[0].keys()
    med = {k: statistics.median(s[k] for s in samples) for k in keys}
    med["spread"] = (min(s["rps"] for s in samples), max(s["rps"] for s in samples))
    return med


# -- checkout ----------------------------------------------------------------------------
class Cliente:
    def __init__(self, port: int, email: str, senha: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for tentativa in range(5):  # a busy stand-in may answer 503 for a moment
            status, body = self.call("POST", "/auth/login", {"email": email, "senha": senha})
            if status == 200:
                break
            time.sleep(0.5 * 2**tentativa)
        else:
            raise RuntimeError(f"login failed: {status} {body}")
        self.auth = {"Authorization": f"Bearer {body['access_token']}"}

    def call(self, method: str, path: str, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {"Content-Type": "application/json", **(headers or {}), **getattr(self, "auth", {})}
        try:
            self.conn.request(method, path, body=data, headers=hdrs)
            resp = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # gunicorn closed the idle keep-alive connection (a customer at a shop's pace
            # waits longer than its 5 s) before reading the request: send it again.
            self.conn.close()
            self.conn.request(method, path, body=data, headers=hdrs)
            resp = self.conn.getresponse()
        raw = resp.read()
        return resp.status, (json.loads(raw) if raw else None)


def checkout(port: int, emails: list[str], senha: str, produto_ids: list[str], seconds: float, db) -> dict:
    """50 customers placing orders for ``seconds``; every unit accounted for after."""
    clientes = [Cliente(port, e, senha) for e in emails]
    antes = {str(d["_id"]): d["estoque"] for d in db.produtos.find({}, {"estoque": 1})}
    latencias: list[float] = []
    vendidos: dict[str, int] = {}
    erros = [0]
    lock = threading.Lock()
    fim = time.monotonic() + seconds
    rng = random.Random(7)
    escolhas = [rng.sample(produto_ids[:200], 20) for _ in clientes]

    def loop(i: int, c: Cliente):
        n = 0
        while time.monotonic() < fim:
            produto = escolhas[i][n % 20]
            qtd = 1 + n % 3
            n += 1
            status, _ = c.call("POST", "/carrinhos/me/itens", {"produto_id": produto, "quantidade": qtd})
            t0 = time.perf_counter()
            status, _ = c.call("POST", "/pedidos", {"pagamento_metodo": "boleto"})
            dt = (time.perf_counter() - t0) * 1000
            with lock:
                if status == 201:
                    latencias.append(dt)
                    vendidos[produto] = vendidos.get(produto, 0) + qtd
                else:
                    erros[0] += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=loop, args=(i, c)) for i, c in enumerate(clientes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    depois = {str(d["_id"]): d["estoque"] for d in db.produtos.find({}, {"estoque": 1})}
    exato = all(antes[p] - depois[p] == vendidos.get(p, 0) for p in antes) and min(depois.values()) >= 0
    latencias.sort()
    return {
        "rps": len(latencias) / elapsed,
        "p50": latencias[len(latencias) // 2] if latencias else float("nan"),
        "p99": latencias[int(len(latencias) * 0.99)] if latencias else float("nan"),
        "errors": erros[0],
        "stock_exact": float(exato),
    }
