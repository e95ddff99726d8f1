"""The names of the rules by which Ponte refuses a CRM event: ``EventoInvalido.regra``,
the contract's ``x-regras`` (contracts/asyncapi.yaml) and ``flask eventos validar`` share them."""

from __future__ import annotations

from domain.campos import OBRIGATORIO


class Regra:
    """The names of the refusal rules, as ``contracts/asyncapi.yaml`` states them
    (``x-regras``): the Java team, the dead letters and ``eventos validar`` share them."""

    CANAL = "canal-desconhecido"
    UTF8 = "utf8"
    NUL = "nul"
    TAMANHO = "tamanho"
    JSON = "json"
    ESQUEMA = "esquema"  # the message's JSON Schema in the contract
    ID_ZERO = "id-zero"
    PRECO = "preco-centavos"
    TEXTO = "texto"
    EMAIL = "email"
    ENDERECO = "endereco"
    SENHA = "senha"
    CARRINHO_CANAL = "carrinho-canal"
    CARRINHO_QUANTIDADE = "carrinho-quantidade"
    REENVIO = "reenvio"  # a stream entry's reenvio_de
    # Rules on Ponte's state, not on the message alone: only the worker can apply them.
    CLIENTE_DESCONHECIDO = "cliente-desconhecido"
    PRODUTO_DESCONHECIDO = "produto-desconhecido"
    ESTOQUE = "estoque-insuficiente"
    EMAIL_DE_OUTRO = "email-de-outro-cliente"
    CONFLITO = "conflito-de-escrita"


REGRAS = frozenset(v for k, v in vars(Regra).items() if k.isupper())

# A field's value refused by the rules (``DadosInvalidos``): the rule that names it. The
# fields the contract's schema types and bounds entirely (estoque) are schema failures.
_REGRA_DO_CAMPO = {
    "preco": Regra.PRECO,
    "nome": Regra.TEXTO,
    "descricao": Regra.TEXTO,
    "telefone": Regra.TEXTO,
    "email": Regra.EMAIL,
    "endereco": Regra.ENDERECO,
    "senha": Regra.SENHA,
    "estoque": Regra.ESQUEMA,
}


def regra_dos_campos(erros: dict) -> str:
    """One name for the refusal (the reason lists every field): a field missing, or one the
    schema bounds entirely, makes it a schema failure; else the first refused field's rule."""
    if OBRIGATORIO in str(erros) or any(_REGRA_DO_CAMPO.get(c) == Regra.ESQUEMA for c in erros):
        return Regra.ESQUEMA
    return next((regra for campo, regra in _REGRA_DO_CAMPO.items() if campo in erros), Regra.ESQUEMA)
