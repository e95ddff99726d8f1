"""Schemas of ``/pagamentos`` (also the payment of ``/pedidos/{id}/pagamento``)."""

from __future__ import annotations

import marshmallow as ma

from domain.pagamentos import STATUS as STATUS_PAGAMENTO
from webapp.fields import Money


class HistoricoPagamentoSchema(ma.Schema):
    """One status change of a payment, with when it happened."""

    status = ma.fields.String(metadata={"enum": list(STATUS_PAGAMENTO)})
    em = ma.fields.DateTime()


class PagamentoSchema(ma.Schema):
    id = ma.fields.String()
    pedido_id = ma.fields.String()
    metodo = ma.fields.String()
    valor = Money()
    status = ma.fields.String(metadata={"enum": list(STATUS_PAGAMENTO)})
    referencia = ma.fields.String(allow_none=True)
    motivo = ma.fields.String(allow_none=True)
    tentativas = ma.fields.Integer()
    criado_em = ma.fields.DateTime()
    atualizado_em = ma.fields.DateTime(allow_none=True)
    historico = ma.fields.List(ma.fields.Nested(HistoricoPagamentoSchema))
