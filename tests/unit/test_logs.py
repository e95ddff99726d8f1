"""Log lines: JSON, one per event, with the correlation context and without secrets."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import subprocess
import sys

import pytest

import settings
from adapters import logs
from tests.helpers import ROOT


@pytest.fixture
def capture():
    """Ponte's real configuration, writing to a buffer; the previous one restored after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buf = io.StringIO()
    cfg = settings.load({}, {"PONTE_ENV": "test"})
    config = logs.dict_config(cfg, "unit")
    config["handlers"]["console"]["stream"] = buf
    logging.config.dictConfig(config)
    try:
        yield buf
    finally:
        root.handlers[:], root.level = saved


def lines(buf: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buf.getvalue().splitlines()]


def test_one_json_object_per_line_with_the_bound_context(capture):
    token = logs.bind(request_id="req-1", event_id="ev-1")
    try:
        logging.getLogger("ponte.test").info("first\nsecond")
    finally:
        logs.reset(token)
    logging.getLogger("ponte.test").warning("after")
    first, after = lines(capture)
    assert first["message"] == "first\nsecond" and first["level"] == "INFO" and first["logger"] == "ponte.test"
    assert first["request_id"] == "req-1" and first["event_id"] == "ev-1" and first["role"] == "unit"
    assert first["ts"].endswith("+00:00")  # ISO 8601, UTC
    assert "request_id" not in after  # the context ended with the work


def test_bind_nests_and_ignores_empty_values():
    outer = logs.bind(request_id="r1")
    inner = logs.bind(task_id="t1", event_id=None)
    assert dict(logs.current()) == {"request_id": "r1", "task_id": "t1"}
    logs.reset(inner)
    assert dict(logs.current()) == {"request_id": "r1"}
    logs.reset(outer)
    assert dict(logs.current()) == {}


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("login senha=hunter22-secret falhou", "hunter22-secret"),
        ('{"email": "a@b.c", "senha": "s3nh4-forte!"}', "s3nh4-forte!"),
        ("password: pa55word-x", "pa55word-x"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig-part", "eyJhbGciOiJIUzI1NiJ9"),
        ("key ponte_0a1b2c3d_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG used", "abcdefghijklmnopqrstuvwxyz"),
        ("broker redis://:r3dis-pass@10.0.0.1:6379/0 down", "r3dis-pass"),
        ("mongodb://ponte:m0ngo-pass@db:27017/?replicaSet=rs0", "m0ngo-pass"),
        ("mongodb+srv://ponte:srv-m0ngo-pass@cluster0.example.net/ecommerce", "srv-m0ngo-pass"),
        ("mongodb://ponte:multi-pass@db1:27017,db2:27017/ecommerce?authSource=ecommerce", "multi-pass"),
        ("REDIS_URL=rediss://ponte:tls-r3dis-pass@redis:6380/0", "tls-r3dis-pass"),
        ("sentinel://:sent-pass-1@s1:26379/0;sentinel://:sent-pass-1@s2:26379/0", "sent-pass-1"),
        ("redis://ponte:raw@t-sign@redis:6379/0 refused", "t-sign"),  # an unescaped @ in it
        ("hash $argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", "aGFzaGhhc2g"),
        ("X-API-Key: chave-secreta-123", "chave-secreta-123"),
    ],
)
def test_secrets_are_masked_wherever_they_appear(capture, text, secret):
    logging.getLogger("ponte.test").info("got %s", text)
    (line,) = lines(capture)
    assert secret not in json.dumps(line)
    assert logs.MASK in line["message"]


def test_sensitive_extra_fields_and_tracebacks_are_masked(capture):
    try:
        raise ValueError("senha=in-a-traceback-123")
    except ValueError:
        logging.getLogger("ponte.test").exception("failed", extra={"password": "extra-secret-1"})
    (line,) = lines(capture)
    dumped = json.dumps(line)
    assert "extra-secret-1" not in dumped and "in-a-traceback-123" not in dumped
    assert line["password"] == logs.MASK and "ValueError" in line["exc_info"]


def test_ids_and_prefixes_survive_masking():
    text = "pedido 65f0c1e2a3b4c5d6e7f80912 event_id=abc123 chave ponte_0a1b2c3d"
    assert logs.redact(text) == text


