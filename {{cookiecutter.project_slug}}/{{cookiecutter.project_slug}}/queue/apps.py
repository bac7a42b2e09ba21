"""App configuration for the task queue; it also reports the queue to /healthz."""

from django.apps import AppConfig


class QueueConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.queue"
    label = "queue"

    def health(self):
        """What /healthz shows of the queue: how many tasks wait, and the oldest's age."""
        from .status import queues_ready  # models load only once apps are ready

        ready = queues_ready()
        return {
            "tasks_ready": sum(queue.ready for queue in ready),
            "tasks_oldest_seconds": max((queue.oldest_seconds for queue in ready), default=0),
        }
