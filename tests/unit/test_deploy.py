"""Deployment files agree with each other and with the Procfile.

No Docker engine or systemd instance runs here, so the files are checked as data: the
compose file against the Compose specification's JSON schema (vendored from
docker-compose 1.29.2, ``tests/data/compose-spec.json``), every service and unit
command against its Procfile line, and the monitoring files against the metric names
Ponte exports (``adapters.metrics``).
"""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess

import jsonschema
import pytest
import yaml
from honcho.environ import parse_procfile

import settings
from tests.helpers import ROOT

PROCFILE = parse_procfile((ROOT / "Procfile").read_text()).processes
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
APP_SERVICES = {name: svc for name, svc in COMPOSE["services"].items() if "ponte.process" in svc.get("labels", {})}
UNITS = sorted((ROOT / "deploy" / "systemd").glob("ponte-*.service"))


def test_procfile_declares_the_five_processes():
    assert set(PROCFILE) == {"web", "worker", "bridge", "beat", "flower"}


def test_compose_file_is_valid_against_the_compose_schema():
    schema = json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text())
    jsonschema.Draft201909Validator(schema).validate(COMPOSE)


def test_a_broken_compose_file_would_be_caught():
    schema = json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text())
    broken = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    broken["services"]["web"]["healthcheck"]["intervall"] = "10s"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft201909Validator(schema).validate(broken)


def test_every_app_service_runs_its_procfile_line_and_every_process_has_one():
    assert {svc["labels"]["ponte.process"] for svc in APP_SERVICES.values()} == set(PROCFILE)
    for name, svc in APP_SERVICES.items():
        line = PROCFILE[svc["labels"]["ponte.process"]]
        # Compose interpolates $VAR itself: $$ hands a literal $ to the container's shell.
        assert svc["command"] == ["sh", "-c", "exec " + line.replace("$", "$$")], name


def test_the_workers_host_example_is_valid_and_runs_the_procfile_worker():
    schema = json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text())
    other = yaml.safe_load((ROOT / "deploy" / "compose.workers-host.yml").read_text())
    jsonschema.Draft201909Validator(schema).validate(other)
    for name, svc in other["services"].items():
        assert svc["command"] == ["sh", "-c", "exec " + PROCFILE["worker"].replace("$", "$$")], name
        assert svc["environment"]["REDIS_URL"].startswith("sentinel://"), name
        assert "replicaSet=" in svc["environment"]["MONGO_URI"], name


def test_every_service_is_healthchecked_and_app_services_wait_for_healthy_stores():
    for name, svc in COMPOSE["services"].items():
        assert "healthcheck" in svc, name
        assert svc.get("restart") == "unless-stopped", name
    for name, svc in APP_SERVICES.items():
        assert svc["depends_on"] == {
            "mongo": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }, name
        assert svc["environment"]["PONTE_ENV"] == "production" and svc["env_file"] == ".env", name


def test_compose_production_shape():
    services = COMPOSE["services"]
    assert "--replSet" in services["mongo"]["command"] and services["mongo"]["image"] in ("mongo:7", "mongo:8")
    assert "--appendonly" in services["redis"]["command"] and services["redis"]["image"].startswith("redis:7")
    assert services["bridge"]["deploy"]["replicas"] == 2
    assert services["beat"]["deploy"]["replicas"] == 1
    queues = {
        n: s["environment"]["WORKER_QUEUES"] for n, s in APP_SERVICES.items() if "WORKER_QUEUES" in s["environment"]
    }
    covered = {q for value in queues.values() for q in value.split(",")}
    assert covered == {"default", "sync", "pagamentos", "envios"}  # every queue has a worker service
    assert all(
        v.startswith("mongo-data") or v.startswith("redis-data")
        for v in services["mongo"]["volumes"] + services["redis"]["volumes"]
    )


def test_env_example_names_only_real_settings_and_leaves_secrets_empty():
    pairs = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    known = set(settings.DEFAULTS) | {
        "FLOWER_BASIC_AUTH",
        "WORKER_QUEUES",
        "WORKER_CONCURRENCY",
        "COMPOSE_PROJECT_NAME",
    }
    assert set(pairs) <= known, set(pairs) - known
    # A placeholder would pass the length check: empty values make start-up refuse.
    assert pairs["SECRET_KEY"] == "" and pairs["FLOWER_BASIC_AUTH"] == ""


def test_dockerfile_is_slim_multistage_non_root_with_a_cached_dependency_layer():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    assert len(stages) == 2 and all(s.startswith("python:3.13-slim") for s in stages)
    final = stages[-1]
    assert re.search(r"^USER (?!root)\w+", final, re.M)
    assert not re.search(r"apt-get|gcc|build-essential|pip install", final)
    build = stages[0]
    assert build.index("COPY requirements.txt") < build.index("pip install")
    assert "COPY . ." not in build  # code changes do not invalidate the dependency layer


def _unit(path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(path)
    return parser


def test_systemd_units_run_the_procfile_lines_with_restart_policies():
    by_process = {}
    for path in UNITS:
        unit = _unit(path)
        exec_start = unit["Service"]["ExecStart"]
        match = re.fullmatch(r"/bin/sh -c 'exec (.*)'", exec_start)
        assert match, path.name
        # systemd expands $ and % itself: doubled, they reach the shell unchanged.
        line = match.group(1).replace("$$", "$").replace("%%", "%")
        process = next(name for name, cmd in PROCFILE.items() if cmd == line)
        by_process[process] = path.name
        assert unit["Service"]["Restart"] == "always" and unit["Service"]["KillSignal"] == "SIGTERM", path.name
        assert int(unit["Service"]["TimeoutStopSec"]) >= 30 and unit["Service"]["User"] != "root", path.name
    assert set(by_process) == set(PROCFILE)
    target = (ROOT / "deploy" / "systemd" / "ponte.target").read_text()
    assert all(name.replace("@.", "@sync.") in target or name in target for name in by_process.values())


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_accepts_the_units(tmp_path):
    for path in [*UNITS, ROOT / "deploy" / "systemd" / "ponte.target"]:
        name = path.name.replace("@.", "@sync.")
        (tmp_path / name).write_text(path.read_text())
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


METRIC = re.compile(r"\bponte_[a-z_]+")
SUFFIXES = ("_bucket", "_count", "_sum")


def used_metric_names() -> set[str]:
    texts = [
        (ROOT / "deploy" / "grafana" / "dashboards" / "ponte.json").read_text(),
        (ROOT / "deploy" / "prometheus" / "alerts.yml").read_text(),
    ]
    names = set()
    for text in texts:
        for found in METRIC.findall(text):
            name = found
            for suffix in SUFFIXES:
                name = name.removesuffix(suffix)
            names.add(name)
    return names


def test_dashboard_and_alerts_parse_and_use_metric_names():
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "dashboards" / "ponte.json").read_text())
    assert all(p["targets"][0]["expr"] for p in dashboard["panels"])
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    assert rules["groups"][0]["rules"]
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in scrape["scrape_configs"]}
    assert jobs["ponte-api"]["authorization"]["type"] == "Bearer" and "flower" in jobs
    assert used_metric_names()  # checked against a live /metrics in tests/integration/test_metrics.py
