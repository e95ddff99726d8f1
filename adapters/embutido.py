"""The embedded default's limits: what mongoeco on SQLite (``make run`` without ``MONGO_URI``)
carries, as measured by ``make bench`` (docs/performance.md), and whether a store is it.

Past ``LIMITE_PRODUTOS`` a CRM burst and checkouts slow to a crawl there (every conditional
update reads the whole collection): the launcher says so at start-up and ``/metrics`` shows it.
"""

from __future__ import annotations

from pymongo.database import Database

# The catalogue size up to which the embedded store keeps the README's figures.
LIMITE_PRODUTOS = 1_000


def e_embutido(db: Database) -> bool:
    """Whether ``db`` is served by mongoeco (it names itself in ``buildInfo``)."""
    try:
        return db.client.admin.command("buildInfo").get("gitVersion") == "mongoeco"
    except Exception:  # a MongoDB that refuses buildInfo to this user is not mongoeco
        return False


def produtos(db: Database) -> int:
    """The catalogue's size (every stored product; cheap on MongoDB and on mongoeco)."""
    return db["produtos"].estimated_document_count()


def aviso(db: Database, limite: int | None = None) -> str | None:
    """What to tell an operator whose embedded store holds more than ``limite`` products
    (``LIMITE_PRODUTOS`` unless given)."""
    limite = LIMITE_PRODUTOS if limite is None else limite
    if not e_embutido(db):
        return None
    n = produtos(db)
    if n <= limite:
        return None
    return (
        f"the embedded MongoDB stand-in holds {n:,} products, past the {limite:,} it carries well "
        "(README, The embedded default): set MONGO_URI to a real MongoDB"
    )
