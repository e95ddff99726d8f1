"""/docs/eventos drawn by a real headless Chromium, under Ponte's CSP, with no network
but the app's: the AsyncAPI viewer must show every channel and message of the contract.

The viewer draws into its shadow root, which ``--dump-dom`` does not print: the test reads
the page over the DevTools protocol instead (``tests/e2e/cdp.py``).
"""

from __future__ import annotations

import os

import pytest

from adapters import contrato
from tests.e2e.cdp import Chromium
from tests.e2e.test_docs_browser import CHROMIUM
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e

TEXTO_DO_VIEWER = (
    "(() => { const v = document.querySelector('asyncapi-viewer');"
    " return v && v.shadowRoot ? v.shadowRoot.textContent : ''; })()"
)


@pytest.fixture
def chromium(tmp_path):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    log_path = tmp_path / "chromium.log"
    with open(log_path, "w") as log:
        browser = Chromium(CHROMIUM, tmp_path / "chromium-profile", log)
        browser.log_path = log_path
        try:
            yield browser
        finally:
            browser.close()


def test_the_events_page_shows_every_channel_and_message_under_the_csp(gunicorn, chromium):
    doc = contrato.documento()
    enderecos = [c["address"] for c in doc["channels"].values()]
    titulos = [m["title"] for m in doc["components"]["messages"].values()]
    chromium.navigate(gunicorn.url + "/docs/eventos")
    texto = wait_for(
        lambda: (t := chromium.evaluate(TEXTO_DO_VIEWER)) and all(e in t for e in enderecos) and t,
        timeout=60,
        interval=0.2,
        what="the viewer drawing every channel",
    )
    for esperado in [*enderecos, *titulos, "Notebook Gamer", "criado com id 0", "preco-centavos"]:
        assert esperado in texto, esperado
    violacoes = [linha for linha in chromium.log_path.read_text().splitlines() if "Content Security Policy" in linha]
    assert violacoes == []
