"""The event contract (contracts/asyncapi.yaml): loading it, and checking a message of a
channel the way the bridge and the workers read it, plus the contract's JSON Schema.

``validar`` runs the bridge's checks (UTF-8, ``triar``), the message's JSON Schema, then
the worker's decoding (``wire.crm.decodificar``): the first refusal names its rule.
A boundary concern (YAML, jsonschema), so it lives here and domain/ stays free of both.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from adapters.passwords import com_senha_hash
from domain.eventos import CANAL_CLIENTES, EventoInvalido, Regra, ler_json, triar
from wire.crm import decodificar

CAMINHO = Path(__file__).resolve().parents[1] / "contracts" / "asyncapi.yaml"
STREAM = "ponte:eventos"
_URI = "urn:ponte:asyncapi"
# Not a hash of anything: the worker only checks a senha_hash's argon2id prefix, and
# validating must not cost an argon2 run per message.
_HASH_DE_VALIDACAO = "$argon2id$v=19$validar"


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2's JSON numbers: PyYAML (1.1) reads Gson's ``1.25E7`` as a string."""


_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?[eE][-+]?[0-9]+$"),
    list("-0123456789"),
)


@cache
def documento() -> dict:
    """The contract as data (read once per process)."""
    return yaml.load(CAMINHO.read_text(encoding="utf-8"), Loader=_Yaml12Loader)  # noqa: S506 - a SafeLoader


@cache
def documento_json() -> bytes:
    return json.dumps(documento(), ensure_ascii=False, indent=2).encode("utf-8")


@dataclass(frozen=True)
class Veredito:
    """What the contract says of one message: ``regra`` None when it is accepted."""

    regra: str | None
    motivo: str

    @property
    def aceita(self) -> bool:
        return self.regra is None


def _resolver(ref: str) -> Any:
    no = documento()
    for parte in ref.removeprefix("#/").split("/"):
        no = no[parte]
    return no


def _canal(canal: str) -> dict | None:
    for item in documento()["channels"].values():
        padrao = re.escape(item["address"])
        padrao = re.sub(r"\\\{[^}]+\\\}", ".*", padrao)  # carrinho:{clienteId} -> carrinho:.*
        if re.fullmatch(padrao, canal, flags=re.DOTALL):
            return item
    return None


@cache
def validador_de(ref: str) -> Draft7Validator:
    """A validator for the schema at ``ref`` (``#/components/schemas/...``) of the contract."""
    registro = Registry().with_resource(_URI, Resource(contents=documento(), specification=DRAFT7))
    return Draft7Validator({"$ref": _URI + ref}, registry=registro, format_checker=Draft7Validator.FORMAT_CHECKER)


@cache
def _validador(endereco: str) -> Draft7Validator:
    """The schema of a channel: any one of its messages' payloads."""
    canal = next(c for c in documento()["channels"].values() if c["address"] == endereco)
    mensagens = [_resolver(m["$ref"]) for m in canal["messages"].values()]
    esquemas = [validador_de(m["payload"]["$ref"]).schema for m in mensagens]
    esquema = esquemas[0] if len(esquemas) == 1 else {"anyOf": esquemas}
    return validador_de(mensagens[0]["payload"]["$ref"]).evolve(schema=esquema)


def erro_de_esquema(canal: str, dados: Any) -> str | None:
    """Why ``dados`` (numbers as ``Decimal``/``int``, as ``ler_json`` reads them) fails the
    schema of ``canal``'s messages, or None."""
    item = _canal(canal)
    if item is None:
        return f"canal fora do contrato: {canal[:100]}"
    erro = best_match(_validador(item["address"]).iter_errors(dados))
    if erro is None:
        return None
    onde = "/".join(str(p) for p in erro.absolute_path) or "(mensagem)"
    return f"{onde}: {erro.message[:300]}"


def validar(canal: str, bruto: bytes) -> Veredito:
    """Check one message of ``canal`` as Ponte would read it (for ``ponte:eventos``, the
    entry's fields as a JSON object); the first rule it breaks, or accepted."""
    try:
        payload = bruto.decode("utf-8")
    except UnicodeDecodeError:
        return Veredito(Regra.UTF8, "payload não é UTF-8")
    try:
        if canal == STREAM:
            return _validar_entrada(payload)
        if canal in _enviados():
            return _so_esquema(canal, ler_json(payload))  # what Ponte sends: its schema alone
        triar(canal, payload)
        if erro := erro_de_esquema(canal, ler_json(payload)):
            return Veredito(Regra.ESQUEMA, f"formato desconhecido: {erro}")
        if canal == CANAL_CLIENTES:
            payload = com_senha_hash(payload, lambda _senha, _conta: _HASH_DE_VALIDACAO)  # as the bridge does
        decodificar(canal, payload)
    except EventoInvalido as exc:
        return Veredito(exc.regra, exc.message)
    return Veredito(None, "aceita")


@cache
def _enviados() -> frozenset[str]:
    """The addresses of the channels Ponte publishes on (its ``send`` operations)."""
    ops = documento()["operations"].values()
    return frozenset(_resolver(op["channel"]["$ref"])["address"] for op in ops if op["action"] == "send")


def _so_esquema(canal: str, dados: Any) -> Veredito:
    erro = erro_de_esquema(canal, dados)
    return Veredito(Regra.ESQUEMA, f"formato desconhecido: {erro}") if erro else Veredito(None, "aceita")


def _validar_entrada(payload: str) -> Veredito:
    """A stream entry: its fields' schema, then its ``payload`` as a message of its ``canal``."""
    try:
        entrada = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        return Veredito(Regra.JSON, f"JSON inválido: {str(exc)[:200]}")
    if isinstance(entrada, dict) and not isinstance(entrada.get("canal"), str):
        return Veredito(Regra.CANAL, "canal desconhecido: ?")  # the bridge reads a missing canal as "?"
    if erro := erro_de_esquema(STREAM, entrada):
        return Veredito(Regra.ESQUEMA, f"formato desconhecido: {erro}")
    return validar(entrada["canal"], entrada["payload"].encode("utf-8", "surrogatepass"))


@cache
def regras() -> dict[str, dict]:
    """The contract's refusal rules (``x-regras``) by name."""
    return {r["nome"]: r for r in documento()["x-regras"]}


def regra_do_motivo(motivo: str) -> str | None:
    """The rule a stored dead letter's reason states, or None (a reason the contract lacks)."""
    return next((nome for nome, r in regras().items() if re.search(r["motivo"], motivo)), None)


def classificar(canal: str, payload: str, motivo: str) -> str | None:
    """The rule a dead letter broke: its message's own, else the one its reason names (rules
    on Ponte's data, operational ones, and a message the store keeps with ``senha`` blanked)."""
    veredito = validar(canal, payload.encode("utf-8", "surrogatepass"))
    return veredito.regra if not veredito.aceita else regra_do_motivo(motivo)
