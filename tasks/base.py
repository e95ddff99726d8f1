"""``PonteTask``: the one retry policy of every task that touches MongoDB or Redis.

Celery's own ``autoretry_for`` retries a transient failure with capped exponential backoff
and full jitter: retry n waits a whole number of seconds drawn uniformly from
``[0, min(cap, 2**n)]``. The cap and the retry limit are settings named by the task. A
task whose retries run out fails, and ``give_up`` says what that means for it (the sync
tasks dead-letter their events).
"""

from __future__ import annotations

import logging

from celery import Task

from adapters import store_errors
from domain.pedidos import CheckoutEmAndamento
from tasks import resources

logger = logging.getLogger(__name__)

# CheckoutEmAndamento: another attempt of the same checkout holds it (a redelivery racing
# the first delivery, or a crashed attempt whose hold has not run out yet).
TRANSIENT = (*store_errors.TRANSIENT, CheckoutEmAndamento)


class PonteTask(Task):
    """Base of the retrying tasks: ``@app.task(base=PonteTask, ...)``.

    A task may set, as options of ``@app.task``: ``autoretry_for`` (what is transient for
    it), ``max_retries_setting`` (no setting: retry until it works, as Celery does with
    ``max_retries=None``), ``retry_backoff_max_setting`` and ``subject``.
    """

    autoretry_for = TRANSIENT
    retry_backoff = True  # a factor of 1 s: the waits double from 1 s up to the cap
    retry_jitter = True  # a burst that failed together does not come back together
    max_retries_setting: str | None = None
    retry_backoff_max_setting = "SYNC_RETRY_MAX_S"
    # What the retry log line calls the work: formatted with the task's arguments.
    subject = "{name}"

    @property
    def max_retries(self) -> int | None:
        # A property, not Celery's class attribute: Task.retry reads it on every retry, so
        # the limit is the worker's setting, not a value frozen at import.
        return resources.cfg()[self.max_retries_setting] if self.max_retries_setting else None

    @property
    def retry_backoff_max(self) -> int:
        # Read once, when Celery builds the task and wraps its ``run``.
        return resources.cfg()[self.retry_backoff_max_setting]

    def describe(self, args: tuple, kwargs: dict) -> str:
        return self.subject.format(*args, name=self.name, **kwargs)

    def on_retry(self, exc, task_id, args, kwargs, einfo) -> None:
        # einfo holds the Retry that Task.retry raised (billiard wraps it): its countdown.
        retry = getattr(einfo.exception, "exc", einfo.exception)
        wait_s = getattr(retry, "when", None)
        logger.warning("%s: falha transitória (%s); nova tentativa em %ss", self.describe(args, kwargs), exc, wait_s)

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # A transient error fails a task only once Task.retry refused to retry it again.
        if isinstance(exc, self.autoretry_for):
            self.give_up(exc, args, kwargs)

    def give_up(self, exc: Exception, args: tuple, kwargs: dict) -> None:
        """What a transient failure that outlasted the retries leaves behind: nothing here."""
