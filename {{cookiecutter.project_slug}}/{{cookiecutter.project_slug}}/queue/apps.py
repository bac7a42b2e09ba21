"""App configuration for the task queue; it also reports the queue to /healthz."""

import os
import socket
import time

from django.apps import AppConfig
from django.conf import settings


class QueueConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.queue"
    label = "queue"
    # Tables whose writes are the app's bookkeeping, not content that pages show:
    # tasks, results and worker heartbeats. What a task writes elsewhere is content.
    bookkeeping = ("django_tasks_database", "queue")

    def health(self):
        """What /healthz shows of the queue: the backlog, and whether a worker is alive.

        A dead worker shows, but only a worker of this process's own `manage.py serve`
        tree makes /healthz answer 503: elsewhere the worker runs apart from the web, and
        taking the web out of a platform's routing would not bring it back. In the tree
        (SERVE_PARTS names the worker) it is this machine's worker that counts, once the
        tree has been up for TASK_WORKER_DEAD_AFTER seconds, its time for a first beat.
        """
        from ..core.views import Unhealthy
        from .status import backlog, workers_alive  # models load only once apps are ready

        ready, oldest_seconds = backlog()
        alive, here = workers_alive(host=socket.gethostname())
        in_tree = "worker" in os.environ.get("SERVE_PARTS", "").split(",")
        up = here if in_tree else alive
        figures = {
            "tasks_ready": ready,
            "tasks_oldest_seconds": oldest_seconds,
            "workers_alive": alive,
            "worker": "up" if up else "down",
        }
        if in_tree and not up:
            tree_age = time.time() - float(os.environ.get("SERVE_STARTED_AT", 0))
            if tree_age > settings.TASK_WORKER_DEAD_AFTER:
                raise Unhealthy(figures)
        return figures
