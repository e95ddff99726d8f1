"""glibc malloc settings that keep long-lived worker processes small.

argon2id hashes with 19 MiB of memory per call. glibc raises its mmap threshold after
the first such block is freed, so later ones come from the heap and stay there, one
heap arena per thread: a gunicorn worker with 4 threads grew to ~140 MB RSS after a few
log-ins. A fixed mmap threshold (big blocks always mmapped, so returned on free) and
two arenas per process keep it flat. Called once per process, after fork, before the
process starts threads; a no-op where glibc is absent.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

logger = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 1024 * 1024
ARENAS = 2


def tune() -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1 and mallopt(M_ARENA_MAX, ARENAS) == 1
    if not ok:
        logger.debug("mallopt refused the settings")
    return ok
