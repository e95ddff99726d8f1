"""Events of the Java CRM: the bridge's envelope, and the rules that make a message an event.

The CRM publishes Gson-serialized objects (see contracts/examples/): prices are Java
doubles, null fields are omitted, a new product arrives as ``criado`` with ``"id": 0``.
Once its shape is checked (``wire.crm``), a message becomes a typed event here or raises
``EventoInvalido`` with a reason for the dead-letter store; nothing is guessed.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain.clientes import normalizar_campos as normalizar_cliente
from domain.errors import DadosInvalidos, DomainError
from domain.produtos import normalizar_campos as normalizar_produto
from domain.recusas import Regra, regra_dos_campos

CANAL_PRODUTOS = "produtos"
CANAL_CLIENTES = "canal-clientes"
PREFIXO_CARRINHO = "carrinho:"

# Both spellings exist: the CRM's own and the seed's.
ACOES = {
    "criado": "criado",
    "CREATE": "criado",
    "atualizado": "atualizado",
    "UPDATE": "atualizado",
    "removido": "removido",
    "DELETE": "removido",
}
JAVA_INT_MAX = 2**31 - 1
PAYLOAD_MAXIMO = 64 * 1024
# The customer id of a cart's channel: ASCII digits only (str.isdigit also takes '²' and
# '٣', which int() refuses or reads as 3), at most a Java int's ten.
_ID_DO_CANAL = re.compile(r"[0-9]{1,10}")
# A lone UTF-16 surrogate ("\ud800" in JSON) cannot be encoded as UTF-8: not by argon2,
# BSON or the task queue. It can only come from a raw one or from a \uD800-\uDFFF escape.
_SUBSTITUTO = re.compile(r"[\ud800-\udfff]")
_TALVEZ_SUBSTITUTO = re.compile(r"[\ud800-\udfff]|\\u[dD][89a-fA-F]")
_NUL = re.compile("\x00")
_TALVEZ_NUL = re.compile(r"\\u0000")


class Resultado(StrEnum):
    """What became of a CRM event: its log line, its ``/metrics`` label and its audit action
    (a ``str``: the text is the same wherever it goes)."""

    CRIADO = "criado"
    APLICADO = "aplicado"
    REMOVIDO = "removido"
    REMOVIDO_DESCONHECIDO = "removido_desconhecido"  # an unknown id's tombstone
    OBSOLETO = "obsoleto"  # a newer event is stored: this one changes nothing
    AUSENTE = "ausente"  # no such product yet (a write that does not create)
    PEDIDO_CRIADO = "pedido_criado"
    REJEITADO = "rejeitado"


class EventoInvalido(DomainError):
    """The event cannot be applied as sent; it goes to the dead-letter store, unretried.
    ``regra`` names the rule it broke."""

    def __init__(self, message: str, regra: str = Regra.ESQUEMA):
        super().__init__(message)
        self.regra = regra


@dataclass(frozen=True)
class Envelope:
    """What the bridge wraps around each message before it becomes a task."""

    event_id: str
    canal: str
    payload: str
    recebido_em: str
    seq: int
    origem: str = "pubsub"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Envelope:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class EventoProduto:
    acao: str
    java_id: int
    campos: dict  # normalized nome, descricao, preco, estoque (empty for a removido)
    # The product's name, also on a removido (whose fields are not applied): the only way
    # to find the product an id-0 criado stored, which awaits its real id under that name.
    nome: str | None = None


@dataclass(frozen=True)
class EventoCliente:
    java_id: int
    campos: dict  # nome, email, endereco, telefone; senha_hash when the bridge hashed one
    senha: str | None = None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} não é JSON válido")


def ler_json(payload: str) -> Any:
    """Strict JSON with exact decimals (a Java double's text is kept, never re-rounded)."""
    if len(payload) > PAYLOAD_MAXIMO:
        raise EventoInvalido(f"payload maior que {PAYLOAD_MAXIMO} bytes", Regra.TAMANHO)
    try:
        dados = json.loads(payload, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise EventoInvalido(f"JSON inválido: {str(exc)[:200]}", Regra.JSON) from None
    if _TALVEZ_SUBSTITUTO.search(payload) and not _texto_codificavel(dados):
        raise EventoInvalido("texto inválido: caractere substituto UTF-16 isolado (não é UTF-8)", Regra.UTF8)
    # Only the escape can bring one in (a raw NUL byte is not JSON); C programs, logs and
    # terminals cut text at it, so no field of Ponte's may hold one (the API refuses it too).
    if _TALVEZ_NUL.search(payload) and not _texto_codificavel(dados, _NUL):
        raise EventoInvalido("texto inválido: caractere NUL (\\u0000)", Regra.NUL)
    return dados


def _texto_codificavel(dados: Any, proibido: re.Pattern = _SUBSTITUTO) -> bool:
    """No string of ``dados`` (keys too) holds ``proibido`` (by default a lone surrogate:
    it cannot be encoded as UTF-8). Iterative: JSON nested as deep as the parser allows
    cannot exhaust the stack here."""
    pilha = [dados]
    while pilha:
        valor = pilha.pop()
        if isinstance(valor, str):
            if proibido.search(valor):
                return False
        elif isinstance(valor, dict):
            pilha.extend(valor)
            pilha.extend(valor.values())
        elif isinstance(valor, list):
            pilha.extend(valor)
    return True


def _regras(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except DadosInvalidos as exc:
        raise EventoInvalido(f"valores inválidos: {exc.errors}", regra_dos_campos(exc.errors)) from None


def evento_produto(dados: dict) -> EventoProduto:
    """A product event from its checked shape (``wire.crm.decodificar_produto``):
    ``{"acao": ..., "produto": {"id", "nome", "descricao"?, "preco", "estoque"}}``."""
    acao, p = ACOES[dados["acao"]], dados["produto"]
    if acao == "removido":
        campos = {}  # only the id matters to the write...
        nome = _nome_de_removido(p.get("nome"))  # ...and the name to find an id-0 product
    else:
        bruto = {k: p.get(k) for k in ("nome", "descricao", "preco", "estoque")}
        if erros := {k: ["Not a valid string."] for k in ("nome", "descricao") if not _texto_ou_nulo(bruto[k])}:
            raise EventoInvalido(f"formato desconhecido: {{'produto': {erros}}}")
        campos = _regras(normalizar_produto, bruto, completo=True)
        nome = campos["nome"]
    if p["id"] == 0 and acao != "criado":
        raise EventoInvalido(f"'{acao}' com id 0: sem id não há produto a que se referir", Regra.ID_ZERO)
    return EventoProduto(acao=acao, java_id=p["id"], campos=campos, nome=nome)


def _texto_ou_nulo(valor: Any) -> bool:
    return valor is None or isinstance(valor, str)


def _nome_de_removido(valor: Any) -> str | None:
    """A removido's ``nome``, normalized as a product's, or None when it cannot be one
    (a removido needs only its id: a bad or missing name never refuses it)."""
    if not isinstance(valor, str):
        return None
    try:
        return normalizar_produto({"nome": valor}, completo=False)["nome"]
    except DadosInvalidos:
        return None


def evento_cliente(dados: dict) -> EventoCliente:
    """A customer event from its checked shape (``wire.crm.decodificar_cliente``):
    ``{"id", "nome", "email", "senha", "endereco"{...}, "numeroTelefone"}``."""
    bruto = {"nome": dados["nome"], "email": dados["email"]}
    if dados.get("endereco") is not None:
        bruto["endereco"] = {k: v for k, v in dados["endereco"].items() if v is not None}
    if dados.get("numeroTelefone") is not None:
        bruto["telefone"] = dados["numeroTelefone"]
    campos = _regras(normalizar_cliente, bruto, completo=True)
    if "endereco" not in campos:
        campos["endereco"] = None
    if "telefone" not in campos:
        campos["telefone"] = None
    senha = dados.get("senha")
    if senha is not None:
        _regras(normalizar_cliente, {"senha": senha}, completo=False)
    if dados.get("senha_hash"):
        campos["senha_hash"] = dados["senha_hash"]
    return EventoCliente(java_id=dados["id"], campos=campos, senha=senha)


_SENHA_TEXTO = re.compile(r'("senha"\s*:\s*)(?:"(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|true|false)')
SENHA_OCULTA = "***"


_HASH_TEXTO = re.compile(r'("senha_hash"\s*:\s*)"(?:[^"\\]|\\.)*"')


def para_exibir(envelope: dict) -> dict:
    """A dead letter's envelope as the API and CLI show it: the password hash stays stored for
    a replay but is never shown (an offline-guessing target; the dead-letter scope is not
    ``clientes:read``)."""
    payload = envelope.get("payload")
    if not isinstance(payload, str) or "senha_hash" not in payload:
        return envelope
    return {**envelope, "payload": _HASH_TEXTO.sub(rf'\1"{SENHA_OCULTA}"', payload)}


def sem_senha(payload: str) -> str:
    """The payload with any clear ``senha`` blanked: for logs and the dead-letter store.

    Blanked in the text, so the rest stays byte for byte; a ``senha`` the text rule
    cannot reach (a list or object, a key spelled with escapes such as ``sen\\u0068a``)
    has the payload written anew, every ``senha`` in it blanked."""
    redigido = _SENHA_TEXTO.sub(rf'\1"{SENHA_OCULTA}"', payload)
    try:
        dados = json.loads(redigido)
    except (ValueError, RecursionError):
        return redigido
    if not _senhas_em_claro(dados):
        return redigido
    return json.dumps(dados)  # ASCII: a lone surrogate elsewhere stays an escape, storable


def _senhas_em_claro(dados: Any) -> bool:
    """Blank, in place, every ``senha`` of ``dados`` not blanked yet; True if there was one."""
    achou, pilha = False, [dados]
    while pilha:
        valor = pilha.pop()
        if isinstance(valor, dict):
            if valor.get("senha") not in (None, SENHA_OCULTA):
                valor["senha"], achou = SENHA_OCULTA, True
            pilha.extend(valor.values())
        elif isinstance(valor, list):
            pilha.extend(valor)
    return achou


def canal_conhecido(canal: str) -> bool:
    return canal in (CANAL_PRODUTOS, CANAL_CLIENTES) or canal.startswith(PREFIXO_CARRINHO)


def resumo(canal: str, payload: str) -> dict[str, Any]:
    """``acao`` and CRM id for the one-line log of an event; never fails, never the payload."""
    try:
        dados = json.loads(payload)
    except (ValueError, RecursionError):
        return {}
    return resumo_dos_dados(canal, dados)


def resumo_dos_dados(canal: str, dados: Any) -> dict[str, Any]:
    """``resumo`` of a payload already read (the bridge has it from ``triar``)."""
    if not isinstance(dados, dict):
        return {}
    if canal == CANAL_PRODUTOS and isinstance(dados.get("produto"), dict):
        return {"acao": dados.get("acao"), "crm_id": dados["produto"].get("id")}
    if canal == CANAL_CLIENTES:
        return {"acao": "cliente", "crm_id": dados.get("id")}
    return {}


def triagem(canal: str, payload: str) -> str | None:
    """The bridge's quick check: why this message cannot be an event, or None."""
    try:
        triar(canal, payload)
    except EventoInvalido as exc:
        return exc.message
    return None


def triar(canal: str, payload: str) -> Any:
    """The bridge's quick check; raise ``EventoInvalido`` when the message cannot be an event.
    Returns the payload as ``ler_json`` read it, so the bridge parses it once.

    Only the envelope-level shape (known channel, JSON, top-level structure); the field
    rules are the worker's, which dead-letters what fails them.
    """
    if not canal_conhecido(canal):
        raise EventoInvalido(f"canal desconhecido: {canal[:100]}", Regra.CANAL)
    dados = ler_json(payload)
    if canal == CANAL_PRODUTOS:
        if not isinstance(dados, dict) or "acao" not in dados or not isinstance(dados.get("produto"), dict):
            raise EventoInvalido("formato desconhecido: esperado {acao, produto{...}}")
    elif canal == CANAL_CLIENTES:
        _triar_cliente(dados)
    elif not isinstance(dados, list):
        raise EventoInvalido("formato desconhecido: esperado uma lista de itens do carrinho")
    return dados


def _triar_cliente(dados: Any) -> None:
    if not isinstance(dados, dict) or "id" not in dados or "email" not in dados:
        raise EventoInvalido("formato desconhecido: esperado {id, nome, email, ...}")
    if not isinstance(dados.get("senha", ""), str):
        # The bridge hashes a text senha only: any other would reach the queue in clear.
        raise EventoInvalido("formato desconhecido: senha deve ser texto")


@dataclass(frozen=True)
class CarrinhoJava:
    cliente_java_id: int
    quantidades: dict[int, int]  # CRM product id -> quantity (repeated lines summed)


def decodificar_carrinho(canal: str, payload: str) -> CarrinhoJava:
    """A finalized cart on ``carrinho:<clienteId>``: a list of ``{produto{id,...}, quantidade}``."""
    from domain.carrinhos import QUANTIDADE_MAXIMA

    sufixo = canal[len(PREFIXO_CARRINHO) :]
    if not _ID_DO_CANAL.fullmatch(sufixo) or not 0 < int(sufixo) <= JAVA_INT_MAX:
        raise EventoInvalido(f"canal de carrinho sem id de cliente válido: {canal[:100]!r}", Regra.CARRINHO_CANAL)
    dados = ler_json(payload)
    if not isinstance(dados, list) or not dados:
        raise EventoInvalido("formato desconhecido: esperado uma lista não vazia de itens")
    quantidades: dict[int, int] = {}
    for item in dados:
        produto = item.get("produto") if isinstance(item, dict) else None
        pid = produto.get("id") if isinstance(produto, dict) else None
        qtd = item.get("quantidade") if isinstance(item, dict) else None
        if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid <= JAVA_INT_MAX:
            raise EventoInvalido("item sem id de produto do CRM")
        if isinstance(qtd, bool) or not isinstance(qtd, int) or qtd < 1:
            raise EventoInvalido(f"quantidade inválida para o produto {pid}")
        quantidades[pid] = quantidades.get(pid, 0) + qtd
    if any(q > QUANTIDADE_MAXIMA for q in quantidades.values()):
        raise EventoInvalido(f"quantidade acima de {QUANTIDADE_MAXIMA} por produto", Regra.CARRINHO_QUANTIDADE)
    return CarrinhoJava(int(sufixo), quantidades)
