"""django-tasks-db's worker loop, woken by the database, with heartbeats and retries.

The stock loop polls once a second, exits when the database goes away, leaves a
killed worker's task RUNNING for ever and never retries. This one sleeps until the
database says a task may be ready (wake.py), waits out a database restart, beats a
heartbeat that lets live workers recover a dead one's task (heartbeat.py), stops a
task past its time limit (time_limit.py), stores what cannot be stored as a clear
error (outcome.py), and queues a failed task again while it has attempts left
(backend.py). It also runs what an installed app keeps beside it: the start() of
the app's beside_worker module, stopped, after the running task, when the worker stops.
"""

import logging
import time
from functools import partial
from importlib import import_module

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, Error, OperationalError, close_old_connections, connections
from django.db.models import Q
from django.db.models.functions import Now
from django.tasks import TaskContext, TaskResultStatus
from django.tasks.signals import task_finished, task_started
from django.utils import timezone
from django.utils.module_loading import module_has_submodule
from django_tasks_db.management.commands.db_worker import Worker as StockWorker
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from .claim import claim_dialect, task_claim
from .connections import close_connections
from .heartbeat import Heartbeat, worker_beat, worker_stopped
from .outcome import task_fail, task_retry, task_succeed
from .time_limit import TimeLimitExceeded, time_limit, time_limit_of
from .wake import wake_for

logger = logging.getLogger(__name__)

# Failed results name their exception by its import path, and older ones name
# queue.worker.TimeLimitExceeded: the import above keeps that path working.

# Longest pause between attempts to reach a database that is down.
DATABASE_RETRY_CAP_SECONDS = 10


def start_beside_worker(stops):
    """Start what each installed app keeps beside the worker (its beside_worker module's
    start()), adding the function that stops it to stops as each one starts."""
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "beside_worker"):
            stops.append(import_module(f"{config.name}.beside_worker").start())


