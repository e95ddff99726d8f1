"""Cliente: a customer, the address shape shared with the Java CRM, e-mail rules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from domain.campos import OBRIGATORIO, validar
from domain.errors import DadosInvalidos
from domain.texto import parse_ordem, texto_obrigatorio, texto_opcional

NOME_MAX = 200
EMAIL_MAX = 254
TELEFONE_MAX = 30
SENHA_MIN = 8
SENHA_MAX = 128

# Who set a customer's password: the customer through the API, or the CRM. The CRM never
# replaces a password the customer chose through the API (docs/security.md).
SENHA_API, SENHA_CRM = "api", "crm"

CAMPOS_ENDERECO = ("rua", "numero", "bairro", "cidade", "estado", "cep", "complemento")
CAMPOS_ORDENAVEIS = ("nome", "email", "criado_em", "atualizado_em")
ORDEM_PADRAO = "nome"
CAMPOS_OBRIGATORIOS = ("nome", "email")

# ASCII only: \d would take "٧٤٠٠٠-٠٠٠", and upper-casing first would take "ıa" ("IA").
EXPRESSAO_CEP = "[0-9]{5}-?[0-9]{3}"
EXPRESSAO_UF = "[A-Za-z]{2}"
# Deliberately simple: one @, something on each side, a dot in the domain. Real
# validation of an address is sending mail to it.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class Endereco:
    rua: str
    numero: str
    bairro: str
    cidade: str
    estado: str
    cep: str
    complemento: str | None = None


@dataclass
class Cliente:
    """A customer. ``senha_hash`` never leaves the service layer."""

    id: str
    nome: str
    email: str
    endereco: Endereco | None = None
    telefone: str | None = None
    senha_hash: str | None = field(default=None, repr=False)
    # Unknown (stored before this was recorded) counts as the API's: never replaced by the CRM.
    senha_origem: str = SENHA_API
    java_id: int | None = None
    criado_em: datetime | None = None
    atualizado_em: datetime | None = None
    versao: int = 1


@dataclass
class ClienteFiltro:
    email: str | None = None
    nome: str | None = None
    ordem: list[tuple[str, int]] = field(default_factory=lambda: [(ORDEM_PADRAO, 1)])


def senha_vinda_do_crm(atual: Cliente | None, senha_hash: str | None) -> tuple[str | None, bool]:
    """The password hash a CRM customer event may store, and whether it ends the customer's
    API sessions. An API account linked by its e-mail keeps its own password: else anyone
    who can publish on the CRM's channel could take it over. A password the CRM set is the
    CRM's; its change (a resend hashes the same) ends every session."""
    if senha_hash is None:
        return None, False
    if atual is None:
        return senha_hash, False
    if atual.senha_origem != SENHA_CRM or atual.senha_hash == senha_hash:
        return None, False
    return senha_hash, True


def normalizar_email(email: str) -> str:
    """The uniqueness key of an e-mail: trimmed and case-folded."""
    return email.strip().casefold()


def _email(valor: str) -> str:
    limpo = valor.strip()
    if len(limpo) > EMAIL_MAX or not _EMAIL.match(limpo):
        raise DadosInvalidos({"email": ["E-mail inválido."]})
    return limpo


def _senha(valor: str) -> str:
    # Never strip or echo a password: whitespace is part of it.
    if not SENHA_MIN <= len(valor) <= SENHA_MAX:
        raise DadosInvalidos({"senha": [f"A senha deve ter entre {SENHA_MIN} e {SENHA_MAX} caracteres."]})
    return valor


def normalizar_endereco(dados: dict) -> Endereco:
    """Validate an address as the CRM sends it; ``complemento`` may be absent."""
    if not isinstance(dados, dict):
        raise DadosInvalidos({"endereco": ["Endereço deve ser um objeto."]})
    erros: dict[str, list[str]] = {}
    valores: dict[str, str | None] = {}
    for campo in CAMPOS_ENDERECO:
        bruto = dados.get(campo)
        try:
            if campo == "complemento":
                valores[campo] = texto_opcional(bruto, campo, 200)
            elif bruto is None:
                raise DadosInvalidos({campo: [OBRIGATORIO]})
            else:
                valores[campo] = texto_obrigatorio(bruto, campo, 200)
        except DadosInvalidos as exc:
            erros.update(exc.errors)
    if "estado" not in erros and not re.fullmatch(EXPRESSAO_UF, valores["estado"] or ""):
        erros["estado"] = ["Use a sigla da UF (ex.: GO)."]
    if "cep" not in erros and not re.fullmatch(EXPRESSAO_CEP, valores["cep"] or ""):
        erros["cep"] = ["CEP inválido (ex.: 74000-000)."]
    if erros:
        raise DadosInvalidos({"endereco": erros})
    valores["estado"] = valores["estado"].upper()
    return Endereco(**valores)


_REGRAS = {
    "nome": lambda v: texto_obrigatorio(v, "nome", NOME_MAX),
    "email": _email,
    "senha": _senha,
    "telefone": lambda v: texto_opcional(v, "telefone", TELEFONE_MAX),
    "endereco": normalizar_endereco,
}


def normalizar_campos(dados: dict, *, completo: bool) -> dict:
    """Validate writable customer fields; ``senha`` is only ever stored hashed."""
    return validar(dados, _REGRAS, obrigatorios=CAMPOS_OBRIGATORIOS, completo=completo, nao_nulos=("senha",))


def montar_filtro(*, email: str | None = None, nome: str | None = None, sort: str | None = None) -> ClienteFiltro:
    return ClienteFiltro(
        email=normalizar_email(email) if email else None,
        nome=(nome or "").strip() or None,
        ordem=parse_ordem(sort, CAMPOS_ORDENAVEIS, ORDEM_PADRAO),
    )
