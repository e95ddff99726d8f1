"""gunicorn serving TLS itself (TLS_CERTFILE/TLS_KEYFILE), with HSTS on every response."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import sys
import urllib.request

import pytest

from devstack import procs
from tests.e2e.conftest import TEST_SECRET, Server, base_env

pytestmark = pytest.mark.e2e


@pytest.fixture
def certificate(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_gunicorn_serves_https_with_hsts(certificate, mongo_uri, redis_url, db_name, tmp_path):
    cert, key = certificate
    port = procs.free_port()
    # TRUSTED_NETWORK: the throwaway stores have no users (see conftest.start_gunicorn).
    env = base_env(MONGO_URI=mongo_uri, MONGO_DB=db_name, REDIS_URL=redis_url, API_PORT=port, PONTE_ENV="production",
                   TRUSTED_NETWORK="true", SECRET_KEY=TEST_SECRET, TLS_CERTFILE=cert, TLS_KEYFILE=key,
                   WEB_CONCURRENCY=1)  # fmt: skip
    server = Server([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], env, tmp_path / "tls.log")
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    try:
        url = f"https://127.0.0.1:{port}/health"

        def fetch():
            with urllib.request.urlopen(url, context=context, timeout=5) as resp:
                return resp.status, dict(resp.headers)

        from tests.helpers import wait_for

        status, headers = wait_for(fetch, timeout=60, what="https /health")
        assert status == 200
        assert headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        server.close()
