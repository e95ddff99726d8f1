"""Schemas of ``/auditoria``."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from webapp.fields import IdObjeto, InstanteUTC


class RegistroAuditoriaSchema(ma.Schema):
    id = ma.fields.String()
    ator = ma.fields.String(metadata={"description": "staff:<nome>, cliente:<id>, anonimo ou sistema:java"})
    recurso = ma.fields.String()
    recurso_id = ma.fields.String(allow_none=True)
    acao = ma.fields.String()
    campos = ma.fields.List(ma.fields.String())
    em = ma.fields.DateTime()
    request_id = ma.fields.String(allow_none=True)


class AuditoriaQueryArgsSchema(ma.Schema):
    ator = ma.fields.String(validate=validate.Length(max=200))
    recurso = ma.fields.String(validate=validate.Length(max=50))
    recurso_id = IdObjeto(validate=validate.Length(max=100))
    acao = ma.fields.String(validate=validate.Length(max=50))
    desde = InstanteUTC()
    ate = InstanteUTC()
