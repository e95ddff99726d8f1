"""Marshmallow schemas of ``/produtos``: bodies, responses and query arguments."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from domain import produtos as regras
from domain.money import PRECO_MAXIMO
from domain.texto import expressao_ordem, mensagem_ordem
from webapp.fields import Money, PrecoFiltro, StrictInteger, TextoPreenchido


class ProdutoSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    nome = TextoPreenchido(required=True, validate=validate.Length(min=1, max=regras.NOME_MAX))
    descricao = ma.fields.String(allow_none=True, validate=validate.Length(max=regras.DESCRICAO_MAX))
    preco = Money(
        required=True,
        validate=validate.Range(min=0, max=PRECO_MAXIMO),
        metadata={"description": "Preço em reais, número exato com até 2 casas decimais."},
    )
    estoque = StrictInteger(required=True, validate=validate.Range(min=0, max=regras.ESTOQUE_MAXIMO))
    categoria = ma.fields.String(allow_none=True, validate=validate.Length(max=regras.CATEGORIA_MAX))
    java_id = ma.fields.Integer(dump_only=True, allow_none=True, metadata={"description": "Id do produto no CRM Java."})
    criado_em = ma.fields.DateTime(dump_only=True)
    atualizado_em = ma.fields.DateTime(dump_only=True)


class ProdutoQueryArgsSchema(ma.Schema):
    q = ma.fields.String(
        validate=validate.Length(max=100),
        metadata={"description": "Texto contido no nome (sem diferenciar acentos e maiúsculas)."},
    )
    categoria = ma.fields.String(validate=validate.Length(max=regras.CATEGORIA_MAX))
    preco_min = PrecoFiltro(
        validate=validate.Range(min=0, max=PRECO_MAXIMO),
        metadata={"description": "Preço mínimo; não pode ser maior que preco_max (422)."},
    )
    preco_max = PrecoFiltro(validate=validate.Range(min=0, max=PRECO_MAXIMO))
    em_estoque = ma.fields.Boolean()
    java_id = ma.fields.Integer(validate=validate.Range(min=0, max=2**63 - 1))
    sort = ma.fields.String(
        validate=[
            validate.Length(max=100),
            validate.Regexp(expressao_ordem(regras.CAMPOS_ORDENAVEIS), error=mensagem_ordem(regras.CAMPOS_ORDENAVEIS)),
        ],
        metadata={
            "description": "Campos separados por vírgula, '-' para decrescente: " + ", ".join(regras.CAMPOS_ORDENAVEIS)
        },
    )


class ProdutoPatchSchema(ProdutoSchema):
    """Body of PATCH: any subset of the writable fields (use with ``partial=True``)."""
