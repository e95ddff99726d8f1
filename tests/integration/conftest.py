"""Fixtures shared by the integration tests (the session-wide ones are in tests/conftest.py)."""

from __future__ import annotations

import pytest
import redis

from devstack import procs


@pytest.fixture
def redis_proprio():
    """A Redis server of the test's own: bridge tests kill connections and elect leaders."""
    proc = procs.start_redis(procs.free_port())
    port = proc.args[proc.args.index("--port") + 1]
    client = redis.Redis.from_url(f"redis://127.0.0.1:{port}/0")
    yield client
    client.close()
    procs.stop(proc)
