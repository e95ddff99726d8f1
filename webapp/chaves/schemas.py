"""Schemas of ``/chaves``. The clear key appears only in the creation response."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from domain.seguranca import ESCOPOS
from webapp.fields import TextoPreenchido


class ChaveSchema(ma.Schema):
    prefixo = ma.fields.String(dump_only=True)
    nome = TextoPreenchido(required=True, validate=validate.Length(min=1, max=100))
    escopos = ma.fields.List(ma.fields.String(validate=validate.OneOf(ESCOPOS)), load_default=list)
    criado_em = ma.fields.DateTime(dump_only=True)
    revogada_em = ma.fields.DateTime(dump_only=True, allow_none=True)


class ChaveCriadaSchema(ChaveSchema):
    chave = ma.fields.String(dump_only=True, metadata={"description": "Mostrada só agora: guarde-a."})
