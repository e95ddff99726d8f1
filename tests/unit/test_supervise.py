"""``devstack.supervise``: the supervisord configuration ``make run`` writes from the Procfile,
read back with supervisord's own parser (what it will run, restart and how it stops it)."""

import shlex
import signal

from honcho.environ import parse_procfile
from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions

from devstack import supervise
from tests.helpers import ROOT

PROCFILE = parse_procfile((ROOT / "Procfile").read_text()).processes


def _programs(processes, tmp_path):
    path = supervise.write_config(processes, tmp_path, ROOT)
    options = ServerOptions()
    options.realize(args=["-c", str(path)])
    return path, {pc.name: pc for group in options.process_group_configs for pc in group.process_configs}


def test_every_procfile_entry_is_a_program_running_its_line_through_sh_exec(tmp_path):
    _, programs = _programs(PROCFILE, tmp_path)
    assert set(programs) == set(PROCFILE)
    for name, line in PROCFILE.items():
        # sh expands ${VAR:-default}; exec makes the process itself receive the signals.
        assert shlex.split(programs[name].command) == ["/bin/sh", "-c", f"exec {line}"], name
        assert programs[name].directory == str(ROOT)
    assert "@%h" in programs["worker"].command  # Celery's %h, not a supervisord interpolation


def test_programs_restart_with_backoff_and_stop_like_the_systemd_units(tmp_path):
    _, programs = _programs(PROCFILE, tmp_path)
    for pc in programs.values():
        assert pc.autorestart is RestartUnconditionally  # Restart=always
        assert (pc.startsecs, pc.startretries) == (5, 10)  # then 1 s, 2 s, ... between tries
        assert (pc.stopsignal, pc.stopwaitsecs) == (signal.SIGTERM, 60)
        assert (pc.stopasgroup, pc.killasgroup) == (False, True)  # KillMode=mixed
        assert pc.redirect_stderr and pc.stdout_logfile == "/dev/stdout"


def test_quotes_and_percent_signs_reach_the_process_unchanged(tmp_path):
    line = """python -c 'print("100% ok")' --name a%hb"""
    _, programs = _programs({"odd": line}, tmp_path)
    assert shlex.split(programs["odd"].command) == ["/bin/sh", "-c", f"exec {line}"]


def test_the_config_is_owner_only_and_rewritten_at_each_start(tmp_path):
    path, _ = _programs(PROCFILE, tmp_path)
    first = path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600  # it holds supervisorctl's password
    again, _ = _programs(PROCFILE, tmp_path)
    assert again == path and again.read_text() != first  # a new password each time
    assert (tmp_path / "log").is_dir()


def test_the_socket_leaves_a_folder_too_deep_for_a_unix_socket_path(tmp_path):
    assert supervise.socket_path(tmp_path) == tmp_path / "supervisor.sock"
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    deep.mkdir(parents=True)
    sock = supervise.socket_path(deep)
    assert len(str(sock)) < 100 and sock != supervise.socket_path(tmp_path / "other")
    _, programs = _programs(PROCFILE, deep)  # supervisord accepts it
    assert programs
