"""Fixtures that run Ponte's real processes (gunicorn, celery, the launcher)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from devstack import procs
from tests.helpers import ROOT, http

TEST_SECRET = "e2e-secret-key-that-is-long-enough-for-production-mode"

pytestmark = pytest.mark.e2e


def base_env(**extra) -> dict[str, str]:
    """A clean environment: the caller decides every Ponte setting explicitly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGO_", "REDIS_", "API_", "PONTE_"))}
    env["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{env.get('PATH', '')}"
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Server:
    """A process we started, stopped by PID only."""

    def __init__(self, cmd: list[str], env: dict[str, str], log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_http(self, url: str, timeout: float = 60, status: int = 200):
        """Poll ``url`` until it answers ``status``; fail at once, with the log, if we died."""

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"process exited with {self.proc.returncode}:\n{self.output()}")
            return http("GET", url)[0] == status

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if ready():
                    return
            except AssertionError:
                raise
            except Exception:  # not listening yet
                pass
            time.sleep(0.05)
        raise AssertionError(f"{url} not ready after {timeout}s:\n{self.output()}")

    def signal(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def close(self):
        if self.proc.poll() is None:
            procs.stop(self.proc, timeout=15)
        self.log.close()


def create_key_with_cli(env: dict[str, str], *scopes: str) -> str:
    """``flask --app wsgi keys create``, exactly as an operator runs it."""
    args = [a for s in (scopes or ("admin",)) for a in ("--scope", s)]
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "keys", "create", "--name", "e2e", *args, "--quiet"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


@pytest.fixture
def gunicorn(mongo_uri, redis_url, db_name, tmp_path):
    """A real gunicorn (2 workers) serving Ponte on a free port."""
    port = procs.free_port()
    env = base_env(
        MONGO_URI=mongo_uri,
        MONGO_DB=db_name,
        REDIS_URL=redis_url,
        REDIS_PREFIX=f"test:{db_name}",
        API_PORT=port,
        WEB_CONCURRENCY=2,
        PONTE_ENV="production",
        SECRET_KEY=TEST_SECRET,
    )
    server = Server([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], env, tmp_path / "web.log")
    server.url = f"http://127.0.0.1:{port}"
    server.key = create_key_with_cli(env)
    server.auth = {"Authorization": f"Bearer {server.key}"}
    try:
        server.wait_http(server.url + "/health")
        yield server
    finally:
        server.close()
