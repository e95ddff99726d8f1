"""Staff API keys: created (shown once), listed by prefix, revoked, authenticated."""

from __future__ import annotations

from domain import seguranca
from domain.errors import DadosInvalidos, NaoEncontrado
from domain.ports import ChaveRepository
from domain.seguranca import ChaveApi, Identidade
from domain.texto import texto_obrigatorio
from services.common import agora
from services.contexto import Contexto


def criar(ctx: Contexto, nome: str, escopos: list[str]) -> tuple[ChaveApi, str]:
    """Create a key; the clear key is returned here once and stored only as a hash."""
    if not isinstance(nome, str):
        raise DadosInvalidos({"nome": ["Informe um nome."]})
    nome = texto_obrigatorio(nome, "nome", 100)
    escopos = seguranca.validar_escopos(escopos)
    texto, prefixo = seguranca.gerar_chave()
    chave = ctx.chaves.add(
        ChaveApi(
            id="", prefixo=prefixo, nome=nome, escopos=escopos, hash=seguranca.hash_chave(texto), criado_em=agora()
        )
    )
    ctx.auditar("chave", prefixo, "criada", ["nome", "escopos"])
    return chave, texto


def listar(ctx: Contexto) -> list[ChaveApi]:
    return ctx.chaves.list()


def revogar(ctx: Contexto, prefixo: str) -> None:
    """Revoke a key, unless it is the last active ``admin`` one (``Conflito``)."""
    # Checked before the write, not atomically with it: only two admins revoking the last
    # two admin keys at the same instant could both pass, and the CLI can create another.
    seguranca.verificar_revogacao([c for c in ctx.chaves.list() if c.revogada_em is None], prefixo)
    # The key generation moves before the write (so that a revocation Redis cannot announce
    # does not happen: 503, nothing changed) and after it (a key verified in between).
    ctx.tokens.chave_revogada()
    if not ctx.chaves.revogar(prefixo, agora()):
        raise NaoEncontrado("Chave não encontrada ou já revogada.")
    ctx.tokens.chave_revogada()
    ctx.auditar("chave", prefixo, "revogada")


def autenticar(repo: ChaveRepository, texto: str) -> Identidade | None:
    """The staff identity behind a presented key, or None for any unknown/revoked key."""
    prefixo = seguranca.prefixo_da_chave(texto)
    chave = repo.por_prefixo(prefixo) if prefixo else None
    if chave is None or chave.revogada_em is not None or not seguranca.chave_confere(texto, chave.hash):
        return None
    return Identidade("staff", id=chave.prefixo, nome=chave.nome, escopos=frozenset(chave.escopos))
