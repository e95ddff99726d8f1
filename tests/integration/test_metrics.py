"""``GET /metrics`` and ``GET /ready`` against real Redis and MongoDB (one process; the
multiprocess sums are exercised with real gunicorn workers in tests/e2e)."""

from __future__ import annotations

import time

import redis
from prometheus_client.parser import text_string_to_metric_families

from adapters import embutido, metrics
from devstack.procs import free_port
from tests.conftest import make_key
from tests.unit.test_deploy import used_metric_names
from webapp import create_app


def scrape(client) -> dict[str, dict[frozenset, float]]:
    resp = client.get("/metrics")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.content_type.startswith("text/plain")
    out: dict[str, dict[frozenset, float]] = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for s in family.samples:
            out.setdefault(s.name, {})[frozenset(s.labels.items())] = s.value
    return out


def metrics_client(app):
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {make_key(app, ('metrics:read',), 'prometheus')}"
    return c


def test_metrics_need_the_metrics_scope(app, anon):
    assert anon.get("/metrics").status_code == 401
    other = app.test_client()
    other.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {make_key(app, ('catalog:write',))}"
    assert other.get("/metrics").status_code == 403
    assert metrics_client(app).get("/metrics").status_code == 200


def test_http_series_count_by_route_template_not_raw_path(app, anon):
    c = metrics_client(app)
    before = scrape(c).get("ponte_http_requests_total", {})
    key = frozenset({("method", "GET"), ("route", "/produtos/<produto_id>"), ("status", "404")})
    for _ in range(3):
        assert anon.get("/produtos/65f0c1e2a3b4c5d6e7f80912").status_code == 404
    assert anon.get("/nao-existe").status_code == 404
    got = scrape(c)
    assert got["ponte_http_requests_total"][key] - before.get(key, 0) == 3
    routes = {dict(labels)["route"] for labels in got["ponte_http_requests_total"]}
    assert "<unmatched>" in routes and not any("65f0c1e2" in r for r in routes)
    assert (
        got["ponte_http_request_duration_seconds_count"][
            frozenset({("method", "GET"), ("route", "/produtos/<produto_id>")})
        ]
        >= 3
    )


def test_state_read_at_scrape_time(app, app_config, db):
    c = metrics_client(app)
    r = redis.Redis.from_url(app_config["REDIS_URL"])
    prefix = app_config["REDIS_PREFIX"]
    r.hset(
        f"{prefix}:bridge:stats",
        mapping={"recebidos": 7, "rejeitados": 2, "ultimo_lag_ms": 12.5, "stream_lag": 40, "stream_pendentes": 3},
    )
    db.eventos_rejeitados.insert_many(
        [{"event_id": f"e{n}", "estado": "pendente"} for n in range(3)] + [{"event_id": "e9", "estado": "descartado"}]
    )
    got = scrape(c)
    assert got["ponte_bridge_events_total"][frozenset({("stage", "recebidos")})] == 7
    assert got["ponte_bridge_events_total"][frozenset({("stage", "rejeitados")})] == 2
    assert got["ponte_bridge_enqueue_lag_seconds"][frozenset()] == 0.0125
    assert got["ponte_dead_letters"][frozenset()] == 3
    assert got["ponte_bridge_stream_entries"][frozenset({("estado", "lag")})] == 40
    assert got["ponte_bridge_stream_entries"][frozenset({("estado", "pendentes")})] == 3
    for fila in ("default", "sync", "pagamentos", "envios"):
        assert got["ponte_queue_depth"][frozenset({("queue", fila)})] == r.llen(fila)
    assert got["ponte_dependency_up"][frozenset({("dependency", "redis")})] == 1


def test_task_series_and_every_name_the_dashboard_uses(app):
    metrics.record_task("tasks.exemplo", "succeeded")
    metrics.task_runtime().labels(task="tasks.exemplo").observe(0.2)
    metrics.record_sync_event("obsoleto", 42, time.time())  # a counter that went back: both series
    got = scrape(metrics_client(app))
    assert got["ponte_celery_tasks_total"][frozenset({("task", "tasks.exemplo"), ("outcome", "succeeded")})] >= 1
    exported = {name.removesuffix(s) for name in got for s in ("_bucket", "_count", "_sum", "_total", "_created")}
    exported |= set(got)
    missing = used_metric_names() - exported
    assert not missing, f"the Grafana dashboard or alert rules use unknown metrics: {missing}"


def test_a_scrape_answers_when_redis_is_down(mongo_uri, db_name):
    app = create_app(
        {
            "PONTE_ENV": "test",
            "MONGO_URI": mongo_uri,
            "MONGO_DB": db_name,
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            "RATELIMIT_ENABLED": False,
            "ARGON2_MEMORY_KIB": 1024,
            "ARGON2_TIME_COST": 1,
        }
    )
    try:
        got = scrape(metrics_client(app))
        assert got["ponte_dependency_up"][frozenset({("dependency", "redis")})] == 0
        assert got["ponte_dependency_up"][frozenset({("dependency", "mongo")})] == 1
    finally:
        app.extensions["ponte"].close()


def test_ready_counts_live_workers_per_queue_from_their_heartbeats(app, app_config, anon):
    r = redis.Redis.from_url(app_config["REDIS_URL"])
    prefix = app_config["REDIS_PREFIX"]
    now = time.time()
    for fila in ("default", "sync", "pagamentos"):
        r.zadd(f"{prefix}:workers:{fila}", {"w1@host": now, "w2@host": now - 3600})  # w2 stopped beating
    body = anon.get("/ready").get_json()
    assert body["status"] == "degradado"  # nobody consumes "envios"
    assert body["filas"]["sync"]["workers"] == 1 and body["filas"]["envios"]["workers"] == 0
    r.zadd(f"{prefix}:workers:envios", {"w3@host": now})
    resp = anon.get("/ready")
    assert resp.status_code == 200 and resp.get_json()["status"] == "ok"


def test_the_catalogue_size_and_the_embedded_stores_limit(app, app_config, db):
    db.produtos.insert_many([{"nome": f"p{n}"} for n in range(3)])
    got = scrape(metrics_client(app))
    assert got["ponte_produtos"][frozenset()] == 3
    # The test store is mongoeco: the limit it carries well is shown, and not passed.
    assert got["ponte_embedded_store_product_limit"][frozenset()] == embutido.LIMITE_PRODUTOS
    assert got["ponte_embedded_store_over_limit"][frozenset()] == 0
    estado = metrics.StateCollector(lambda: redis.Redis.from_url(app_config["REDIS_URL"]), lambda: db, (),
                                    app_config["REDIS_PREFIX"], limite_embutido=2)  # fmt: skip
    texto = metrics.render(metrics.registry(None, extra=[estado])).decode()
    assert "ponte_embedded_store_over_limit 1.0" in texto.splitlines()
