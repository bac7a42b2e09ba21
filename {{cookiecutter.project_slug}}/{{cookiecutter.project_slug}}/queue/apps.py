"""App configuration for the task queue; it also reports the queue to /healthz."""

from django.apps import AppConfig


class QueueConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.queue"
    label = "queue"
    # Tables whose writes are the app's bookkeeping, not content that pages show:
    # tasks, results and worker heartbeats. What a task writes elsewhere is content.
    bookkeeping = ("django_tasks_database", "queue")

    def health(self):
        """What /healthz shows of the queue: how many tasks wait, and the oldest's age."""
        from .status import backlog  # models load only once apps are ready

        ready, oldest_seconds = backlog()
        return {"tasks_ready": ready, "tasks_oldest_seconds": oldest_seconds}
