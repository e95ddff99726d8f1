"""Use cases for clientes: registration, profile changes, removal.

The password arrives in clear only here and leaves as an argon2id hash; no other
layer ever sees it.
"""

from __future__ import annotations

from domain import clientes as regras
from domain.clientes import Cliente, ClienteFiltro
from domain.errors import DadosInvalidos, NaoEncontrado
from domain.ports import ClienteRepository, PasswordHasher
from services.common import agora, falha_de_escrita

RECURSO = "Cliente"


def _hash_senha(campos: dict, hasher: PasswordHasher) -> dict:
    if "senha" in campos:
        campos["senha_hash"] = hasher.hash(campos.pop("senha"))
    return campos


def criar(repo: ClienteRepository, hasher: PasswordHasher, dados: dict, *, java_id: int | None = None) -> Cliente:
    campos = regras.normalizar_campos(dados, completo=True)
    if "senha" not in campos:
        raise DadosInvalidos({"senha": ["Campo obrigatório."]})
    return repo.add(_hash_senha(campos, hasher), agora(), java_id=java_id)


def obter(repo: ClienteRepository, cliente_id: str) -> Cliente:
    cliente = repo.get(cliente_id)
    if cliente is None:
        raise NaoEncontrado(f"{RECURSO} não encontrado.")
    return cliente


def listar(repo: ClienteRepository, filtro: ClienteFiltro, offset: int, limit: int) -> tuple[list[Cliente], int]:
    return repo.list(filtro, offset, limit)


def alterar(
    repo: ClienteRepository,
    hasher: PasswordHasher,
    cliente_id: str,
    dados: dict,
    *,
    versao: int | None = None,
    substituir: bool = False,
) -> Cliente:
    """PUT or PATCH; a replacement without ``senha`` keeps the current password."""
    campos = _hash_senha(regras.normalizar_campos(dados, completo=substituir), hasher)
    cliente = repo.update(cliente_id, campos, agora(), versao, substituir)
    if cliente is None:
        raise falha_de_escrita(repo.get(cliente_id) is not None, RECURSO)
    return cliente


def remover(repo: ClienteRepository, cliente_id: str, *, versao: int | None = None) -> None:
    """Erase the customer's personal data (orders keep their own address snapshot)."""
    if not repo.delete(cliente_id, versao):
        raise falha_de_escrita(repo.get(cliente_id) is not None, RECURSO)
