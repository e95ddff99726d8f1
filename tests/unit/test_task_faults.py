"""Fault injection (tasks.faults) is a signal receiver, connected only when configured.

The e2e tests that rely on it (a task caught in hand, parallel work reordered) set
``SYNC_FAULT_DELAY_MS`` on real workers: tests/e2e/test_sync_pipeline.py and
tests/e2e/test_procfile_signals.py.
"""

from __future__ import annotations

import pytest
from celery import Celery
from celery.signals import task_prerun

import tasks  # noqa: F401 - connects what a worker connects at import
from tasks import faults

# The test app shadows Ponte's task names on purpose (the delay is chosen by name): Celery's
# shared tasks then warn that the names are taken, which is the point here.
pytestmark = pytest.mark.filterwarnings("ignore::celery.exceptions.DuplicateTaskNameWarning")


@pytest.fixture
def app():
    app = Celery("faults-test", set_as_current=False)

    def ok():
        return "ok"

    # Registered before the app takes in Ponte's own tasks of these names (lazy=False).
    for name in ("tasks.sync.aplicar_evento", "tasks.sync.aplicar_lote"):
        app.task(ok, name=name, shared=False, lazy=False)
    return app


@pytest.fixture
def sleeps():
    seen: list[float] = []
    yield seen
    faults.uninstall()


def test_unset_nothing_is_connected_and_no_task_waits(app, sleeps):
    before = list(task_prerun.receivers)
    assert faults.install({"SYNC_FAULT_DELAY_MS": 0, "SYNC_FAULT_DELAY_MIN_MS": 0}, sleep=sleeps.append) is None
    assert task_prerun.receivers == before
    assert app.tasks["tasks.sync.aplicar_evento"].apply().get() == "ok"
    assert sleeps == []


def test_set_each_single_event_task_first_waits_within_the_range(app, sleeps):
    delay = faults.install({"SYNC_FAULT_DELAY_MS": 30, "SYNC_FAULT_DELAY_MIN_MS": 20}, sleep=sleeps.append)
    assert delay is not None
    for _ in range(5):
        app.tasks["tasks.sync.aplicar_evento"].apply().get()
    app.tasks["tasks.sync.aplicar_lote"].apply().get()  # as before: batches are not delayed
    assert len(sleeps) == 5 and all(0.020 <= s <= 0.030 for s in sleeps)


def test_a_minimum_above_the_maximum_is_the_maximum(app, sleeps):
    faults.install({"SYNC_FAULT_DELAY_MS": 10, "SYNC_FAULT_DELAY_MIN_MS": 50}, sleep=sleeps.append)
    app.tasks["tasks.sync.aplicar_evento"].apply().get()
    assert sleeps == [0.010]
