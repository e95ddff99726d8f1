"""Shipping task (queue ``envios``): create the shipment of a confirmed order."""

from __future__ import annotations

import logging

from services import envios
from tasks import app, resources
from tasks.base import PonteTask

logger = logging.getLogger(__name__)


@app.task(name="tasks.envios.criar", base=PonteTask, subject="envio do pedido {0}")
def criar(pedido_id: str) -> str:
    """Create the order's shipment; idempotent (one per order)."""
    envio = envios.criar(resources.contexto(ator="sistema:envios"), pedido_id)
    logger.info("envio %s do pedido %s: %s", envio.id, pedido_id, envio.codigo_rastreio)
    return envio.id
