"""Deployment files agree with each other and with the Procfile.

No Docker engine or systemd instance runs here, so the files are checked as data: the
compose file against the Compose specification's JSON schema (vendored from
docker-compose 1.29.2, ``tests/data/compose-spec.json``), every service and unit
command against its Procfile line, and the monitoring files against the metric names
Ponte exports (``adapters.metrics``).
"""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import re
import shelve
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    # Data in named volumes; anything else they mount is a repository file, read-only.
    assert "mongo-data:/data/db" in services["mongo"]["volumes"] and "redis-data:/data" in services["redis"]["volumes"]
    for v in services["mongo"]["volumes"] + services["redis"]["volumes"]:
        assert v.startswith(("mongo-data", "redis-data")) or (v.startswith("./") and v.endswith(":ro")), v


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
        *STORE_PASSWORDS,
    }
    assert set(pairs) <= known, set(pairs) - known
    # A placeholder would pass the length check: empty values make start-up refuse.
    assert pairs["SECRET_KEY"] == "" and pairs["FLOWER_BASIC_AUTH"] == ""
    # Empty, compose refuses to start (${VAR:?...} in docker-compose.yml).
    assert all(pairs[name] == "" for name in STORE_PASSWORDS)


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


# -- what the image contains ---------------------------------------------------------

SECRET_HINT = re.compile(r"(^|/)\.env($|\.)|\.key$|\.password$|\.pem$|\.acl$|secret", re.I)


