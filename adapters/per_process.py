"""Lazily built, fork-aware singletons: one client per process, made after fork.

PyMongo and redis-py connection pools must not cross a ``fork()`` (gunicorn and the
Celery prefork pool both fork). ``PerProcess`` builds its object on first use and
builds a fresh one when it notices it now runs in a different process.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class PerProcess[T]:
    def __init__(self, factory: Callable[[], T], closer: Callable[[T], None] | None = None):
        self._factory = factory
        self._closer = closer
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._obj: T | None = None

    def get(self) -> T:
        pid = os.getpid()
        if self._pid == pid and self._obj is not None:
            return self._obj
        with self._lock:
            if self._pid != pid or self._obj is None:
                # An object inherited from the parent is abandoned, not closed: closing
                # it here could tear down sockets the parent still uses.
                self._obj = self._factory()
                self._pid = pid
            return self._obj

    def close(self) -> None:
        with self._lock:
            if self._obj is not None and self._pid == os.getpid() and self._closer:
                try:
                    self._closer(self._obj)
                except Exception:  # closing is best effort at shutdown
                    logger.warning("error closing %r", self._obj, exc_info=True)
            self._obj = None
            self._pid = None
