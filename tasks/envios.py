"""Shipping task (queue ``envios``): create the shipment of a confirmed order."""

from __future__ import annotations

import logging

from services import envios
from tasks import app, resources
from tasks.sync import TRANSITORIOS, atraso

logger = logging.getLogger(__name__)


@app.task(name="tasks.envios.criar", bind=True, max_retries=None)
def criar(self, pedido_id: str) -> str:
    try:
        envio = envios.criar(resources.contexto(ator="sistema:envios"), pedido_id)
    except TRANSITORIOS as exc:
        raise self.retry(exc=exc, countdown=atraso(self.request.retries, resources.cfg()["SYNC_RETRY_MAX_S"])) from None
    logger.info("envio %s do pedido %s: %s", envio.id, pedido_id, envio.codigo_rastreio)
    return envio.id
