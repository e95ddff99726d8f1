"""``python deploy/beat_healthcheck.py [SCHEDULE] [MAX_AGE_S]``: exit 0 if beat wrote lately.

Celery beat saves its schedule (a ``shelve``) every few minutes while it sends tasks.
On Python 3.13 ``shelve`` uses ``dbm.sqlite3`` in WAL mode: the writes go to
``celerybeat-schedule-wal`` and the main file only changes at a checkpoint, which can
be a day away. Other dbm back ends write ``.db``, ``.dat``/``.dir`` files instead. So
the freshest of ``SCHEDULE*`` is what tells whether beat is alive.

SCHEDULE defaults to ``${PONTE_VAR_DIR:-var}/celerybeat-schedule`` (the Procfile's
``--schedule``), MAX_AGE_S to 600. Standard library only: it runs every minute.
"""

from __future__ import annotations

import glob
import os
import sys
import time

DEFAULT_MAX_AGE_S = 600.0


def default_schedule() -> str:
    return os.path.join(os.environ.get("PONTE_VAR_DIR") or "var", "celerybeat-schedule")


def newest_mtime(schedule: str) -> float | None:
    """The latest modification time among ``schedule`` and its companions, or None."""
    newest = None
    for path in glob.glob(glob.escape(schedule) + "*"):
        try:
            mtime = os.stat(path).st_mtime
        except OSError:  # a WAL file removed at checkpoint between glob and stat
            continue
        newest = mtime if newest is None else max(newest, mtime)
    return newest


def check(schedule: str, max_age_s: float = DEFAULT_MAX_AGE_S, now: float | None = None) -> str | None:
    """None when beat is healthy, otherwise why not."""
    mtime = newest_mtime(schedule)
    if mtime is None:
        return f"beat unhealthy: no {schedule}* file"
    age = (time.time() if now is None else now) - mtime
    if age >= max_age_s:
        return f"beat unhealthy: {schedule}* last written {age:.0f} s ago (limit {max_age_s:.0f} s)"
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    schedule = args[0] if args else default_schedule()
    max_age_s = float(args[1]) if len(args) > 1 else DEFAULT_MAX_AGE_S
    problem = check(schedule, max_age_s)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
