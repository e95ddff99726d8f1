"""Liveness and readiness against real and unreachable dependencies."""

from devstack.procs import free_port
from webapp import create_app


def test_health_and_ready_ok(client):
    assert client.get("/health").get_json() == {"status": "ok"}
    resp = client.get("/ready")
    assert resp.status_code == 200
    assert resp.get_json()["dependencias"] == {"mongo": "ok", "redis": "ok"}


def test_ready_is_503_when_mongo_is_unreachable(redis_url):
    app = create_app(
        {
            "PONTE_ENV": "test",
            "MONGO_URI": f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
            "MONGO_TIMEOUT_MS": 300,
            "REDIS_URL": redis_url,
        }
    )
    client = app.test_client()
    resp = client.get("/ready")
    assert resp.status_code == 503
    assert resp.get_json()["dependencias"] == {"mongo": "indisponivel", "redis": "ok"}
    # Load balancers and clients back off on Retry-After, as docs/api.md's error table promises.
    assert resp.headers["Retry-After"] == "5"
    assert client.get("/health").status_code == 200  # alive even though not ready


def test_ready_is_503_when_redis_is_unreachable(mongo_uri):
    app = create_app({"PONTE_ENV": "test", "MONGO_URI": mongo_uri, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    resp = app.test_client().get("/ready")
    assert resp.status_code == 503
    assert resp.get_json()["dependencias"] == {"mongo": "ok", "redis": "indisponivel"}
