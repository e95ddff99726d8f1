"""Where a process group keeps its Prometheus multiprocess files (see ``adapters.metrics``).

Kept apart from ``adapters.metrics`` because it should run *before* prometheus-client is
imported: the library chooses in-memory or mmap storage at import time (when it was
imported already, the choice is made again).
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import socket
import sys

logger = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_multiprocess(root: str, role: str) -> str:
    """Point prometheus-client at a fresh directory for this process group."""
    host = socket.gethostname()
    os.makedirs(root, exist_ok=True)
    for stale in glob.glob(os.path.join(root, f"*-{host}-*")):
        try:
            pid = int(stale.rsplit("-", 1)[1])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            # A dead group's counters would otherwise be summed forever.
            shutil.rmtree(stale, ignore_errors=True)
    path = os.path.join(root, f"{role}-{host}-{os.getpid()}")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.environ[ENV] = path
    values = sys.modules.get("prometheus_client.values")
    if values is not None:
        # Already imported (Celery's CLI loads Flower's command plugin, which imports
        # it): make it choose its storage again, now that the directory is known.
        values.ValueClass = values.get_value_class()
    return path
