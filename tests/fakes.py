"""In-memory fakes of the domain ports, for unit tests of the service layer only."""

from __future__ import annotations

import copy
import itertools
from dataclasses import replace

from domain.clientes import Cliente, Endereco
from domain.errors import Conflito
from domain.produtos import Produto


class FakeRepository:
    entity: type
    optional: tuple[str, ...] = ()

    def __init__(self):
        self.rows: dict[str, object] = {}
        self.hidden: set[str] = set()
        self._ids = (f"{n:024x}" for n in itertools.count(1))

    def _check(self, campos, ignore_id=None):
        """Uniqueness rules a real store would enforce."""

    def add(self, campos, agora, java_id=None, seq=None):
        self._check(campos)
        ent = self.entity(id=next(self._ids), criado_em=agora, atualizado_em=agora, java_id=java_id, **campos)
        self.rows[ent.id] = ent
        return copy.deepcopy(ent)

    def get(self, entity_id):
        if entity_id in self.hidden:
            return None
        ent = self.rows.get(entity_id)
        return copy.deepcopy(ent) if ent else None

    def list(self, filtro, offset, limit):
        visible = [e for i, e in self.rows.items() if i not in self.hidden]
        return visible[offset : offset + limit], len(visible)

    def update(self, entity_id, campos, agora, versao, substituir, seq=None):
        atual = self.get(entity_id)
        if atual is None or (versao is not None and atual.versao != versao):
            return None
        self._check(campos, ignore_id=entity_id)
        novos = dict(campos)
        if substituir:
            novos.update({k: None for k in self.optional if k not in campos})
        ent = replace(atual, **novos, atualizado_em=agora, versao=atual.versao + 1)
        self.rows[entity_id] = ent
        return copy.deepcopy(ent)


class FakeProdutoRepository(FakeRepository):
    entity = Produto
    optional = ("descricao", "categoria")

    def hide(self, produto_id, agora, versao, seq=None):
        atual = self.get(produto_id)
        if atual is None or (versao is not None and atual.versao != versao):
            return False
        self.hidden.add(produto_id)
        return True


class FakeClienteRepository(FakeRepository):
    entity = Cliente
    optional = ("endereco", "telefone")

    def by_email(self, email_norm):
        return next((copy.deepcopy(c) for c in self.rows.values() if c.email.casefold() == email_norm), None)

    def _check(self, campos, ignore_id=None):
        email = campos.get("email")
        if email and any(c.email.casefold() == email.casefold() for i, c in self.rows.items() if i != ignore_id):
            raise Conflito("E-mail já cadastrado.")
        if isinstance(campos.get("endereco"), dict):
            campos["endereco"] = Endereco(**campos["endereco"])

    def delete(self, cliente_id, versao):
        atual = self.get(cliente_id)
        if atual is None or (versao is not None and atual.versao != versao):
            return False
        del self.rows[cliente_id]
        return True


class FakeHasher:
    """Reversible on purpose so tests can see what was hashed; never used outside tests."""

    def hash(self, senha):
        return f"hashed:{senha[::-1]}"

    def verify(self, senha_hash, senha):
        return senha_hash == self.hash(senha)


class FakeChaveRepository:
    def __init__(self):
        self.rows = {}

    def add(self, chave):
        chave = replace(chave, id=f"{len(self.rows) + 1:024x}")
        self.rows[chave.prefixo] = chave
        return copy.deepcopy(chave)

    def by_prefix(self, prefixo):
        return copy.deepcopy(self.rows.get(prefixo))

    def list(self):
        return [copy.deepcopy(c) for c in self.rows.values()]

    def revoke(self, prefixo, agora):
        chave = self.rows.get(prefixo)
        if chave is None or chave.revogada_em is not None:
            return False
        chave.revogada_em = agora
        return True


class FakeAuditoriaRepository:
    def __init__(self):
        self.registros = []

    def add(self, registro):
        self.registros.append(registro)

    def list(self, filtro, offset, limit):
        return self.registros[offset : offset + limit], len(self.registros)


def fake_contexto(ator="staff:tests"):
    """A service ``Contexto`` wired to in-memory fakes."""
    from services.contexto import Contexto

    return Contexto(
        produtos=FakeProdutoRepository(),
        clientes=FakeClienteRepository(),
        chaves=FakeChaveRepository(),
        auditoria=FakeAuditoriaRepository(),
        hasher=FakeHasher(),
        ator=ator,
        request_id="req-1",
    )
