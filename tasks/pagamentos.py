"""Payment tasks (queue ``pagamentos``): charge an order; expire and recover payments.

Thin: the service decides; the task retries gateway and infrastructure hiccups with
capped, jittered backoff, and on its last try lets the service fail the payment (which
cancels the order and releases its stock).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from domain.pagamentos import GatewayTransitorio
from services import pagamentos
from services.common import agora
from tasks import app, resources
from tasks.sync import TRANSITORIOS, atraso

logger = logging.getLogger(__name__)


@app.task(name="tasks.pagamentos.processar", bind=True, max_retries=None)
def processar(self, pagamento_id: str) -> str:
    cfg = resources.cfg()
    ultima = self.request.retries >= cfg["PAGAMENTO_MAX_RETRIES"]
    try:
        ctx = resources.contexto(ator="sistema:pagamentos", request_id=(self.request.headers or {}).get("request_id"))
        status = pagamentos.processar(ctx, pagamento_id, ultima_tentativa=ultima)
    except (GatewayTransitorio, *TRANSITORIOS) as exc:
        espera = atraso(self.request.retries, cfg["PAGAMENTO_RETRY_MAX_S"])
        logger.warning("pagamento %s: falha transitória (%s); nova tentativa em %.1fs", pagamento_id, exc, espera)
        raise self.retry(exc=exc, countdown=espera) from None
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