class QueueWorker(StockWorker):
    """The stock worker with another loop; options and signal handling are the stock ones.

    What it uses of the stock worker beyond its options: `running` (cleared by its SIGTERM
    handler), `running_task` (set while a task runs, so that the handler waits for it)
    and the counter of tasks run that its `max_tasks` option reads (`tasks_run` below).
    """

    @property
    def tasks_run(self):
        return self._run_tasks

    @tasks_run.setter
    def tasks_run(self, count):
        self._run_tasks = count

    def __init__(self, *, dead_after, **options):
        super().__init__(**options)
        self.heartbeat = Heartbeat(worker_id=self.worker_id, dead_after=dead_after)
        self.wake = wake_for(connections[DEFAULT_DB_ALIAS])
        self.database_failures = 0

    def run(self):
        logger.info("Starting worker %s on queues %s", self.worker_id, ",".join(self.queue_names))
        stops = []
        try:  # a SIGTERM may come at any point, even before the first beat
            self.until_database_answers(lambda: worker_beat(worker_id=self.worker_id))
            self.heartbeat.start()
            start_beside_worker(stops)
            self.loop()
        finally:
            for stop in reversed(stops):  # what runs beside finishes, as a task does
                stop()
            self.heartbeat.stop()
            self.wake.close()
            self.sign_off()

    def loop(self):
        while self.running:
            found = self.until_database_answers(self.claim_and_run)
            if self.max_tasks is not None and self.tasks_run >= self.max_tasks:
                logger.info("Ran %d tasks; exiting", self.tasks_run)
                return
            if found:
                continue
            if self.batch:
                logger.info("No more tasks; exiting")
                return
            if self.running:
                self.until_database_answers(self.wait)

    def until_database_answers(self, action):
        """Run action, retrying with a growing pause while the database is unreachable."""
        while True:
            try:
                outcome = action()
            except Error as error:
                self.database_failures += 1
                pause = min(2 ** (self.database_failures - 1), DATABASE_RETRY_CAP_SECONDS)
                logger.warning("Database error (%s); trying again in %d s", error, pause)
                close_connections()
                self.wake.close()
                time.sleep(pause)
                continue
            self.database_failures = 0
            return outcome

    def claim_and_run(self):
        """Claim the most urgent ready task and run it; False when there was none.

        Counted as running a task from the claim on: the stock SIGTERM handler exits at
        once when no task runs, which between the claim and the run would leave the
        claimed task RUNNING with nobody on it. So a SIGTERM there only stops the loop
        once the task is done.
        """
        self.running_task = True
        try:
            if claim_dialect():
                claimed = task_claim(
                    worker_id=self.worker_id,
                    backend_name=self.backend_name,
                    queue_names=None if self.process_all_queues else self.queue_names,
                    excluded_queue_names=self.excluded_queue_names,
                )
            else:
                claimed = self.claim_in_a_transaction()
            if claimed is None:
                return False
            self.run_task(claimed)
            return True
        finally:
            self.running_task = False

    def claim_in_a_transaction(self):
        """django-tasks-db's own claim, for databases without a one-statement one."""
        due = Q(run_after=get_date_max()) | Q(run_after__lte=Now())
        tasks = DBTaskResult.objects.filter(due, status=TaskResultStatus.READY)
        tasks = tasks.filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            try:
                claimed = tasks.get_locked()
                if claimed is not None:
                    # What django-tasks-db's claim() saves, in one UPDATE rather than two:
                    # started_at by the database's clock, as every worker's recovery
                    # compares with.
                    claimed.status = TaskResultStatus.RUNNING
                    claimed.started_at = timezone.now()
                    claimed.worker_ids = [*claimed.worker_ids, self.worker_id]
                    tasks.model.objects.filter(id=claimed.id).update(
                        status=claimed.status, started_at=Now(), worker_ids=claimed.worker_ids
                    )
            except OperationalError as error:
                if not is_locked_database_exception(error):
                    raise
                logger.debug("Database locked by another claim; waiting for it")
                return None
        return claimed

    def wait(self):
        """Sleep until a task may be ready: a commit, the next deferred task, or the interval."""
        next_due = (
            DBTaskResult.objects.filter(
                status=TaskResultStatus.READY, run_after__gt=Now(), run_after__lt=get_date_max()
            )
            .annotate(now=Now())  # the database's clock, as the claim uses
            .order_by("run_after")
            .values_list("run_after", "now")
            .first()
        )
        timeout = self.interval
        if next_due is not None:
            run_after, now = next_due
            timeout = min(timeout, (run_after - now).total_seconds())
        self.wake.wait(max(timeout, 0))
        # As Django does between requests: drop connections past CONN_MAX_AGE or
        # broken, once per wake rather than once per task.
        close_old_connections()

    def run_task(self, db_task_result):
        self.heartbeat.task_id = db_task_result.id
        try:
            self.attempt(db_task_result)
        finally:
            self.heartbeat.task_id = None
            self.tasks_run += 1

    def attempt(self, db_task_result):
        """Run the task once and store how it ended; on failure, queue it again if it may.

        A task that cannot be run (its queue, module, function or arguments gone) ends
        FAILED saying why, and the worker goes on with the next.
        """
        try:
            task = db_task_result.task
            result = db_task_result.task_result
            args = result.args
            if task.takes_context:
                args = [TaskContext(task_result=result), *args]
            limit = time_limit_of(task)
            task_started.send(sender=type(task.get_backend()), task_result=result)
        except Exception as error:  # any reason it cannot run is recorded
            logger.error("Task id=%s cannot be run: %r", db_task_result.id, error)
            self.store(partial(task_fail, db_task_result, error, note="It cannot be run."))
            return
        try:
            with time_limit(limit):
                value = task.call(*args, **result.kwargs)
        except (Exception, TimeLimitExceeded) as error:
            self.failed_attempt(db_task_result, task, error)
            return
        except BaseException as error:  # a second SIGTERM or Ctrl-C ends the task
            self.store(partial(task_fail, db_task_result, error))
            self.announce_finished(db_task_result)
            return
        # Returned: from here on the task is never called again, whatever the storing meets.
        self.store(partial(task_succeed, db_task_result, value))
        self.announce_finished(db_task_result)

    def failed_attempt(self, db_task_result, task, error):
        delay = task.retry_delay(attempt=len(db_task_result.worker_ids))
        if delay is None:
            self.store(partial(task_fail, db_task_result, error))
            self.announce_finished(db_task_result)  # here, so that the log shows the traceback
            return
        self.store(partial(task_retry, db_task_result, error, delay=delay))
        logger.warning(
            "Task id=%s failed (%s); attempt %d in %.1f s",
            db_task_result.id,
            type(error).__name__,
            len(db_task_result.worker_ids) + 1,
            delay,
        )

    def store(self, save):
        """Store a task's outcome, waiting for a database that is out of reach."""
        self.until_database_answers(save)

    def announce_finished(self, db_task_result):
        """Tell task_finished receivers (Django logs the outcome) that the task is done."""
        try:
            task_result = db_task_result.task_result
            task_finished.send(sender=type(task_result.task.get_backend()), task_result=task_result)
        except Exception:
            logger.exception("Task id=%s finished; telling its receivers failed", db_task_result.id)

    def sign_off(self):
        """Remove this worker's heartbeat row, and log that it stopped."""
        try:
            worker_stopped(worker_id=self.worker_id)
        except Error:
            logger.warning("Could not remove this worker's heartbeat row", exc_info=True)
        logger.info("Worker %s stopped", self.worker_id)
