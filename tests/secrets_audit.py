"""Secrets never reach a log: a pytest plugin that audits the whole suite's logs.

- Every log record of the test process (INFO and above) is written, raw, to
  ``<basetemp>/suite-logs.txt``: in-process code must not log a secret at all.
- Every subprocess log the e2e tests keep under ``<basetemp>`` (gunicorn, workers,
  bridges, beat, flower, the launcher) is read too: those went through Ponte's own
  logging configuration.
- So is every span those processes export while traced: the tests' collector writes each
  one to an ``otlp-spans.log`` (``tests/otlp_collector.py``), the console exporter to the
  process's own log.
- The secrets are the test passwords and keys: module constants named like ``SENHA``,
  ``*SECRET*``, ``*PASSWORD*`` of every collected test module, plus every staff key
  the suite creates (``register``).

At the end of the session, any secret found in any of those files fails the run
(exit status 1) and the terminal summary says which file and which secret (masked).

PYTEST_DONT_REWRITE (conftest imports ``register`` before pytest loads the plugin)
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

_SECRETS: set[str] = set()
_NAME = re.compile(r"^(SENHA\w*|\w*SECRET\w*|\w*PASSWORD\w*)$")
MIN_LEN = 8  # shorter constants are not secrets worth the false positives
_state: dict[str, logging.Handler] = {}
_findings: list[tuple[str, str]] = []


def register(secret: str) -> str:
    """Declare a secret the suite created (a staff key, a generated password)."""
    if secret and len(secret) >= MIN_LEN:
        _SECRETS.add(secret)
    return secret


def scan(paths, secrets) -> list[tuple[str, str]]:
    """``(file, secret)`` for every secret found in every file."""
    found = []
    for path in paths:
        try:
            text = Path(path).read_text(errors="replace")
        except OSError:
            continue
        found.extend((str(path), s) for s in secrets if s in text)
    return found


def _mask(secret: str) -> str:
    return secret[:3] + "…" + f"({len(secret)} chars)"


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    basetemp = session.config._tmp_path_factory.getbasetemp()
    handler = _state["handler"] = logging.FileHandler(basetemp / "suite-logs.txt", encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def pytest_collection_finish(session):
    for item in session.items:
        module = getattr(item, "module", None)
        for name, value in vars(module).items() if module else ():
            if _NAME.match(name) and isinstance(value, str):
                register(value)


def pytest_sessionfinish(session, exitstatus):
    if "handler" in _state:
        _state["handler"].flush()
    basetemp = session.config._tmp_path_factory.getbasetemp()
    files = [p for p in basetemp.rglob("*") if p.is_file() and (p.suffix == ".log" or p.name == "suite-logs.txt")]
    _findings.extend(scan(files, _SECRETS))
    if _findings and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if _findings:
        terminalreporter.section("secrets found in logs", red=True)
        for path, secret in _findings:
            terminalreporter.line(f"{_mask(secret)} in {path}")
    else:
        terminalreporter.line(f"secrets audit: {len(_SECRETS)} test secrets, none in the suite's logs")
