"""`manage.py worker`: run queued tasks, on every queue{{ ", and keep the clock" if cookiecutter.scheduler == "clock" else "" }}, until SIGTERM."""

from django.conf import settings
from django.core.management.base import CommandError
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from ...worker import QueueWorker


class Command(DbWorkerCommand):
    help = (
{%- if cookiecutter.scheduler == "clock" %}
        "Run queued tasks, and fire the scheduled jobs at their times, until stopped. "
        "SIGTERM lets the running task and jobs finish, then exits; "
{%- else %}
        "Run queued tasks until stopped. SIGTERM lets the running task finish, then exits; "
{%- endif %}
        "a second SIGTERM fails it. Run only this worker, not db_worker: tasks of a worker "
        "without a heartbeat are taken for a dead worker's and run again."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        # Every queue, and no autoreload: a reload kills the running task halfway.
        # The interval is a fallback look: the database wakes an idle worker, and a
        # timer the next deferred task. Each look costs an idle worker CPU.
        parser.set_defaults(queue_name="*", reload=False, interval=30)

    def handle(self, *, verbosity, queue_name, exclude_queues, reload, **options):
        self.configure_logging(verbosity)
        if reload:
            raise CommandError("--reload would kill the running task halfway; restart instead.")
        worker = QueueWorker(
            dead_after=settings.TASK_WORKER_DEAD_AFTER,
            queue_names=queue_name.split(","),
            excluded_queue_names=exclude_queues.split(",") if exclude_queues else [],
            **{name: options[name] for name in WORKER_OPTIONS},
        )
        worker.configure_signals()
        worker.run()


# The stock command's options that the worker takes as they are.
WORKER_OPTIONS = ("interval", "batch", "backend_name", "startup_delay", "max_tasks", "worker_id")