def test_text_format_and_rotating_file(tmp_path):
    cfg = settings.load(
        {},
        {
            "PONTE_ENV": "test",
            "LOG_FORMAT": "text",
            "LOG_FILE": str(tmp_path / "{role}.log"),
            "LOG_FILE_MAX_BYTES": 2048,
        },
    )
    config = logs.dict_config(cfg, "bridge")
    config["handlers"]["console"]["stream"] = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logging.config.dictConfig(config)
    try:
        for n in range(100):
            logging.getLogger("ponte.test").info("line %03d senha=nao-aparece", n)
    finally:
        for h in root.handlers:
            h.close()
        root.handlers[:], root.level = saved
    files = sorted(p.name for p in tmp_path.iterdir())
    assert "bridge.log" in files and "bridge.log.1" in files  # rotated at LOG_FILE_MAX_BYTES
    text = (tmp_path / "bridge.log").read_text()
    assert "INFO bridge[" in text and "line 099" in text and "nao-aparece" not in text


@pytest.mark.parametrize(("key", "value"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "LOUD")])
def test_bad_log_settings_stop_start_up(key, value):
    with pytest.raises(settings.ConfigError, match=key):
        settings.load({key: value})


def test_celery_task_lines_keep_the_task_and_leave_the_payload_out(capture):
    """Celery's worker logs each task with ``extra={"data": context}``, its arguments in
    it: a CRM envelope (names, e-mails, password hashes) must never reach the log."""
    from celery.app import trace

    envelope = {"event_id": "ev-1", "payload": '{"email": "maria@example.com", "senha_hash": "$argon2id$v=19$abc"}'}
    context = {"id": "task-1", "name": "tasks.sync.aplicar_evento", "args": repr([envelope]), "kwargs": "{}",
               "eta": None}  # fmt: skip
    logging.getLogger("celery.worker.strategy").info(trace.LOG_RECEIVED, context, extra={"data": context})
    (line,) = lines(capture)
    dumped = json.dumps(line)
    assert "maria@example.com" not in dumped and "argon2" not in dumped
    assert line["data"]["args"] == logs.OMITTED and line["data"]["name"] == "tasks.sync.aplicar_evento"
    assert "task-1" in line["message"]


def test_structured_extras_are_masked_at_any_depth(capture):
    logging.getLogger("ponte.test").info(
        "x", extra={"detalhe": {"cliente": {"senha": "s3cr3t-deep", "nota": "hash $argon2id$v=19$zzz"}}}
    )
    dumped = json.dumps(lines(capture)[0])
    assert "s3cr3t-deep" not in dumped and "argon2id$v=19$zzz" not in dumped


