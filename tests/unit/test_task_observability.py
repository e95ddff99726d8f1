"""Task outcomes and log context come from Celery's signals (tasks.observability).

Eager mode only here, for the signal plumbing: the e2e tests check the same series from
real worker processes on a real broker (tests/e2e/test_observability.py).
"""

from __future__ import annotations

import pytest
from celery import Celery

import tasks  # noqa: F401 - installs the signal receivers, as a worker does
from adapters import logs, metrics


@pytest.fixture
def app():
    app = Celery("obs-test", set_as_current=False)
    app.conf.task_always_eager = True
    return app


def count(task: str, outcome: str) -> float:
    return metrics.tasks_total().labels(task=task, outcome=outcome)._value.get()


def test_each_outcome_is_counted(app):
    seen = {}

    @app.task(name="obs.ok")
    def ok():
        seen.update(logs.current())
        return "aplicado"

    @app.task(name="obs.dead")
    def dead():
        return "rejeitado"

    @app.task(name="obs.boom")
    def boom():
        raise ValueError("boom")

    @app.task(name="obs.again", bind=True, max_retries=1)
    def again(self):
        raise self.retry(countdown=0)

    before = {k: count(*k) for k in [("obs.ok", "succeeded"), ("obs.dead", "dead_lettered"), ("obs.boom", "failed"),
                                     ("obs.again", "retried")]}  # fmt: skip
    ok.apply(headers={"request_id": "req-obs-1"})
    dead.apply()
    boom.apply()
    again.apply()
    assert count("obs.ok", "succeeded") == before[("obs.ok", "succeeded")] + 1
    assert count("obs.dead", "dead_lettered") == before[("obs.dead", "dead_lettered")] + 1
    assert count("obs.dead", "succeeded") == 0
    assert count("obs.boom", "failed") == before[("obs.boom", "failed")] + 1
    assert count("obs.again", "retried") >= before[("obs.again", "retried")] + 1
    # While it ran, the task's log lines carried its ids and the publisher's request id.
    assert seen["request_id"] == "req-obs-1" and seen["task_name"] == "obs.ok" and seen["task_id"]
    assert "request_id" not in logs.current()  # and the context ended with it
    assert metrics.task_runtime().labels(task="obs.ok")._sum.get() > 0
