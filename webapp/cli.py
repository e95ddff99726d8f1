"""``flask --app wsgi keys|dead-letters|eventos ...``: staff API keys, dead letters, and
the check of a CRM message against the event contract (no database needed for that one)."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from adapters import contrato
from adapters.store_errors import REDIS_ERRORS
from domain.errors import DomainError
from domain.eventos import para_exibir
from domain.rejeitados import ESTADOS, PENDENTE, RejeitadoFiltro
from domain.seguranca import ESCOPOS
from services import chaves, sync
from webapp.deps import build_contexto

keys = AppGroup("keys", help="Staff API keys (shown once at creation, stored hashed).")


def _ctx():
    return build_contexto(current_app, ator="sistema:cli")


@keys.command("create")
@click.option("--name", required=True, help="Who or what uses the key (e.g. ops, crm-sync).")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(ESCOPOS), help="Repeat for several scopes.")
@click.option("--quiet", is_flag=True, help="Print only the key (for scripts).")
def create(name: str, scopes: tuple[str, ...], quiet: bool):
    """Create a staff key and print it once."""
    chave, texto = chaves.criar(_ctx(), name, list(scopes))
    if quiet:
        click.echo(texto)
        return
    click.echo(f"key:      {texto}")
    click.echo(f"prefix:   {chave.prefixo}")
    click.echo(f"scopes:   {', '.join(chave.escopos) or '(none)'}")
    click.echo("Store it now: it is not shown again (only its hash is kept).")


@keys.command("list")
def list_():
    """List keys by prefix (never the keys themselves)."""
    for chave in chaves.listar(_ctx()):
        estado = f"revoked {chave.revogada_em:%Y-%m-%d %H:%M}" if chave.revogada_em else "active"
        click.echo(f"{chave.prefixo}  {chave.nome:<20} {','.join(chave.escopos) or '-':<40} {estado}")


@keys.command("revoke")
@click.argument("prefix")
def revoke(prefix: str):
    """Revoke the key with this prefix; requests using it get 401 at once.

    The last active admin key is refused: create another admin key first. Redis must be
    reachable (the API's processes learn of the revocation through it)."""
    try:
        chaves.revogar(_ctx(), prefix)
    except DomainError as exc:  # unknown prefix, last admin key: a message, not a traceback
        raise click.ClickException(exc.message) from exc
    except REDIS_ERRORS as exc:
        raise click.ClickException(f"Redis unreachable, nothing revoked; try again: {exc}") from exc
    click.echo(f"revoked {prefix}")


dead_letters = AppGroup("dead-letters", help="CRM events that could not be applied (eventos_rejeitados).")


@dead_letters.command("list")
@click.option("--estado", type=click.Choice(ESTADOS), default=PENDENTE, show_default=True)
@click.option("--limit", type=int, default=50, show_default=True)
def dl_list(estado: str, limit: int):
    """List dead letters, newest first."""
    itens, total = sync.listar_rejeitados(_ctx(), RejeitadoFiltro(estado=estado), 0, limit)
    for r in itens:
        click.echo(f"{r.id}  {r.em:%Y-%m-%d %H:%M:%S}  {r.canal:<16} x{r.vezes}  {r.motivo[:80]}")
    click.echo(f"{len(itens)} of {total} {estado}")


@dead_letters.command("show")
@click.argument("rejeitado_id")
def dl_show(rejeitado_id: str):
    """Show one dead letter with its envelope."""
    r = sync.obter_rejeitado(_ctx(), rejeitado_id)
    mostrado = {**vars(r), "envelope": para_exibir(r.envelope), "em": str(r.em), "atualizado_em": str(r.atualizado_em)}
    click.echo(json.dumps(mostrado, indent=2, default=str))


@dead_letters.command("replay")
@click.argument("rejeitado_id")
def dl_replay(rejeitado_id: str):
    """Enqueue the event again (same sequence number)."""
    sync.reenviar(_ctx(), rejeitado_id)
    click.echo(f"replayed {rejeitado_id}")


@dead_letters.command("discard")
@click.argument("rejeitado_id")
def dl_discard(rejeitado_id: str):
    """Mark the dead letter discarded."""
    sync.descartar(_ctx(), rejeitado_id)
    click.echo(f"discarded {rejeitado_id}")


events = AppGroup("eventos", help="The CRM's events and their contract (contracts/asyncapi.yaml).")


@events.command("validar")
@click.argument("canal")
@click.argument("arquivo", type=click.File("rb"), default="-")
def validar(canal: str, arquivo):
    """Check a message for CANAL (from ARQUIVO, or standard input when omitted or -) as the
    bridge and the workers read it: exit 0 if Ponte accepts it, else 1 and the broken rule.
    For ponte:eventos, ARQUIVO is the entry's fields as a JSON object {canal, payload}."""
    veredito = contrato.validar(canal, arquivo.read())
    if veredito.aceita:
        click.echo(f"OK {canal}: aceita pelo contrato")
        return
    click.echo(f"RECUSADA {canal}: regra {veredito.regra}: {veredito.motivo}", err=True)
    raise SystemExit(1)
