"""``make run``'s process supervisor: supervisord, configured from the Procfile at start.

A Procfile process that dies is restarted (with supervisord's backoff when it dies again
soon after starting), as systemd and compose do in production; the others keep serving.
Only the launcher stops supervisord, which then stops every program (SIGTERM, 60 s, SIGKILL).
Why supervisord and not circus or honcho: docs/operations.md, *Start the stack on one machine*.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from devstack import procs

# Like the systemd units (deploy/systemd): Restart=always, KillMode=mixed (SIGTERM to the
# main process, which stops its own children; SIGKILL to the whole group only at the end).
# A process that dies within STARTSECS is retried after 1 s, 2 s, ... and left FATAL after
# STARTRETRIES tries (about a minute), as systemd leaves a unit failed after its start limit.
PROGRAM_SETTINGS = {
    "autostart": "true",
    "autorestart": "true",
    "startsecs": "5",
    "startretries": "10",
    "stopsignal": "TERM",
    "stopwaitsecs": "60",
    "stopasgroup": "false",
    "killasgroup": "true",
    "redirect_stderr": "true",
    # supervisord's stdout is a pipe the launcher reads: every line reaches the terminal.
    "stdout_logfile": "/dev/stdout",
    "stdout_logfile_maxbytes": "0",
}


def program_command(cmd: str) -> str:
    """A Procfile line as supervisord runs it: through sh (for ``${VAR:-default}``), which
    ``exec``s the process so that supervisord's signals reach it; ``%`` escaped for the
    config file's interpolation (the worker's ``%h`` is Celery's, not supervisord's)."""
    return ("/bin/sh -c " + shlex.quote(f"exec {cmd}")).replace("%", "%%")


def socket_path(var: Path) -> Path:
    """supervisorctl's socket: in ``var`` unless that path is too long for a Unix socket
    (108 bytes on Linux), as in a deeply nested checkout; then in the temporary folder."""
    sock = var / "supervisor.sock"
    if len(os.fsencode(sock)) < 100:
        return sock
    digest = hashlib.sha256(os.fsencode(var)).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"ponte-supervisor-{digest}.sock"


def config_text(processes: dict[str, str], var: Path, cwd: Path, password: str) -> str:
    """supervisord's configuration: one program per Procfile entry, state under ``var``."""
    sock = socket_path(var)
    lines = [
        "; written by make run from the Procfile at each start; edit the Procfile instead",
        "[supervisord]",
        "nodaemon=true",
        f"logfile={var / 'log' / 'supervisord.log'}",
        f"pidfile={var / 'supervisord.pid'}",
        f"childlogdir={var / 'log'}",
        # Root in a container: say so, or supervisord logs a CRIT line at each start.
        *(["user=root"] if os.geteuid() == 0 else []),
        "[unix_http_server]",
        f"file={sock}",
        "chmod=0700",
        "username=ponte",
        f"password={password}",
        "[supervisorctl]",
        f"serverurl=unix://{sock}",
        "username=ponte",
        f"password={password}",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
    ]
    for name, cmd in processes.items():
        lines += [f"[program:{name}]", f"command={program_command(cmd)}", f"directory={cwd}"]
        lines += [f"{key}={value}" for key, value in PROGRAM_SETTINGS.items()]
    return "\n".join(lines) + "\n"


def write_config(processes: dict[str, str], var: Path, cwd: Path) -> Path:
    """Write ``var/supervisord.conf`` (owner-only: it holds supervisorctl's password)."""
    (var / "log").mkdir(parents=True, exist_ok=True)
    path = var / "supervisord.conf"
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(config_text(processes, var, cwd, secrets.token_urlsafe(18)))
    return path


def run(config: Path, env: dict[str, str], say) -> int:
    """Run supervisord until it exits; SIGINT/SIGTERM to us stop it cleanly.

    Returns 0 after a stop we asked for, otherwise supervisord's own exit status."""
    # Its own session: Ctrl-C reaches the launcher, which asks supervisord to stop the
    # programs in order, instead of every process getting SIGINT at once.
    proc = subprocess.Popen(
        [sys.executable, "-m", "supervisor.supervisord", "-c", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stopping = []

    def stop(signum, _frame):
        if not stopping:
            say(f"{signal.Signals(signum).name}: stopping every process")
            stopping.append(signum)
            proc.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for line in proc.stdout:
            sys.stdout.buffer.write(line)
            sys.stdout.flush()
        code = proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc.poll() is None:  # we failed, not supervisord: never leave it behind
            proc.terminate()
            proc.wait(timeout=90)
    if stopping:
        return 0 if code == 0 else code
    say(f"supervisord exited by itself (status {code})")
    return code or 1


# Procfile entry -> a piece of its main process's command line (after sh exec'd it).
ENTRIES = {
    "web": "gunicorn -c gunicorn.conf.py",
    "worker": "-A tasks worker",
    "bridge": "-m bridge",
    "beat": "-A tasks beat",
    "flower": "-A tasks flower",
}


def main_processes(launcher_pid: int) -> dict[str, int]:
    """Procfile entry -> PID of its main process under a running launcher: the children of
    supervisord (a gunicorn worker or a Celery pool process has the same command line, but
    another parent). For the tests and ``make drill``, which kill them."""
    family = procs.descendants(launcher_pid)
    supervisord = [pid for pid in family if "supervisor.supervisord" in procs.process_info(pid)[1]]
    found = {}
    for pid in family:
        ppid, cmd = procs.process_info(pid)
        for entry, piece in ENTRIES.items():
            if supervisord and ppid == supervisord[0] and piece in cmd:
                found[entry] = pid
    return found
