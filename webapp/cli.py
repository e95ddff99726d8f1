"""``flask --app wsgi keys ...``: create, list and revoke staff API keys."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from domain.seguranca import ESCOPOS
from services import chaves
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
    """Revoke the key with this prefix; requests using it get 401 at once."""
    chaves.revogar(_ctx(), prefix)
    click.echo(f"revoked {prefix}")
