"""The Java CRM's messages as Gson writes them: their shape (marshmallow schemas), checked
before ``domain.eventos`` applies the rules. A message that fails either is ``EventoInvalido``.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import EXCLUDE, validate

from domain.eventos import (
    ACOES,
    CANAL_CLIENTES,
    CANAL_PRODUTOS,
    JAVA_INT_MAX,
    PREFIXO_CARRINHO,
    CarrinhoJava,
    EventoCliente,
    EventoInvalido,
    EventoProduto,
    Regra,
    decodificar_carrinho,
    evento_cliente,
    evento_produto,
    ler_json,
)


def decodificar(canal: str, payload: str) -> EventoProduto | EventoCliente | CarrinhoJava:
    """The event a message of ``canal`` is (as the worker reads it), or ``EventoInvalido``."""
    if canal == CANAL_PRODUTOS:
        return decodificar_produto(payload)
    if canal == CANAL_CLIENTES:
        return decodificar_cliente(payload)
    if canal.startswith(PREFIXO_CARRINHO):
        return decodificar_carrinho(canal, payload)
    raise EventoInvalido(f"canal sem consumidor: {canal[:100]}", Regra.CANAL)


def decodificar_produto(payload: str) -> EventoProduto:
    """A message of the products channel."""
    return evento_produto(_validar(EventoProdutoSchema(), ler_json(payload)))


def decodificar_cliente(payload: str) -> EventoCliente:
    """A message of the customers channel."""
    return evento_cliente(_validar(ClienteJavaSchema(), ler_json(payload)))


class _JavaInt(ma.fields.Integer):
    def __init__(self, **kwargs):
        super().__init__(strict=True, validate=validate.Range(min=0, max=JAVA_INT_MAX), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class ProdutoJavaSchema(ma.Schema):
    class Meta:
        unknown = EXCLUDE  # the CRM may add fields; they are ignored, not fatal

    id = _JavaInt(required=True)
    nome = ma.fields.Raw()
    descricao = ma.fields.Raw(allow_none=True)
    preco = ma.fields.Raw()
    estoque = ma.fields.Raw()


class EventoProdutoSchema(ma.Schema):
    class Meta:
        unknown = EXCLUDE

    acao = ma.fields.String(required=True, validate=validate.OneOf(list(ACOES)))
    produto = ma.fields.Nested(ProdutoJavaSchema, required=True)


class EnderecoJavaSchema(ma.Schema):
    class Meta:
        unknown = EXCLUDE

    # Text (Java Strings): anything else is refused here, not met by the rules' strip().
    rua = ma.fields.String(allow_none=True)
    numero = ma.fields.String(allow_none=True)
    bairro = ma.fields.String(allow_none=True)
    cidade = ma.fields.String(allow_none=True)
    estado = ma.fields.String(allow_none=True)
    cep = ma.fields.String(allow_none=True)
    complemento = ma.fields.String(allow_none=True)


class ClienteJavaSchema(ma.Schema):
    class Meta:
        unknown = EXCLUDE

    id = _JavaInt(required=True)
    nome = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    senha = ma.fields.String()
    senha_hash = ma.fields.String(validate=validate.Regexp(r"^\$argon2id\$"))
    endereco = ma.fields.Nested(EnderecoJavaSchema, allow_none=True)
    numeroTelefone = ma.fields.String(allow_none=True)


def _validar(schema: ma.Schema, data: Any) -> dict:
    if not isinstance(data, dict):
        raise EventoInvalido("formato desconhecido: esperado um objeto JSON")
    try:
        return schema.load(data)
    except ma.ValidationError as exc:
        raise EventoInvalido(f"formato desconhecido: {exc.messages}") from None
