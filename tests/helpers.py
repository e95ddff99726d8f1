"""Test helpers: polling with a deadline (never a bare sleep), tiny HTTP client."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from decimal import Decimal


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value or the deadline passes. An
    ``AssertionError`` from it fails at once (a process it watches died); any other error
    means the thing polled is not up yet."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except AssertionError:
            raise
        except Exception as exc:  # the thing polled may not be up yet
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last error: {last_exc!r}")


def http(method: str, url: str, body=None, headers: dict | None = None, timeout: float = 10.0):
    """Return (status, headers, parsed JSON or raw text) for a request over real HTTP."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, rh, raw = resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        status, rh, raw = err.code, dict(err.headers), err.read()
    text = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(text, parse_float=Decimal)
    except ValueError:
        parsed = text
    return status, rh, parsed


ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
# The Java CRM's real messages, byte for byte (contracts/examples/, copied from the CRM team).
JAVA_EVENTS = ROOT / "contracts" / "examples"


def descendants(pid: int) -> set[int]:
    """PIDs of every live descendant of ``pid`` (from /proc), to check nothing leaks."""
    from devstack.procs import descendants as family

    return family(pid)


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# A delivery address: a customer without one cannot check out.
ENDERECO = {
    "rua": "Rua 10",
    "numero": "100",
    "bairro": "Centro",
    "cidade": "Goiânia",
    "estado": "GO",
    "cep": "74000-000",
}
