"""Heartbeats of running workers, and the recovery of tasks whose worker died.

Machinery the template keeps up to date; your tasks go in your apps' tasks.py, as
queue/tasks.py shows.

Every worker writes the database's clock into its row every few seconds, with the
task it is running. A RUNNING task that no live worker claims as its own, and that
started longer ago than TASK_WORKER_DEAD_AFTER, lost its worker: killed, out of
memory, crashed, past its time limit, its machine gone, or the database out of its
reach while saving the result. Its death counts as an attempt: the task goes back to
READY while it has runs left, and ends FAILED after the last. Every time compared is
the database's, so a worker whose clock is wrong never looks dead.
"""

import logging
import os
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db.models.functions import Now
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .connections import close_connections
from .models import Worker
from .outcome import task_fail
from .threads import signals_left_to_the_main_thread

logger = logging.getLogger(__name__)

# Rows of workers silent this long are deleted: their tasks were recovered long ago.
FORGET_AFTER = timedelta(days=1)


class WorkerDied(Exception):
    """The worker running the task died before the task ended."""


def worker_beat(*, worker_id, task_id=None):
    """Say that this worker is alive, and which task it runs (None when idle)."""
    updated = Worker.objects.filter(id=worker_id).update(seen_at=Now(), task_id=task_id)
    if not updated:  # first beat, or the row was forgotten while this process slept
        Worker.objects.create(
            id=worker_id, host=socket.gethostname(), pid=os.getpid(), task_id=task_id
        )


def worker_stopped(*, worker_id):
    Worker.objects.filter(id=worker_id).delete()


def live_workers(*, dead_after):
    """The workers that wrote their heartbeat within dead_after seconds, by the database's clock."""
    return Worker.objects.filter(seen_at__gte=Now() - timedelta(seconds=dead_after))


def tasks_recover(*, dead_after):
    """Put back in the queue every RUNNING task that no live worker is running.

    Returns how many went back; those past their last run end FAILED instead.
    At-least-once: a task may have done part of its work before its worker died, so
    tasks must be safe to run again.
    """
    cutoff = Now() - timedelta(seconds=dead_after)
    running_now = live_workers(dead_after=dead_after).filter(task_id__isnull=False)
    orphans = (
        DBTaskResult.objects.running()
        .filter(started_at__lt=cutoff)
        .exclude(id__in=running_now.values("task_id"))
    )
    recovered = 0
    for orphan in orphans:
        # Only if it is still an orphan: another worker may have recovered it meanwhile.
        still_orphan = orphans.filter(id=orphan.id)
        runs = len(orphan.worker_ids)
        try:
            allowed = runs_allowed(orphan)
        except Exception as error:  # any reason it cannot run is recorded
            task_fail(orphan, error, note="Its worker died, and it cannot be run again.")
            continue
        if runs < allowed:
            recovered += still_orphan.update(status=TaskResultStatus.READY)
            continue
        died = WorkerDied(
            f"Its worker died running it, on run {runs} of {allowed} allowed (killed, out"
            " of memory, crashed or past its time limit): not run again."
        )
        logger.error("Task id=%s failed: %s", orphan.id, died)
        task_fail(orphan, died, only_if=still_orphan)
    Worker.objects.filter(seen_at__lt=Now() - FORGET_AFTER).delete()
    return recovered


def runs_allowed(db_task_result):
    """How many runs this task gets in all, counting those its worker died in."""
    task = db_task_result.task
    if hasattr(task, "runs_allowed"):
        return task.runs_allowed()
    return settings.TASK_DEFAULT_ATTEMPTS  # a task of another backend class


class Heartbeat(threading.Thread):
    """Writes this worker's heartbeat and recovers dead workers' tasks, in the background.

    A thread, so that the heartbeat goes on while a long task runs; it has its own
    database connection.
    """

    def __init__(self, *, worker_id, dead_after):
        super().__init__(name="heartbeat", daemon=True)
        self.worker_id = worker_id
        self.dead_after = dead_after
        self.task_id = None  # the task the worker runs; written with every beat
        self.stopping = threading.Event()

    def start(self):
        with signals_left_to_the_main_thread():
            super().start()

    def run(self):
        while not self.stopping.wait(self.dead_after / 6):
            try:
                worker_beat(worker_id=self.worker_id, task_id=self.task_id)
                if recovered := tasks_recover(dead_after=self.dead_after):
                    logger.warning("Put %d task(s) of dead workers back in the queue", recovered)
            except Exception:  # the heartbeat ends only with the process
                logger.warning("Heartbeat failed; trying again", exc_info=True)
                close_connections()
        close_connections()

    def stop(self):
        self.stopping.set()
        if self.is_alive():
            self.join(timeout=10)
