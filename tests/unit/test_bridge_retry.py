"""The bridge's retry policy (``bridge.retry``): the waits it asks for, and when it gives up."""

from __future__ import annotations

import math
import threading
import time

import pytest

from bridge.retry import DrainWait, retry


class Falha:
    """An action that fails ``vezes`` times with ``erro``, then returns "ok"."""

    def __init__(self, vezes: float, erro: type[Exception] = ConnectionError):
        self.vezes, self.erro, self.chamadas = vezes, erro, 0

    def __call__(self) -> str:
        self.chamadas += 1
        if self.chamadas <= self.vezes:
            raise self.erro("falhou")
        return "ok"


def test_waits_double_from_the_base_and_the_last_try_is_not_followed_by_a_wait():
    esperas: list[float] = []
    acao = Falha(math.inf)
    with pytest.raises(ConnectionError):
        retry(acao, attempts=5, base_s=0.2, may_wait=lambda s: esperas.append(s) or True)
    assert acao.chamadas == 5
    assert esperas == pytest.approx([0.2, 0.4, 0.8, 1.6])


def test_the_result_once_it_works():
    acao = Falha(2)
    assert retry(acao, attempts=5, base_s=0.1, may_wait=lambda s: True) == "ok"
    assert acao.chamadas == 3


def test_the_cap_bounds_each_wait():
    esperas: list[float] = []
    acao = Falha(4)
    retry(acao, attempts=math.inf, base_s=0.5, cap_s=0.5, may_wait=lambda s: esperas.append(s) or True)
    assert esperas == [0.5, 0.5, 0.5, 0.5]


def test_gives_up_when_it_may_not_wait():
    acao = Falha(math.inf)
    with pytest.raises(ConnectionError):
        retry(acao, attempts=5, base_s=0.2, may_wait=lambda s: False)
    assert acao.chamadas == 1


def test_an_error_it_does_not_retry_ends_at_once():
    acao = Falha(math.inf, erro=ValueError)
    with pytest.raises(ValueError):
        retry(acao, attempts=5, base_s=0.2, may_wait=lambda s: True, retry_on=(ConnectionError,))
    assert acao.chamadas == 1


def test_drain_wait_sleeps_while_running_and_stops_at_the_drain_bound():
    stop = threading.Event()
    espera = DrainWait(stop, drain_max_s=0.15)
    inicio = time.monotonic()
    assert espera(0.05)
    assert time.monotonic() - inicio >= 0.05
    stop.set()  # the bound runs from the first wait after the stop
    assert espera(0.1)
    assert not espera(0.1)  # 0.1 + 0.1 > 0.15
