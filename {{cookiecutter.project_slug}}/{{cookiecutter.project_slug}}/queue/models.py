"""The workers that are running, known by the heartbeat each one keeps writing.

Machinery the template keeps up to date; your tasks go in your apps' tasks.py, as
queue/tasks.py shows.
"""

from django.db import models
from django.db.models.functions import Now


class Worker(models.Model):
    """One `manage.py worker` process; its row goes when it stops cleanly."""

    id = models.CharField(primary_key=True, max_length=64)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    # The task it is running, so that a live worker's task is never taken from it.
    task_id = models.UUIDField(null=True, blank=True)
    # Database time, so that workers on machines with different clocks agree.
    started_at = models.DateTimeField(db_default=Now())
    seen_at = models.DateTimeField(db_default=Now())

    def __str__(self):
        return f"{self.id} ({self.host}, pid {self.pid})"
