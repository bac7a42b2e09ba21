"""Heartbeats of running workers, and the recovery of tasks whose worker died.

Every worker writes the database's clock into its row every few seconds, with the
task it is running. A RUNNING task that no live worker claims as its own, and that
started longer ago than TASK_WORKER_DEAD_AFTER, goes back to READY: its worker was
killed, lost its machine, or lost the database while saving the result.
"""

import os
import socket
from datetime import timedelta

from django.db.models.functions import Now
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .models import Worker

# Rows of workers silent this long are deleted: their tasks were recovered long ago.
FORGET_AFTER = timedelta(days=1)


def worker_beat(*, worker_id, task_id=None):
    """Say that this worker is alive, and which task it runs (None when idle)."""
    updated = Worker.objects.filter(id=worker_id).update(seen_at=Now(), task_id=task_id)
    if not updated:  # first beat, or the row was forgotten while this process slept
        Worker.objects.create(
            id=worker_id, host=socket.gethostname(), pid=os.getpid(), task_id=task_id
        )


def worker_stopped(*, worker_id):
    Worker.objects.filter(id=worker_id).delete()


def tasks_recover(*, dead_after):
    """Put back in the queue every RUNNING task that no live worker is running.

    Returns how many went back. At-least-once: a task may have done part of its work
    before its worker died, so tasks must be safe to run again.
    """
    cutoff = Now() - timedelta(seconds=dead_after)
    running_now = Worker.objects.filter(seen_at__gte=cutoff, task_id__isnull=False)
    orphans = (
        DBTaskResult.objects.running()
        .filter(started_at__lt=cutoff)
        .exclude(id__in=running_now.values("task_id"))
    )
    recovered = orphans.update(status=TaskResultStatus.READY)
    Worker.objects.filter(seen_at__lt=Now() - FORGET_AFTER).delete()
    return recovered
