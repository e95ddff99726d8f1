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


def test_obsolete_and_implausibly_old_events_are_counted():
    from prometheus_client import REGISTRY

    def valor(nome, **labels):
        return REGISTRY.get_sample_value(nome, labels) or 0.0

    agora = 1_800_000_000.0
    antes = (valor("ponte_sync_events_total", resultado="obsoleto"), valor("ponte_sync_implausible_events_total"))
    metrics.record_sync_event("obsoleto", int(agora * 1_000_000) - 5, agora)  # numbered a moment ago
    metrics.record_sync_event("obsoleto", 42, agora)  # a counter that started again at 1
    assert valor("ponte_sync_events_total", resultado="obsoleto") == antes[0] + 2
    assert valor("ponte_sync_implausible_events_total") == antes[1] + 1