def _ignore_patterns(path) -> list[str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _docker_pattern_regex(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as a regex (Go's filepath.Match plus ``**``)."""
    pattern = pattern.strip("/")
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def docker_ignored(path: str, patterns: list[str]) -> bool:
    """Whether the build context leaves ``path`` out: the last matching pattern wins, and
    a pattern matching a parent directory excludes everything under it."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = _docker_pattern_regex(pattern.removeprefix("!"))
        if any(regex.fullmatch(c) for c in candidates):
            ignored = not negate
    return ignored


def test_the_dockerignore_matcher_follows_docker_semantics():
    assert docker_ignored("var/secret.key", ["var"])
    assert docker_ignored("deploy/prometheus/x.key", ["**/*.key"]) and docker_ignored("a.key", ["**/*.key"])
    assert not docker_ignored("deploy/prometheus/x.key", ["*.key"])  # a bare * stays in the root
    assert not docker_ignored(".env.example", [".env*", "!.env.example"])


def test_every_secret_gitignore_keeps_out_of_git_stays_out_of_the_image():
    # The final stage does COPY . . : only .dockerignore stands between a secret and the image.
    assert re.search(r"^COPY\b.*\s\.\s+\.\s*$", (ROOT / "Dockerfile").read_text(), re.M)
    patterns = _ignore_patterns(ROOT / ".dockerignore")
    secrets = [p.strip("/") for p in _ignore_patterns(ROOT / ".gitignore") if SECRET_HINT.search(p)]
    assert {".env", "deploy/prometheus/ponte-metrics.key", "deploy/prometheus/flower.password"} <= set(secrets)
    assert {"deploy/redis/users.acl", "deploy/mongo/root.password", "deploy/mongo/replica.key"} <= set(secrets)
    examples = [
        *secrets,
        ".env.production",
        "deploy/.env",
        "var/secret.key",
        "deploy/prometheus/other.key",
        "deploy/prometheus/flower.password",
        "tls/server.pem",
    ]
    leaked = [path for path in examples if not docker_ignored(path, patterns)]
    assert not leaked, f"would be copied into the image: {leaked}"
    for path in (".venv/bin/python", "var/mongo/data", "tests/unit/test_deploy.py", "bench/run.py"):
        assert docker_ignored(path, patterns), path


def test_the_image_keeps_what_its_processes_run():
    patterns = _ignore_patterns(ROOT / ".dockerignore")
    needed = [
        "requirements.txt",
        "constraints.txt",
        "wsgi.py",
        "bootstrap.py",
        "settings.py",
        "celeryconfig.py",
        "gunicorn.conf.py",
        "flowerconfig.py",
        "tasks/__init__.py",
        "tasks/healthcheck.py",
        "bridge/healthcheck.py",
        "deploy/beat_healthcheck.py",
    ]
    needed += [
        str(p.relative_to(ROOT))
        for pkg in ("adapters", "domain", "wire", "services", "webapp")
        for p in (ROOT / pkg).glob("*.py")
    ]
    # Every file a compose healthcheck runs by path is in the image.
    for svc in COMPOSE["services"].values():
        test = svc.get("healthcheck", {}).get("test", [])
        needed += [arg.removeprefix("/app/") for arg in test if arg.startswith("/app/")]
    assert not [path for path in needed if docker_ignored(path, patterns)]
    assert all((ROOT / path).exists() for path in needed)


# -- beat's healthcheck ----------------------------------------------------------------


def _beat_healthcheck(tmp_path):
    """Beat's compose healthcheck, run here: /app is the repository, /data a temp dir."""
    test = COMPOSE["services"]["beat"]["healthcheck"]["test"]
    assert test[0] == "CMD" and test[1] == "python", test
    args = [arg.replace("/app/", f"{ROOT}/").replace("/data/", f"{tmp_path}/") for arg in test[2:]]
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=30)


def test_beat_healthcheck_watches_the_schedule_beat_writes():
    beat = COMPOSE["services"]["beat"]
    schedule = f"{beat['environment']['PONTE_VAR_DIR']}/celerybeat-schedule"
    assert schedule in beat["healthcheck"]["test"]
    assert any(v.endswith(":" + beat["environment"]["PONTE_VAR_DIR"]) for v in beat["volumes"])


def test_beat_is_healthy_while_only_the_wal_file_moves(tmp_path):
    # Python 3.13's dbm.sqlite3 (WAL): the main file changes only at a checkpoint.
    now = time.time()
    main = tmp_path / "celerybeat-schedule"
    main.write_bytes(b"sqlite")
    os.utime(main, (now - 86400, now - 86400))
    (tmp_path / "celerybeat-schedule-wal").write_bytes(b"wal")
    result = _beat_healthcheck(tmp_path)
    assert result.returncode == 0, result.stderr


def test_beat_is_healthy_with_a_real_shelve_whose_main_file_is_a_day_old(tmp_path):
    # What beat does: a writeback shelve, synced; then a day passes without a checkpoint.
    schedule = tmp_path / "celerybeat-schedule"
    with shelve.open(str(schedule), writeback=True) as store:
        store["entries"] = {"pagamentos": 1}
        store.sync()
        day_ago = time.time() - 86400
        os.utime(schedule, (day_ago, day_ago))
        store["entries"] = {"pagamentos": 2}
        store.sync()
        result = _beat_healthcheck(tmp_path)
    assert result.returncode == 0, result.stderr


def test_beat_is_unhealthy_when_every_schedule_file_is_stale_or_missing(tmp_path):
    assert _beat_healthcheck(tmp_path).returncode == 1  # nothing written yet
    old = time.time() - 3600
    for name in ("celerybeat-schedule", "celerybeat-schedule-wal", "celerybeat-schedule-shm"):
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (old, old))
    (tmp_path / "other-file").write_bytes(b"fresh, but not beat's")
    result = _beat_healthcheck(tmp_path)
    assert result.returncode == 1 and "last written" in result.stderr


def test_beat_healthcheck_module_uses_the_procfile_default(monkeypatch, tmp_path):
    module = _load_module(ROOT / "deploy" / "beat_healthcheck.py")
    monkeypatch.setenv("PONTE_VAR_DIR", str(tmp_path))
    assert module.default_schedule() == f"{tmp_path}/celerybeat-schedule"
    assert "${PONTE_VAR_DIR:-var}/celerybeat-schedule" in PROCFILE["beat"]
    (tmp_path / "celerybeat-schedule.db").write_bytes(b"ndbm")
    assert module.main([]) == 0
    assert module.check(module.default_schedule(), 600, now=time.time() + 601) is not None


def _load_module(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- systemd ---------------------------------------------------------------------------

MANAGED_DIRS = {
    "StateDirectory": "/var/lib",
    "LogsDirectory": "/var/log",
    "RuntimeDirectory": "/run",
    "CacheDirectory": "/var/cache",
}


def _managed_dirs(service) -> list[str]:
    return [f"{base}/{name}" for key, base in MANAGED_DIRS.items() for name in service.get(key, "").split()]


def test_units_let_systemd_create_the_directories_they_write():
    env_example = (ROOT / "deploy" / "systemd" / "ponte.env.example").read_text()
    written = re.findall(r"^#?\s*(?:METRICS_DIR|LOG_FILE)=(/\S+)", env_example, re.M)
    assert len(written) == 2
    for path in UNITS:
        service = _unit(path)["Service"]
        assert service.get("StateDirectory") == "ponte" and service.get("LogsDirectory") == "ponte", path.name
        managed = _managed_dirs(service)
        # A ReadWritePaths= entry that may not exist fails the unit with 226/NAMESPACE.
        for entry in service.get("ReadWritePaths", "").split():
            assert entry.startswith("-") or any(entry == d or entry.startswith(d + "/") for d in managed), (
                path.name,
                entry,
            )
        var_dir = re.search(r"PONTE_VAR_DIR=(\S+)", service.get("Environment", ""))
        for target in [*written, *([var_dir.group(1)] if var_dir else [])]:
            assert any(target == d or target.startswith(d + "/") for d in managed), (path.name, target)


def test_files_the_units_refer_to_exist():
    for path in [
        *UNITS,
        ROOT / "deploy" / "systemd" / "ponte.target",
        ROOT / "deploy" / "systemd" / "ponte.env.example",
    ]:
        for ref in re.findall(r"deploy/systemd/[\w.@-]+", path.read_text()):
            assert (ROOT / ref.rstrip(".")).exists(), (path.name, ref)
    readme = (ROOT / "deploy" / "systemd" / "README.md").read_text()
    assert "useradd" in readme and "/etc/ponte/ponte.env" in readme and "enable --now ponte.target" in readme


# -- monitoring exposure ---------------------------------------------------------------

LOOPBACK = ("127.0.0.1:", "[::1]:")


def _published(svc) -> list[str]:
    return [str(p) for p in svc.get("ports", [])]


def test_unauthenticated_ports_are_published_on_loopback_only():
    services = COMPOSE["services"]
    for name in ("prometheus", "grafana"):
        assert _published(services[name]) and all(p.startswith(LOOPBACK) for p in _published(services[name])), name
    # On every interface: only what authenticates its callers (API keys, Flower's basic auth).
    for name, svc in services.items():
        if name not in ("web", "flower"):
            assert all(p.startswith(LOOPBACK) for p in _published(svc)), (name, _published(svc))
    other = yaml.safe_load((ROOT / "deploy" / "compose.workers-host.yml").read_text())
    for name, svc in other["services"].items():
        assert all(p.startswith(LOOPBACK) for p in _published(svc)), (name, _published(svc))


def test_grafana_admin_password_comes_from_a_file_only_grafana_mounts():
    """Never admin/admin; not in .env either (every app container loads .env), and a
    missing file (Docker makes an empty directory of it) stops Grafana, not the stack."""
    grafana = COMPOSE["services"]["grafana"]
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/etc/grafana/admin.password"
    assert "./deploy/grafana/admin.password:/etc/grafana/admin.password:ro" in grafana["volumes"]
    assert "GF_SECURITY_ADMIN_PASSWORD" not in (ROOT / ".env.example").read_text()
    assert "deploy/grafana/admin.password" in (ROOT / ".gitignore").read_text()
    script = grafana["entrypoint"][2].replace("$$", "$")
    for conteudo, ok in (("s3nha-longa\n", True), ("", False), (None, False)):
        with tempfile.TemporaryDirectory() as tmp:
            alvo = Path(tmp) / "admin.password"
            if conteudo is not None:
                alvo.write_text(conteudo)
            teste = script.replace("/etc/grafana/admin.password", str(alvo)).replace('exec /run.sh "$@"', "exit 0")
            assert (subprocess.run(["sh", "-c", teste], capture_output=True).returncode == 0) is ok, conteudo


def _env_example() -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )


def test_the_flower_user_prometheus_scrapes_with_is_the_one_env_example_asks_for():
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    flower = next(job for job in scrape["scrape_configs"] if job["job_name"] == "flower")
    user = flower["basic_auth"]["username"]
    text = (ROOT / ".env.example").read_text()
    asked = re.search(r"Flower's login, (\w+):<", text)
    assert asked and asked.group(1) == user
    assert "FLOWER_BASIC_AUTH=admin:" in (ROOT / "docs" / "operations.md").read_text() and user == "admin"


def _prometheus_entrypoint(tmp_path):
    svc = COMPOSE["services"]["prometheus"]
    shell, flag, script, name = svc["entrypoint"]
    assert (shell, flag) == ("/bin/sh", "-c")
    # Compose turns $$ into $; the secrets live in tmp_path, prometheus is echo.
    script = script.replace("$$", "$").replace("/etc/prometheus/", f"{tmp_path}/").replace("/bin/prometheus", "echo")
    return subprocess.run(["sh", "-c", script, name, *svc["command"]], capture_output=True, text=True, timeout=30)


def test_prometheus_refuses_to_start_without_its_secret_files(tmp_path):
    svc = COMPOSE["services"]["prometheus"]
    mounted = [v.split(":")[1] for v in svc["volumes"] if v.startswith("./") and SECRET_HINT.search(v.split(":")[0])]
    assert len(mounted) == 2 and all(m in svc["entrypoint"][2] for m in mounted)
    files = [tmp_path / m.rsplit("/", 1)[1] for m in mounted]
    result = _prometheus_entrypoint(tmp_path)
    assert result.returncode == 1 and "ponte-metrics.key is missing" in result.stderr
    files[0].mkdir()  # what Docker leaves when the host file is missing
    files[1].write_text("secret\n")
    result = _prometheus_entrypoint(tmp_path)
    assert result.returncode == 1 and files[0].name in result.stderr
    files[0].rmdir()
    files[0].write_text("")
    assert _prometheus_entrypoint(tmp_path).returncode == 1  # empty
    files[0].write_text("ponte_key\n")
    result = _prometheus_entrypoint(tmp_path)
    assert result.returncode == 0 and "--config.file=/etc/prometheus/prometheus.yml" in result.stdout


# -- the stores authenticate every client ---------------------------------------------

STORE_PASSWORDS = ("REDIS_PONTE_PASSWORD", "MONGO_PONTE_PASSWORD")
WORKERS_HOST = yaml.safe_load((ROOT / "deploy" / "compose.workers-host.yml").read_text())
# A credential in a URL: user:password@ (the password part must be a compose variable).
URL_CREDENTIAL = re.compile(r"[a-z+]+://[^/\s:@;]*:(\$\{[^}]*\}|[^@\s;]*)@")
VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?message} (the last refuses when unset)."""

    def value(match):
        name, rest = match.group(1), match.group(2)
        if env.get(name):
            return env[name]
        if match.group(0).startswith(f"${{{name}:?"):
            raise KeyError(f"{name}: {rest}")
        return rest or ""

    return VARIABLE.sub(value, text)


def _strings(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def test_no_compose_file_holds_a_literal_password():
    for name, data in (("docker-compose.yml", COMPOSE), ("compose.workers-host.yml", WORKERS_HOST)):
        found = [(p, text) for text in _strings(data) for p in URL_CREDENTIAL.findall(text)]
        assert len(found) >= 2, name  # MONGO_URI and REDIS_URL at least: the pattern sees them
        for password, text in found:
            assert VARIABLE.fullmatch(password), (name, text)
        # Never a literal value for a password variable either (MONGO_INITDB_ROOT_PASSWORD, ...).
        env = [svc.get("environment", {}) for svc in data["services"].values()]
        for key, value in ((k, str(v)) for e in env for k, v in e.items()):
            if re.search(r"PASSWORD|AUTH", key) and not key.endswith("_FILE"):
                assert VARIABLE.fullmatch(value), (name, key)
    assert URL_CREDENTIAL.findall("redis://ponte:literal-pw@redis:6379/0") == ["literal-pw"]


def test_every_app_service_reaches_the_stores_as_ponte_with_passwords_from_env():
    env = {"REDIS_PONTE_PASSWORD": "r" * 32, "MONGO_PONTE_PASSWORD": "m" * 32}
    for name, svc in [*APP_SERVICES.items(), *WORKERS_HOST["services"].items()]:
        redis_url, mongo_uri = svc["environment"]["REDIS_URL"], svc["environment"]["MONGO_URI"]
        assert "${REDIS_PONTE_PASSWORD" in redis_url and "${MONGO_PONTE_PASSWORD" in mongo_uri, name
        urls = {"REDIS_URL": _interpolate(redis_url, env), "MONGO_URI": _interpolate(mongo_uri, env)}
        if not urls["REDIS_URL"].startswith("sentinel://"):
            assert urls["REDIS_URL"].startswith(f"redis://ponte:{'r' * 32}@redis:6379/"), name
        assert urls["MONGO_URI"].startswith(f"mongodb://ponte:{'m' * 32}@"), name
        assert "authSource=ecommerce" in urls["MONGO_URI"], name
        # What production start-up makes of them: credentialed, no TRUSTED_NETWORK needed.
        cfg = settings.load({"PONTE_ENV": "production", "SECRET_KEY": "s" * 48, **urls})
        assert cfg["TRUSTED_NETWORK"] is False, name
        # Unset, compose refuses to start instead of connecting without a password.
        with pytest.raises(KeyError, match="REDIS_PONTE_PASSWORD"):
            _interpolate(redis_url, {})


def test_redis_loads_the_acl_file_and_its_healthcheck_authenticates_as_ponte():
    redis_svc = COMPOSE["services"]["redis"]
    command = redis_svc["command"]
    acl = command[command.index("--aclfile") + 1]
    assert acl == "/run/secrets/redis_acl" and redis_svc["secrets"] == ["redis_acl"]
    assert COMPOSE["secrets"]["redis_acl"]["file"] == "./deploy/redis/users.acl"
    test = " ".join(redis_svc["healthcheck"]["test"])
    assert "--user ponte" in test and "PONG" in test
    assert redis_svc["environment"]["REDISCLI_AUTH"].startswith("${REDIS_PONTE_PASSWORD:?")
    # The file is the one deploy/redis_acl.py writes: its users, the default one off.
    from deploy import redis_acl

    text = redis_acl.render({user: "p" * 16 for user in redis_acl.PASSWORD_VARIABLES})
    assert text.splitlines()[0] == "user default off" and "user ponte on" in text


def test_mongo_runs_with_access_control_a_keyfile_and_an_application_user():
    mongo = COMPOSE["services"]["mongo"]
    command = mongo["command"]
    assert "--auth" in command and "--replSet" in command
    assert command[command.index("--keyFile") + 1] == "/run/secrets/mongo_keyfile"
    assert set(mongo["secrets"]) == {"mongo_root_password", "mongo_keyfile"}
    assert COMPOSE["secrets"]["mongo_keyfile"]["file"] == "./deploy/mongo/replica.key"
    assert COMPOSE["secrets"]["mongo_root_password"]["file"] == "./deploy/mongo/root.password"
    env = mongo["environment"]
    assert env["MONGO_INITDB_ROOT_USERNAME"] == "root"
    assert env["MONGO_INITDB_ROOT_PASSWORD_FILE"] == "/run/secrets/mongo_root_password"
    assert "./deploy/mongo/init-ponte-user.js:/docker-entrypoint-initdb.d/init-ponte-user.js:ro" in mongo["volumes"]
    # rs.initiate needs an authenticated user: the healthcheck logs in as root.
    test = " ".join(mongo["healthcheck"]["test"])
    assert "-u root" in test and "/run/secrets/mongo_root_password" in test and "rs.initiate" in test
    assert "--authenticationDatabase admin" in test


def _run_init_script(env: dict[str, str]) -> subprocess.CompletedProcess:
    """deploy/mongo/init-ponte-user.js under node, with mongosh's db and print stubbed."""
    stub = (
        "const created = []; globalThis.print = console.log;"
        "globalThis.db = {getSiblingDB: (name) => ({createUser: (u) => created.push({name, ...u})})};"
        f"require({json.dumps(str(ROOT / 'deploy' / 'mongo' / 'init-ponte-user.js'))});"
        "console.log(JSON.stringify(created));"
    )
    return subprocess.run(["node", "-e", stub], env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_the_mongo_init_script_creates_ponte_with_readwrite_on_its_database_only():
    result = _run_init_script({"MONGO_DB": "loja", "MONGO_PONTE_PASSWORD": "x" * 24})
    assert result.returncode == 0, result.stderr
    (user,) = json.loads(result.stdout.splitlines()[-1])
    assert user == {"name": "loja", "user": "ponte", "pwd": "x" * 24, "roles": [{"role": "readWrite", "db": "loja"}]}
    weak = _run_init_script({"MONGO_PONTE_PASSWORD": "short"})
    assert weak.returncode != 0 and "16+ characters" in weak.stderr and "short" not in weak.stderr


def _store_entrypoint(service: str, secrets_dir: Path) -> subprocess.CompletedProcess:
    shell, flag, script, name = COMPOSE["services"][service]["entrypoint"]
    assert (shell, flag) == ("/bin/sh", "-c")
    script = script.replace("$$", "$").replace("/run/secrets/", f"{secrets_dir}/")
    script = script.replace('exec docker-entrypoint.sh "$@"', "exit 0")
    return subprocess.run(["sh", "-c", script, name], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(
    ("service", "files"), [("redis", ["redis_acl"]), ("mongo", ["mongo_root_password", "mongo_keyfile"])]
)
def test_the_stores_refuse_to_start_without_their_secret_files(service, files, tmp_path):
    assert set(files) == set(COMPOSE["services"][service]["secrets"])
    result = _store_entrypoint(service, tmp_path)
    assert result.returncode == 1 and f"{service} start-up refused" in result.stderr
    (tmp_path / files[0]).mkdir()  # what Docker leaves for a missing host file
    for name in files[1:]:
        (tmp_path / name).write_text("x\n")
    assert _store_entrypoint(service, tmp_path).returncode == 1
    (tmp_path / files[0]).rmdir()
    (tmp_path / files[0]).write_text("x\n")
    assert _store_entrypoint(service, tmp_path).returncode == 0


def test_the_files_the_stores_mount_stay_out_of_git_and_of_the_image():
    patterns = _ignore_patterns(ROOT / ".dockerignore")
    mounted = [s["file"].removeprefix("./") for s in COMPOSE["secrets"].values()]
    assert len(mounted) == 3
    for path in mounted:
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert ignored.returncode == 0, f"{path} is not in .gitignore"
        assert docker_ignored(path, patterns), f"{path} would be copied into the image"
