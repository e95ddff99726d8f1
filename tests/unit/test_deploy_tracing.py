"""The ``tracing`` profile of docker-compose.yml (the schema test of ``test_deploy`` covers
its shape) and the tracing variables the deployment files hand to Ponte."""

from __future__ import annotations

import re

import yaml

from adapters import tracing
from tests.helpers import ROOT
from tests.unit.test_deploy import APP_SERVICES, COMPOSE, _interpolate

COLLECTOR = yaml.safe_load((ROOT / "deploy" / "otel" / "collector.yaml").read_text())


def test_the_tracing_profile_is_opt_in_and_its_ui_listens_on_loopback():
    profiled = {name for name, svc in COMPOSE["services"].items() if "tracing" in svc.get("profiles", [])}
    assert profiled == {"otel-collector", "jaeger"}
    assert COMPOSE["services"]["jaeger"]["ports"] == ["127.0.0.1:16686:16686"]
    assert all(p.startswith("127.0.0.1:") for p in COMPOSE["services"]["otel-collector"]["ports"])
    # Nothing outside the profile waits for it: `docker compose up` without it still starts.
    for name, svc in COMPOSE["services"].items():
        if name not in profiled:
            assert not set(svc.get("depends_on", {})) & profiled, name


def test_the_collector_receives_otlp_http_and_forwards_to_jaeger():
    collector = COMPOSE["services"]["otel-collector"]
    mounted = {v.split(":")[1]: v.split(":")[0] for v in collector["volumes"]}
    config = next(arg.split("=", 1)[1] for arg in collector["command"] if arg.startswith("--config="))
    assert mounted[config] == "./deploy/otel/collector.yaml"
    assert f"--config={config}" in collector["healthcheck"]["test"]  # the healthcheck checks that file
    pipeline = COLLECTOR["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"] and "http" in COLLECTOR["receivers"]["otlp"]["protocols"]
    assert all(name in COLLECTOR["processors"] for name in pipeline["processors"])
    (exporter,) = pipeline["exporters"]
    assert COLLECTOR["exporters"][exporter]["endpoint"].startswith("jaeger:")
    deleted = [a for a in COLLECTOR["processors"]["attributes/privacy"]["actions"] if a["action"] == "delete"]
    patterns = [re.compile(a["pattern"].removeprefix("(?i)"), re.I) for a in deleted if "pattern" in a]
    for key in ("http.request.header.authorization", "enduser.email", "ponte.senha", "url.query"):
        assert any(p.search(key) for p in patterns) or any(a.get("key") == key for a in deleted), key


def test_app_services_trace_only_when_env_says_so_and_then_reach_the_collector():
    port = COLLECTOR["receivers"]["otlp"]["protocols"]["http"]["endpoint"].rsplit(":", 1)[1]
    for env_file, expected in (({}, []), ({"OTEL_TRACES_EXPORTER": "otlp"}, ["otlp"])):
        for name, svc in APP_SERVICES.items():
            env = {k: _interpolate(str(v), env_file) for k, v in svc["environment"].items() if k.startswith("OTEL_")}
            assert tracing.exporters(env) == expected, name
            assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://otel-collector:{port}", name


def test_the_deployment_examples_show_the_variables_and_leave_tracing_off():
    for path in (".env.example", "deploy/systemd/ponte.env.example"):
        text = (ROOT / path).read_text()
        assert "# OTEL_TRACES_EXPORTER=otlp" in text and "OTEL_EXPORTER_OTLP_ENDPOINT" in text, path
        assert not re.search(r"^OTEL_", text, re.M), f"{path} turns tracing on"