@pytest.mark.parametrize("texto", ["a" * 40_000, "a://" * 10_000, "a:" * 20_000, "senha" * 8_000])
def test_masking_stays_linear_on_long_text(texto):
    """Masking runs inside every logging call: a long value must not stall the caller
    (a 40 KB run of letters once took 9 s). Checked by the work done, not a timer: the
    same text 4x longer may cost at most ~4x (+ slack) in pattern steps."""
    import timeit

    curto = min(timeit.repeat(lambda: logs.redact(texto[: len(texto) // 4]), number=1, repeat=7))
    longo = min(timeit.repeat(lambda: logs.redact(texto), number=1, repeat=7))  # the least disturbed of 7
    assert longo < 12 * curto + 0.01


def test_a_forked_child_writes_its_own_file_and_the_folder_is_made(tmp_path):
    # gunicorn workers and Celery pool processes are forked after logging is set up. The fork
    # happens in a fresh single-threaded interpreter: pytest's own threads make fork unsafe.
    folder = tmp_path / "not-yet" / "log"
    script = f"""
import logging, os, sys
import settings
from adapters import logs
from tests.helpers import ROOT
cfg = settings.load({{}}, {{"PONTE_ENV": "test", "LOG_FILE": {str(folder / "{role}-{pid}.log")!r}}})
logs.configure(cfg, "web")
logging.getLogger("ponte.test").info("from the parent")
child = os.fork()
if child == 0:
    logs.after_fork(cfg, "web")
    logging.getLogger("ponte.test").info("from the child")
    logging.shutdown()
    os._exit(0)
os.waitpid(child, 0)
print(os.getpid(), child)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    parent, child = done.stdout.split()[-2:]
    parent_text = (folder / f"web-{parent}.log").read_text()
    child_text = (folder / f"web-{child}.log").read_text()
    assert "from the parent" in parent_text and "from the child" not in parent_text
    assert "from the child" in child_text and json.loads(child_text.splitlines()[-1])["process"] == int(child)


def test_access_wanted_follows_access_log():
    assert [logs.access_wanted("all", s) for s in (200, 404, None)] == [True, True, True]
    assert [logs.access_wanted("errors", s) for s in (200, 304, 400, 500, None)] == [False, False, True, True, True]
    assert [logs.access_wanted("off", s) for s in (200, 500)] == [False, False]


def test_writes_errors_and_slow_requests_by_default():
    cfg = settings.load({})
    assert cfg["ACCESS_LOG"] == "writes"
    lento = cfg["ACCESS_LOG_SLOW_MS"]
    leituras = [logs.access_wanted("writes", s, 1, lento, "GET") for s in (200, 304, 404, 500, None)]
    assert leituras == [False, False, True, True, True]
    assert [logs.access_wanted("writes", 201, 1, lento, m) for m in ("POST", "PUT", "PATCH", "DELETE", "HEAD")] == [
        True, True, True, True, False
    ]  # fmt: skip
    for modo in ("writes", "errors"):
        assert [logs.access_wanted(modo, 200, ms, lento) for ms in (lento - 1, lento, 10 * lento)] == [
            False, True, True
        ]  # fmt: skip
        assert not logs.access_wanted(modo, 200, 10**6, 0)  # 0: no slow line
    assert not logs.access_wanted("errors", 201, 1, lento, "POST")
    assert not logs.access_wanted("off", 500, 10**6, lento, "POST")


def test_stdout_gets_the_lines_at_log_stdout_level_and_the_file_every_line(tmp_path, capsys):
    cfg = settings.load({"LOG_FILE": str(tmp_path / "{role}.log"), "LOG_STDOUT_LEVEL": "warning"})
    logs.configure(cfg, "web")
    try:
        logging.getLogger("ponte.teste").info("so no arquivo senha=segredo1")
        logging.getLogger("ponte.teste").warning("nos dois")
        for handler in logging.getLogger().handlers:
            handler.flush()
        impresso = capsys.readouterr().out.splitlines()
        arquivo = (tmp_path / "web.log").read_text().splitlines()
    finally:
        logs.configure(settings.load({}), "test")
    assert [json.loads(line)["message"] for line in impresso] == ["nos dois"]
    assert [json.loads(line)["message"] for line in arquivo] == ["so no arquivo senha=***", "nos dois"]
    assert arquivo[1] == impresso[0]  # rendered once, the same line in both


def test_log_stdout_level_defaults_to_log_level_and_is_checked():
    assert settings.load({"LOG_LEVEL": "ERROR"})["LOG_STDOUT_LEVEL"] == "ERROR"
    with pytest.raises(settings.ConfigError):
        settings.load({"LOG_STDOUT_LEVEL": "chatty"})
    with pytest.raises(settings.ConfigError):
        settings.load({"ACCESS_LOG": "sometimes"})


def test_the_console_survives_a_stdout_that_was_swapped_and_closed(monkeypatch):
    """A CLI runner swaps stdout, configures logging inside, and closes its stream: later
    lines go to the process's own stdout, not to a closed stream ("Logging error")."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    cfg = settings.load({}, {"PONTE_ENV": "test"})
    try:
        velho = io.StringIO()
        monkeypatch.setattr(sys, "stdout", velho)
        logging.config.dictConfig(logs.dict_config(cfg, "unit"))
        logging.getLogger("ponte.teste").warning("antes")
        assert json.loads(velho.getvalue())["message"] == "antes"
        velho.close()
        processo, outro, erros = io.StringIO(), io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "__stdout__", processo)
        monkeypatch.setattr(sys, "stdout", outro)  # the next runner's: not the logs' place
        monkeypatch.setattr(sys, "stderr", erros)
        logging.getLogger("ponte.teste").warning("depois da troca")
        assert (erros.getvalue(), outro.getvalue()) == ("", "")
        assert json.loads(processo.getvalue())["message"] == "depois da troca"
    finally:
        root.handlers[:], root.level = saved
