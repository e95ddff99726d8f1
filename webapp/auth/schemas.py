"""Schemas of ``/auth``."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from domain import clientes as regras


class LoginSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=validate.Length(min=3, max=regras.EMAIL_MAX))
    senha = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=regras.SENHA_MAX))


class TokenSchema(ma.Schema):
    access_token = ma.fields.String()
    token_type = ma.fields.String(metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(metadata={"description": "Validade em segundos."})
    cliente_id = ma.fields.String()
