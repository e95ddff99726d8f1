"""Schemas of ``/carrinhos``."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from domain.carrinhos import QUANTIDADE_MAXIMA
from webapp.fields import IdObjeto, Money, StrictInteger


class LinhaCarrinhoSchema(ma.Schema):
    produto_id = ma.fields.String()
    nome = ma.fields.String()
    preco_unitario = Money(metadata={"description": "Preço atual do produto."})
    quantidade = ma.fields.Integer()
    subtotal = Money()


class CarrinhoSchema(ma.Schema):
    cliente_id = ma.fields.String()
    itens = ma.fields.List(ma.fields.Nested(LinhaCarrinhoSchema))
    total = Money(metadata={"description": "Soma exata dos subtotais, com os preços de agora."})
    indisponiveis = ma.fields.List(
        ma.fields.String(), metadata={"description": "Produtos do carrinho que saíram do catálogo."}
    )


class QuantidadeSchema(ma.Schema):
    quantidade = StrictInteger(required=True, validate=validate.Range(min=1, max=QUANTIDADE_MAXIMA))


class NovoItemSchema(QuantidadeSchema):
    produto_id = IdObjeto(required=True, validate=validate.Length(min=1, max=64))
