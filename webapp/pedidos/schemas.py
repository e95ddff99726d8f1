"""Schemas of ``/pedidos``."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from domain.pedidos import CANCELADO, METODOS_PAGAMENTO, STATUS
from webapp.carrinhos.schemas import LinhaCarrinhoSchema
from webapp.fields import IdObjeto, InstanteUTC, Money


class ItemPedidoSchema(LinhaCarrinhoSchema):
    preco_unitario = Money(metadata={"description": "Preço no momento da compra."})


class HistoricoPedidoSchema(ma.Schema):
    """One status change of an order, with when it happened."""

    status = ma.fields.String(metadata={"enum": list(STATUS)})
    em = ma.fields.DateTime()


class PedidoSchema(ma.Schema):
    id = ma.fields.String()
    cliente_id = ma.fields.String()
    itens = ma.fields.List(ma.fields.Nested(ItemPedidoSchema))
    total = Money()
    status = ma.fields.String(metadata={"enum": list(STATUS)})
    pagamento_metodo = ma.fields.String(metadata={"enum": list(METODOS_PAGAMENTO)})
    endereco = ma.fields.Dict(allow_none=True)
    criado_em = ma.fields.DateTime()
    atualizado_em = ma.fields.DateTime()
    historico = ma.fields.List(ma.fields.Nested(HistoricoPedidoSchema))


class ItensDoPedidoSchema(ma.Schema):
    itens = ma.fields.List(ma.fields.Nested(ItemPedidoSchema))
    total = Money()


class CheckoutSchema(ma.Schema):
    pagamento_metodo = ma.fields.String(required=True, validate=validate.OneOf(METODOS_PAGAMENTO))
    cartao_token = ma.fields.String(
        validate=validate.Length(min=1, max=100),
        load_only=True,
        metadata={"description": "Token do cartão/PayPal emitido pelo gateway (nunca o número do cartão)."},
    )


class IdempotencyHeaderSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = ma.fields.String(
        data_key="Idempotency-Key",
        validate=validate.Length(min=1, max=128),
        metadata={"description": "Mesma chave e mesmo corpo devolvem o pedido original."},
    )


class LinhaResumoSchema(ma.Schema):
    quantidade = ma.fields.Integer()
    valor = Money()


class ResumoSchema(ma.Schema):
    por_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(LinhaResumoSchema))
    quantidade = ma.fields.Integer()
    valor = Money(metadata={"description": "Valor dos pedidos não cancelados."})


class MudancaPedidoSchema(ma.Schema):
    # Only cancelling is a staff decision: confirmado comes from the payment, enviado and
    # entregue from the shipment, so an order can never be confirmed without being paid.
    status = ma.fields.String(
        required=True,
        validate=validate.OneOf([CANCELADO]),
        metadata={"description": "Só `cancelado`: os outros status vêm do pagamento e do envio."},
    )


class PedidoQueryArgsSchema(ma.Schema):
    status = ma.fields.String(validate=validate.OneOf(STATUS))
    cliente_id = IdObjeto(validate=validate.Length(max=64), metadata={"description": "Só para staff."})
    desde = InstanteUTC()
    ate = InstanteUTC()
