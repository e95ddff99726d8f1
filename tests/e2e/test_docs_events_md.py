"""Every command docs/events.md shows runs as written (the API's address aside: the test's
own gunicorn), with the exit status and output the page promises."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.e2e.conftest import base_env
from tests.helpers import ROOT

pytestmark = pytest.mark.e2e

PAGINA = ROOT / "docs" / "events.md"
ENDERECO_DOCUMENTADO = "http://127.0.0.1:8000"


def comandos() -> list[tuple[str, int]]:
    """(command, expected exit status) of every line of the page's bash blocks."""
    blocos = re.findall(r"```bash\n(.*?)```", PAGINA.read_text(encoding="utf-8"), flags=re.DOTALL)
    linhas = [linha for bloco in blocos for linha in bloco.splitlines() if linha.strip()]
    return [
        (linha.split("  # exit ")[0], int(linha.split("  # exit ")[1]) if "  # exit " in linha else 0)
        for linha in linhas
    ]


def test_the_page_shows_commands():
    assert len(comandos()) == 5


def test_every_command_of_the_page_runs_as_documented(gunicorn):
    assert (ROOT / ".venv" / "bin" / "flask").exists(), "the page's commands use .venv (scripts/bootstrap.sh)"
    saidas = []
    for comando, status in comandos():
        result = subprocess.run(
            ["bash", "-c", "set -o pipefail; " + comando.replace(ENDERECO_DOCUMENTADO, gunicorn.url)],
            cwd=ROOT, env=base_env(), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == status, (comando, result.stdout, result.stderr[-2000:])
        saidas.append(result)
    assert [s.stdout for s in saidas[:2]] == ["3.0.0\n", "200\n"]
    assert [s.stdout for s in saidas[2:4]] == [
        "OK produtos: aceita pelo contrato\n",
        "OK carrinho:3: aceita pelo contrato\n",
    ]
    documentada = (
        PAGINA.read_text(encoding="utf-8").split("the third prints, on standard error:\n\n```\n")[1].split("```")[0]
    )
    assert saidas[4].stderr == documentada
