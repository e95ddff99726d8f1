"""The stores `make run` embeds have no users (mongoeco: see docs/mongoeco.md; the embedded
redis-server: until it loads the ACL file): they listen on the loopback interface only, so
nothing but this machine's processes reaches them."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack import procs

PROC_NET = Path("/proc/net")
LISTEN = "0A"
# /proc/net/tcp{,6} write addresses as hex words in host (little-endian) order.
LOOPBACK = {"0100007F", "00000000000000000000000001000000"}


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp and tcp6 give them) listening on ``port``."""
    found = set()
    for name in ("tcp", "tcp6"):
        path = PROC_NET / name
        for line in path.read_text().splitlines()[1:] if path.exists() else []:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] == LISTEN and int(hex_port, 16) == port:
                found.add(address)
    return found


@pytest.mark.skipif(not (PROC_NET / "tcp").exists(), reason="needs Linux's /proc/net/tcp")
def test_make_runs_embedded_stores_listen_on_loopback_only(tmp_path):
    # Started exactly as devstack/run.py starts them (no --host: mongo_server's default).
    mongo_port, redis_port = procs.free_port(), procs.free_port()
    mongo, uri = procs.start_mongo(mongo_port)
    redis = procs.start_redis(redis_port, data_dir=str(tmp_path / "redis"))
    try:
        assert uri.startswith("mongodb://127.0.0.1:")
        for port in (mongo_port, redis_port):
            addresses = _listening(port)
            assert addresses and addresses <= LOOPBACK, (port, addresses)
    finally:
        procs.stop(mongo)
        procs.stop(redis)
