"""django-tasks-db's backend, whose tasks can declare their attempts, waits and time limit.

Machinery the template keeps up to date; your tasks go in your apps' tasks.py, as
queue/tasks.py shows.
"""

from dataclasses import dataclass

from django.conf import settings
from django.tasks import Task
from django.tasks.exceptions import InvalidTask
from django_tasks_db.backend import DatabaseBackend as StockDatabaseBackend


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryingTask(Task):
    """A task that runs up to `attempts` times, waiting longer after each failure.

    Every run counts, however it ends: an error, its time limit, or its worker's death.
    The wait after failed attempt n is `backoff * 2 ** (n - 1)` seconds, at most
    `backoff_cap`. `@task(attempts=5, backoff=2)` waits 2, 4, 8 and 16 seconds. A task
    without `attempts` is not run again after an error, but is after its worker dies,
    up to TASK_DEFAULT_ATTEMPTS runs in all. `time_limit` (seconds) defaults to
    TASK_TIME_LIMIT.
    """

    attempts: int | None = None
    backoff: float = 1.0
    backoff_cap: float = 300.0
    time_limit: float | None = None

    def retry_delay(self, *, attempt):
        """Seconds to wait after failed attempt `attempt`, or None once attempts are spent."""
        if attempt >= (self.attempts or 1):
            return None
        return min(self.backoff * 2 ** (attempt - 1), self.backoff_cap)

    def runs_allowed(self):
        """How many runs a task gets in all, counting those its worker died in."""
        return self.attempts or settings.TASK_DEFAULT_ATTEMPTS

    def time_limit_seconds(self):
        return self.time_limit or settings.TASK_TIME_LIMIT


class DatabaseBackend(StockDatabaseBackend):
    task_class = RetryingTask

    def validate_task(self, task):
        super().validate_task(task)
        attempts = 1 if task.attempts is None else task.attempts
        if attempts < 1 or task.backoff < 0 or task.backoff_cap < 0:
            raise InvalidTask("attempts must be 1 or more, backoff and backoff_cap 0 or more.")
        if task.time_limit is not None and task.time_limit <= 0:
            raise InvalidTask("time_limit must be more than 0 seconds.")
