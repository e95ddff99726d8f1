"""Payment tasks (queue ``pagamentos``): charge an order; expire and recover payments.

Thin: the service decides. ``PonteTask`` retries gateway and infrastructure hiccups with
capped, jittered backoff; from the ``PAGAMENTO_MAX_RETRIES``-th retry on, a gateway hiccup
makes the service fail the payment instead (which cancels the order and releases its stock).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from domain.pagamentos import GatewayTransitorio
from services import pagamentos
from services.common import agora
from tasks import app, resources
from tasks.base import TRANSIENT, PonteTask

logger = logging.getLogger(__name__)


@app.task(
    name="tasks.pagamentos.processar",
    base=PonteTask,
    bind=True,
    autoretry_for=(GatewayTransitorio, *TRANSIENT),
    retry_backoff_max_setting="PAGAMENTO_RETRY_MAX_S",
    subject="pagamento {0}",
)
def processar(self, pagamento_id: str) -> str:
    """Charge one payment; idempotent (the gateway's key is derived from the order)."""
    ultima = self.request.retries >= resources.cfg()["PAGAMENTO_MAX_RETRIES"]
    ctx = resources.contexto(ator="sistema:pagamentos", request_id=(self.request.headers or {}).get("request_id"))
    status = pagamentos.processar(ctx, pagamento_id, ultima_tentativa=ultima)
    logger.info("pagamento %s: %s (tentativa %d)", pagamento_id, status, self.request.retries + 1)
    return status


@app.task(name="tasks.pagamentos.verificar")
def verificar() -> dict:
    """Beat job: expire unpaid boletos/pix, re-enqueue payments whose task was lost, finish
    cancellations that stopped half-way, prune old Idempotency-Key records."""
    expira_apos = timedelta(seconds=resources.cfg()["PAGAMENTO_EXPIRA_S"])
    feito = pagamentos.verificar(resources.contexto(ator="sistema:beat"), agora(), expira_apos)
    if any(feito.values()):
        logger.info("pagamentos: %s", ", ".join(f"{v} {k}" for k, v in feito.items()))
    return feito
