"""Enqueueing sync work on Celery from processes that do not run tasks (bridge, web).

Tasks are sent by name, so a producer imports no task code; every sync task goes to the
``sync`` queue, which ops scale independently.
"""

from __future__ import annotations

from amqp.exceptions import ChannelError
from celery import Celery
from celery.signals import before_task_publish

from adapters import logs

TASK_APLICAR = "tasks.sync.aplicar_evento"
TASK_APLICAR_LOTE = "tasks.sync.aplicar_lote"
TASK_REJEITAR = "tasks.sync.rejeitar_evento"
FILA_SYNC = "sync"
TASK_PAGAMENTO = "tasks.pagamentos.processar"
FILA_PAGAMENTOS = "pagamentos"
TASK_ENVIO = "tasks.envios.criar"
FILA_ENVIOS = "envios"


# Every queue a Ponte worker may consume (celeryconfig routes tasks to them).
FILAS = ("default", FILA_SYNC, FILA_PAGAMENTOS, FILA_ENVIOS)


@before_task_publish.connect
def _propagar_contexto(headers=None, **_):
    """Every task published while a request or event is in hand inherits its ids."""
    if headers is None:
        return
    for key, value in logs.current().items():
        if key in logs.PROPAGATED:
            headers.setdefault(key, value)


def celery_produtor(redis_url: str, broker_use_ssl: dict | None = None) -> Celery:
    """A Celery app configured like the workers' (celeryconfig) but on ``redis_url``, with
    that URL's TLS options (``adapters.redis_client.celery_broker_ssl``)."""
    app = Celery("ponte", set_as_current=False)
    app.config_from_object("celeryconfig")
    app.conf.broker_url = redis_url
    app.conf.broker_use_ssl = broker_use_ssl
    return app


def _resumo(envelopes: list[dict]) -> str:
    """What Flower and the worker's log show of a sync task's arguments: the events' ids
    and channels, never their payload (names, e-mails, password hashes)."""
    ids = ", ".join(f"{e.get('canal')}:{e.get('event_id')}" for e in envelopes[:5])
    return f"[{len(envelopes)} evento(s): {ids}{', ...' if len(envelopes) > 5 else ''}]"


class CeleryDespachante:
    def __init__(self, app: Celery):
        self._app = app

    def enviar(self, envelope: dict, headers: dict | None = None) -> None:
        self._app.send_task(
            TASK_APLICAR, args=[envelope], queue=FILA_SYNC, headers=headers or {}, argsrepr=_resumo([envelope])
        )

    def enviar_lote(self, envelopes: list[dict]) -> None:
        """Several envelopes as one task (the bridge groups what arrives together)."""
        self._app.send_task(TASK_APLICAR_LOTE, args=[envelopes], queue=FILA_SYNC, argsrepr=_resumo(envelopes))

    def sync_em_espera(self) -> int:
        """Tasks in the ``sync`` queue that no worker has taken yet (the broker's count)."""
        with self._app.pool.acquire(block=True, timeout=1) as conn:
            try:
                return conn.default_channel.queue_declare(queue=FILA_SYNC, passive=True).message_count
            except ChannelError:  # never declared: nothing was ever sent to it
                return 0

    def processar_pagamento(self, pagamento_id: str, headers: dict | None = None) -> None:
        self._app.send_task(TASK_PAGAMENTO, args=[pagamento_id], queue=FILA_PAGAMENTOS, headers=headers or {})

    def criar_envio(self, pedido_id: str) -> None:
        self._app.send_task(TASK_ENVIO, args=[pedido_id], queue=FILA_ENVIOS)

    def rejeitar(self, envelope: dict, motivo: str) -> None:
        self._app.send_task(TASK_REJEITAR, args=[envelope, motivo], queue=FILA_SYNC, argsrepr=_resumo([envelope]))
