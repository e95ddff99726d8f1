"""The ``bash`` blocks of README.md and docs/*.md, and which test runs each of them.

Every block is either run as written by ``tests/e2e/test_docs_commands.py`` against a real
``make run`` stack (``RUN``, in reading order), run by another test (``ELSEWHERE``), or
listed with the reason it cannot run on this machine (``NOT_HERE``).
``tests/unit/test_docs_pages.py`` checks that the three lists and the docs agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.helpers import ROOT

PAGES = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.M | re.S)


@dataclass(frozen=True)
class Block:
    page: str
    language: str
    text: str

    @property
    def first_line(self) -> str:
        return self.text.strip().splitlines()[0].strip()


def blocks(language: str | None = "bash") -> list[Block]:
    """Fenced blocks of every page (indentation of list items removed)."""
    found = []
    for page in PAGES:
        for m in _FENCE.finditer((ROOT / page).read_text(encoding="utf-8")):
            if language is None or m.group(2) == language:
                indent = len(m.group(1))
                text = "\n".join(line[indent:] for line in m.group(3).splitlines())
                found.append(Block(page, m.group(2), text))
    return found


def find(page: str, start: str) -> Block:
    """The one bash block of ``page`` whose first line starts with ``start``."""
    matches = [b for b in blocks() if b.page == page and b.first_line.startswith(start)]
    assert len(matches) == 1, f"{page}: {len(matches)} bash blocks start with {start!r}"
    return matches[0]


# (page, first line's start), in the order a reader runs them.
RUN = [
    ("README.md", 'curl -s -X POST http://127.0.0.1:8000/produtos -H "Authorization'),
    ("README.md", "curl -s -X POST http://127.0.0.1:8000/clientes"),
    ("docs/security.md", ".venv/bin/flask --app wsgi keys create --name ops"),
    ("docs/orders.md", "API=http://127.0.0.1:8000; KEY=$(cat var/staff.key)"),
    ("docs/orders.md", "ENVIO=$(curl -s $API/pedidos/$PEDIDO/envio"),
    ("docs/operations.md", "curl -s -o /dev/null -X POST $API/carrinhos/me/itens"),
    ("docs/operations.md", "grep -l pedido-maria-1 var/log/*.log"),
    ("docs/orders.md", 'CRM="redis-cli --no-auth-warning -u $(cat var/redis-crm.url)"'),
    ("docs/orders.md", '$CRM PUBLISH carrinho:3 "$(cat contracts/examples/carrinho-3.json)"'),
    ("docs/sync.md", "KEY=$(cat var/staff.key); API=http://127.0.0.1:8000; CRM="),
    ("docs/sync.md", 'curl -s -H "Authorization: Bearer $KEY" "$API/eventos-rejeitados?estado=pendente"'),
    ("docs/operations.md", ". .venv/bin/activate"),
    ("docs/operations.md", "kill $WORKERS"),
    ("docs/operations.md", ".venv/bin/supervisorctl -c var/supervisord.conf status"),
]

ELSEWHERE = {
    ("docs/events.md", "curl -s http://127.0.0.1:8000/asyncapi.json"): "tests/e2e/test_docs_events_md.py, "
    "with the output and exit status the page promises",
    ("docs/events.md", ".venv/bin/flask --app wsgi eventos validar produtos"): "tests/e2e/test_docs_events_md.py",
    ("docs/operations.md", ".venv/bin/flask --app wsgi backup create"): "tests/integration/test_backup_cli.py "
    "(create and list through Flask's CliRunner and as a real process, BACKUP_DIR and --dir)",
    ("docs/operations.md", ".venv/bin/flask --app wsgi backup restore"): "tests/integration/test_backup_cli.py "
    "(restore --drop, a tampered backup refused) and tests/e2e/test_backup_beat.py (a backup made by beat "
    "restored onto a fresh mongoeco)",
    ("README.md", "make run"): "make run starts the stack of tests/e2e/test_docs_commands.py; "
    "make test is what .ci/run runs",
    ("docs/operations.md", "OTEL_TRACES_EXPORTER=console make run"): "tests/e2e/test_tracing.py runs the "
    "Procfile's bridge, worker and gunicorn with the console exporter and reads one connected trace per CRM "
    "event and per checkout from their output; make run itself is test_docs_commands.py's stack",
}

NOT_HERE = {
    ("docs/api.md", "FUZZ_EXAMPLES=300"): "long fuzzing runs (minutes); the bounded run is "
    "tests/integration/test_fuzz_openapi.py",
    ("docs/testing.md", "TEST_MONGO_URI="): "needs a real MongoDB, which cannot be installed here",
    ("docs/operations.md", "# docker compose:"): "no Docker engine or systemd here; the compose file "
    "and the units are checked by tests/unit/test_deploy.py, the queues the systemctl line covers by "
    "tests/unit/test_docs_pages.py",
    ("docs/operations.md", "# /etc/cron.d/ponte-backup"): "needs mongodump and a real MongoDB",
    ("docs/operations.md", "mongorestore --uri="): "needs mongorestore and a real MongoDB; the layout it "
    "reads (mongodump's .bson and canonical .metadata.json) is checked by tests/integration/test_backups.py",
    ("docs/operations.md", "# Passwords (keep all four"): "no Docker engine here, and chown to 999 needs "
    "root; the ACL file it writes is loaded by a real redis-server in tests/integration/test_redis_tls.py, "
    "the compose file's use of the three files is checked by tests/unit/test_deploy.py",
    ("docs/operations.md", "docker compose exec web"): "no Docker engine here; the files it creates are "
    "checked by tests/unit/test_deploy.py",
    ("docs/operations.md", "make drill"): "minutes long; not part of make test (its counting is checked by "
    "tests/unit/test_drill_contas.py)",
    ("docs/operations.md", "# docker compose, tracing:"): "no Docker engine here; the tracing profile and the "
    "collector's configuration are checked by tests/unit/test_deploy.py (Compose schema) and "
    "tests/unit/test_deploy_tracing.py, what the processes send by tests/e2e/test_tracing.py",
}
