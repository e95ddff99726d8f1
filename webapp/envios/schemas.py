"""Schemas of ``/envios``."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from domain.envios import STATUS


class HistoricoEnvioSchema(ma.Schema):
    """One status change of a shipment, with when it happened."""

    status = ma.fields.String(metadata={"enum": list(STATUS)})
    em = ma.fields.DateTime()


class EnvioSchema(ma.Schema):
    id = ma.fields.String()
    pedido_id = ma.fields.String()
    codigo_rastreio = ma.fields.String()
    endereco = ma.fields.Dict(allow_none=True)
    status = ma.fields.String(metadata={"enum": list(STATUS)})
    historico = ma.fields.List(
        ma.fields.Nested(HistoricoEnvioSchema), metadata={"description": "Cada mudança de status, com data."}
    )
    criado_em = ma.fields.DateTime()
    atualizado_em = ma.fields.DateTime()


class RastreioSchema(ma.Schema):
    codigo_rastreio = ma.fields.String()
    status = ma.fields.String(metadata={"enum": list(STATUS)})
    historico = ma.fields.List(ma.fields.Nested(HistoricoEnvioSchema))


class MudancaEnvioSchema(ma.Schema):
    status = ma.fields.String(required=True, validate=validate.OneOf(STATUS))
