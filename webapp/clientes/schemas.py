"""Marshmallow schemas of ``/clientes``. ``senha`` is write-only: never dumped."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from domain import clientes as regras
from domain.texto import ESPACOS, expressao_ordem, mensagem_ordem
from webapp.fields import TextoPreenchido

# Internationalized addresses are accepted on purpose: registro.br sells domains with
# accents (``josé@açaí.com.br``) and mail systems deliver to them (RFC 6531), so refusing
# them would refuse real customers. Hence ``idn-email``, which includes plain ``email``.
EMAIL_DOC = (
    "E-mail, internacionalizado ou não (ex.: ana@exemplo.com.br, josé@açaí.com.br); único sem diferenciar maiúsculas."
)


class EnderecoSchema(ma.Schema):
    """The address, shaped like the Java CRM's ``endereco``."""

    rua = TextoPreenchido(required=True, validate=validate.Length(min=1, max=200))
    numero = TextoPreenchido(required=True, validate=validate.Length(min=1, max=200))
    bairro = TextoPreenchido(required=True, validate=validate.Length(min=1, max=200))
    cidade = TextoPreenchido(required=True, validate=validate.Length(min=1, max=200))
    estado = ma.fields.String(
        required=True,
        validate=validate.Length(equal=2),
        metadata={
            "example": "GO",
            "pattern": f"^{regras.EXPRESSAO_UF}$",
            "description": "Sigla da UF (guardada em maiúsculas).",
        },
    )
    # The domain strips the CEP before checking it, so blanks around it are documented too.
    cep = ma.fields.String(
        required=True,
        validate=validate.Length(max=9),
        metadata={"example": "74000-000", "pattern": f"^[{ESPACOS}]*{regras.EXPRESSAO_CEP}[{ESPACOS}]*$"},
    )
    complemento = ma.fields.String(allow_none=True, validate=validate.Length(max=200))


class ClienteSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    nome = TextoPreenchido(required=True, validate=validate.Length(min=1, max=regras.NOME_MAX))
    email = ma.fields.Email(
        required=True,
        validate=validate.Length(max=regras.EMAIL_MAX),
        metadata={"format": "idn-email", "description": EMAIL_DOC},
    )
    senha = ma.fields.String(
        load_only=True,
        validate=validate.Length(min=regras.SENHA_MIN, max=regras.SENHA_MAX),
        metadata={"description": "Obrigatória na criação; guardada só como hash argon2id."},
    )
    endereco = ma.fields.Nested(EnderecoSchema, allow_none=True)
    telefone = ma.fields.String(allow_none=True, validate=validate.Length(max=regras.TELEFONE_MAX))
    java_id = ma.fields.Integer(dump_only=True, allow_none=True, metadata={"description": "Id do cliente no CRM Java."})
    criado_em = ma.fields.DateTime(dump_only=True)
    atualizado_em = ma.fields.DateTime(dump_only=True)


class NovoClienteSchema(ClienteSchema):
    """Body of ``POST /clientes``: a new customer needs a password to log in."""

    senha = ma.fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=regras.SENHA_MIN, max=regras.SENHA_MAX),
        metadata={"description": "Guardada só como hash argon2id."},
    )


class ClienteQueryArgsSchema(ma.Schema):
    email = ma.fields.String(validate=validate.Length(max=regras.EMAIL_MAX))
    nome = ma.fields.String(validate=validate.Length(max=100))
    sort = ma.fields.String(
        validate=[
            validate.Length(max=100),
            validate.Regexp(expressao_ordem(regras.CAMPOS_ORDENAVEIS), error=mensagem_ordem(regras.CAMPOS_ORDENAVEIS)),
        ],
        metadata={"description": f"Campos: {', '.join(regras.CAMPOS_ORDENAVEIS)}; '-' para decrescente."},
    )


class ClientePatchSchema(ClienteSchema):
    """Body of PATCH: any subset of the writable fields (use with ``partial=True``)."""
