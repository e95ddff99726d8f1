"""A headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

``--dump-dom`` prints the light DOM only; a page drawn by a web component lives in its
shadow root, so the test asks the page itself, as a user's browser would show it.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import subprocess
import threading


class Chromium:
    """One browser, one page; stopped by its PID only."""

    def __init__(self, executable: str, profile, log):
        entrada_r, self._entrada = os.pipe()  # commands: Chromium reads them on fd 3
        self._saida, saida_w = os.pipe()  # answers and events: Chromium writes them on fd 4

        # bash puts the two ends on fds 3 and 4, where Chromium looks for them (dash takes
        # single-digit fds only; preexec_fn is unsafe in a process with threads).
        redirecao = f'exec "$0" "$@" 3<&{entrada_r} 4>&{saida_w} {entrada_r}<&- {saida_w}>&-'
        self.proc = subprocess.Popen(
            ["/bin/bash", "-c", redirecao, executable, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--remote-debugging-pipe",
             "about:blank"],
            stdout=log, stderr=log, pass_fds=(entrada_r, saida_w),
        )  # fmt: skip
        os.close(entrada_r)
        os.close(saida_w)
        self._ids = itertools.count(1)
        self._respostas: dict[int, queue.Queue] = {}
        self._leitor = threading.Thread(target=self._ler, daemon=True)
        self._leitor.start()
        alvo = self.send("Target.createTarget", url="about:blank")["targetId"]
        self._sessao = self.send("Target.attachToTarget", targetId=alvo, flatten=True)["sessionId"]

    def _ler(self) -> None:
        resto = b""
        while bloco := os.read(self._saida, 65536):
            *mensagens, resto = (resto + bloco).split(b"\0")
            for bruta in mensagens:
                msg = json.loads(bruta)
                if "id" in msg and msg["id"] in self._respostas:
                    self._respostas[msg["id"]].put(msg)

    def send(self, method: str, session: bool = False, **params) -> dict:
        n = next(self._ids)
        self._respostas[n] = espera = queue.Queue()
        msg = {"id": n, "method": method, "params": params} | ({"sessionId": self._sessao} if session else {})
        os.write(self._entrada, json.dumps(msg).encode() + b"\0")
        try:
            resposta = espera.get(timeout=60)
        finally:
            del self._respostas[n]
        if "error" in resposta:
            raise RuntimeError(f"{method}: {resposta['error']}")
        return resposta["result"]

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", session=True, url=url)

    def evaluate(self, expression: str):
        resultado = self.send("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        return resultado["result"].get("value")

    def close(self) -> None:
        os.close(self._entrada)
        try:
            self.proc.wait(timeout=20)  # a closed command pipe makes Chromium exit by itself
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=20)
        os.close(self._saida)
