"""Metrics are created once per process even when the first requests arrive together."""

from __future__ import annotations

import contextlib
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from adapters import metrics


def test_concurrent_first_use_creates_the_metric_once():
    name = f"teste-{uuid.uuid4().hex}"
    chamadas = []
    juntos = threading.Barrier(2)
    dentro = threading.Barrier(2)

    def fabrica():
        chamadas.append(1)
        with contextlib.suppress(threading.BrokenBarrierError):
            dentro.wait(timeout=0.5)  # a second thread gets here too only if nothing stops it
        return object()

    def primeiro_uso(_):
        juntos.wait(timeout=5)
        return metrics._m(name, fabrica)

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(primeiro_uso, range(2))

    assert len(chamadas) == 1
    assert a is b
