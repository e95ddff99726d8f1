"""The one retry policy (tasks.base.PonteTask): Celery's autoretry with capped exponential
backoff and full jitter, limits from settings, and a last word once the retries run out.

Eager mode only here: Celery runs each retry at once, in this process, so the waits are
what the tasks asked for, not waited. Real workers on a real broker retry and dead-letter
in tests/e2e/test_sync_pipeline.py and tests/e2e/test_pagamentos.py.
"""

from __future__ import annotations

import logging

import pytest
from celery import Celery
from celery.signals import task_retry
from pymongo.errors import AutoReconnect

from tasks import app as ponte_app
from tasks import resources
from tasks.base import PonteTask


@pytest.fixture
def app():
    return Celery("base-test", set_as_current=False)


@pytest.fixture
def waits():
    """The countdown of every retry Celery schedules while the test runs."""
    seen: list[int] = []

    def record(reason=None, **_):
        seen.append(reason.when)

    task_retry.connect(record, weak=False)
    yield seen
    task_retry.disconnect(record)


class Falha:
    """Fails ``vezes`` times with ``erro``, then returns "ok"."""

    def __init__(self, vezes: float, erro: Exception | None = None):
        self.vezes, self.erro, self.chamadas = vezes, erro or AutoReconnect("mongo caiu"), 0

    def __call__(self, *_) -> str:
        self.chamadas += 1
        if self.chamadas <= self.vezes:
            raise self.erro
        return "ok"


def tarefa(app, acao, **options):
    """A task of the test's own app that runs ``acao``."""

    def run(*args):
        return acao(*args)

    return app.task(run, shared=False, **options)


class Registro(PonteTask):
    """Keeps what ``give_up`` was told."""

    desistencias: list = []

    def give_up(self, exc, args, kwargs) -> None:
        self.desistencias.append((exc, self.request.retries + 1, args))


def test_waits_double_from_one_second_up_to_the_cap(app, waits):
    acao = Falha(5)
    task = tarefa(app, acao, name="t.dobra", base=PonteTask, max_retries=10, retry_backoff_max=4, retry_jitter=False)
    assert task.apply().get() == "ok"
    assert acao.chamadas == 6 and waits == [1, 2, 4, 4, 4]


def test_full_jitter_draws_whole_seconds_up_to_each_wait(app, waits):
    task = tarefa(app, Falha(12), name="t.jitter", base=PonteTask, max_retries=20, retry_backoff_max=8)
    assert task.apply().get() == "ok"
    assert len(waits) == 12
    for n, wait in enumerate(waits):
        assert isinstance(wait, int) and 0 <= wait <= min(8, 2**n), (n, wait)


def test_the_limits_are_the_settings_the_task_names(app, waits, monkeypatch):
    monkeypatch.setitem(resources.cfg(), "SYNC_MAX_RETRIES", 2)
    monkeypatch.setitem(resources.cfg(), "SYNC_RETRY_MAX_S", 1)
    acao = Falha(float("inf"))
    task = tarefa(app, acao, name="t.settings", base=Registro, max_retries_setting="SYNC_MAX_RETRIES")
    Registro.desistencias = []
    assert task.apply().state == "FAILURE"
    assert acao.chamadas == 3 and len(waits) == 2 and all(w in (0, 1) for w in waits)
    [(exc, tentativas, args)] = Registro.desistencias
    assert exc is acao.erro and tentativas == 3 and tuple(args) == ()


def test_without_a_limit_it_retries_until_it_works(app, waits):
    acao = Falha(30)
    assert tarefa(app, acao, name="t.sempre", base=Registro, retry_backoff_max=1).apply().get() == "ok"
    assert acao.chamadas == 31


def test_an_error_that_is_not_transient_is_neither_retried_nor_given_up(app, waits):
    acao = Falha(1, erro=ValueError("bug"))
    Registro.desistencias = []
    task = tarefa(app, acao, name="t.bug", base=Registro, max_retries=5)
    assert task.apply().state == "FAILURE"
    assert acao.chamadas == 1 and waits == [] and Registro.desistencias == []


def test_each_retry_says_what_failed_how_and_when_it_is_tried_again(app, caplog):
    task = tarefa(
        app, Falha(1), name="t.log", base=PonteTask, retry_backoff_max=1, retry_jitter=False, subject="pagamento {0}"
    )
    with caplog.at_level(logging.WARNING, logger="tasks.base"):
        assert task.apply(args=["p-1"]).get() == "ok"
    assert caplog.messages == ["pagamento p-1: falha transitória (mongo caiu); nova tentativa em 1s"]


def test_ponte_tasks_keep_their_limits_and_transient_errors():
    ponte_app.loader.import_default_modules()
    cfg, tasks = resources.cfg(), ponte_app.tasks
    for name in ("tasks.sync.aplicar_evento", "tasks.sync.aplicar_lote"):
        assert (tasks[name].max_retries, tasks[name].retry_backoff_max) == (
            cfg["SYNC_MAX_RETRIES"], cfg["SYNC_RETRY_MAX_S"]
        )  # fmt: skip
    # These never give up on an infrastructure outage: a dead letter and a shipment must land.
    for name in ("tasks.sync.rejeitar_evento", "tasks.envios.criar"):
        assert (tasks[name].max_retries, tasks[name].retry_backoff_max) == (None, cfg["SYNC_RETRY_MAX_S"])
    pagamento = tasks["tasks.pagamentos.processar"]
    assert (pagamento.max_retries, pagamento.retry_backoff_max) == (None, cfg["PAGAMENTO_RETRY_MAX_S"])
    assert "GatewayTransitorio" in {e.__name__ for e in pagamento.autoretry_for}
    assert all(t.retry_backoff and t.retry_jitter for t in tasks.values() if isinstance(t, PonteTask))
