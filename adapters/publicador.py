"""Order status changes published on Redis for the Java CRM (channel ``pedidos``)."""

from __future__ import annotations

import json
import logging

import redis

from adapters import tracing

logger = logging.getLogger(__name__)

CANAL = "pedidos"


class RedisPublicador:
    def __init__(self, client: redis.Redis, canal: str = CANAL):
        self._client, self._canal = client, canal

    def status_do_pedido(self, mensagem: dict) -> None:
        if traceparent := tracing.traceparent():  # the CRM may continue the order's trace
            mensagem = {**mensagem, "traceparent": traceparent}
        # Best effort: the order's change is already stored; a lost notice must not undo it.
        try:
            self._client.publish(self._canal, json.dumps(mensagem, default=str, ensure_ascii=False))
        except redis.RedisError:
            logger.warning("could not publish order %s status change", mensagem.get("pedido_id"), exc_info=True)
