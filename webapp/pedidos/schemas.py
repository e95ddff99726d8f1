"""Schemas of ``/pedidos``."""

from __future__ import annotations

from datetime import UTC

import marshmallow as ma
from marshmallow import validate

from domain.pedidos import METODOS_PAGAMENTO, STATUS
from webapp.carrinhos.schemas import LinhaCarrinhoSchema
from webapp.fields import Money


class ItemPedidoSchema(LinhaCarrinhoSchema):
    preco_unitario = Money(metadata={"description": "Preço no momento da compra."})


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
    historico = ma.fields.List(ma.fields.Dict())


class ItensDoPedidoSchema(ma.Schema):
    itens = ma.fields.List(ma.fields.Nested(ItemPedidoSchema))
    total = Money()


class CheckoutSchema(ma.Schema):
    pagamento_metodo = ma.fields.String(required=True, validate=validate.OneOf(METODOS_PAGAMENTO))


class IdempotencyHeaderSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = ma.fields.String(
        data_key="Idempotency-Key",
        validate=validate.Length(min=1, max=128),
        metadata={"description": "Mesma chave e mesmo corpo devolvem o pedido original."},
    )


class PedidoQueryArgsSchema(ma.Schema):
    status = ma.fields.String(validate=validate.OneOf(STATUS))
    cliente_id = ma.fields.String(validate=validate.Length(max=64), metadata={"description": "Só para staff."})
    desde = ma.fields.AwareDateTime(default_timezone=UTC)
    ate = ma.fields.AwareDateTime(default_timezone=UTC)
