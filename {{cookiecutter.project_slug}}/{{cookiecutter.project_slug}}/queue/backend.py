"""django-tasks-db's backend, whose tasks can declare how often to retry and how to wait."""

from dataclasses import dataclass

from django.tasks import Task
from django.tasks.exceptions import InvalidTask
from django_tasks_db.backend import DatabaseBackend as StockDatabaseBackend


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryingTask(Task):
    """A task that runs up to `attempts` times, waiting longer after each failure.

    The wait after failed attempt n is `backoff * 2 ** (n - 1)` seconds, at most
    `backoff_cap`. `@task(attempts=5, backoff=2)` waits 2, 4, 8 and 16 seconds.
    """

    attempts: int = 1
    backoff: float = 1.0
    backoff_cap: float = 300.0

    def retry_delay(self, *, attempt):
        """Seconds to wait before the next attempt, or None once attempts are spent."""
        if attempt >= self.attempts:
            return None
        return min(self.backoff * 2 ** (attempt - 1), self.backoff_cap)


class DatabaseBackend(StockDatabaseBackend):
    task_class = RetryingTask

    def validate_task(self, task):
        super().validate_task(task)
        if task.attempts < 1 or task.backoff < 0 or task.backoff_cap < 0:
            raise InvalidTask("attempts must be 1 or more, backoff and backoff_cap 0 or more.")
