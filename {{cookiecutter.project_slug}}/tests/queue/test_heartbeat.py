"""A dead worker's task runs again within its attempts; a live worker's never runs twice."""

import re
import time

from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from {{ cookiecutter.project_slug }}.queue.heartbeat import WorkerDied

from ..support import wait_for
from .tasks import append_line_slowly, exit_process, heartbeat_break


def tasks_put_back(logs):
    """How many tasks the workers' logs say were taken from dead workers; the clock's
    recover_tasks job, when its time comes in a test, logs its run even with none."""
    return sum(map(int, re.findall(r"Put (\d+) task\(s\) of dead workers back", logs)))


def finished(result):
    result.refresh()
    return result.is_finished


def test_a_task_that_kills_every_worker_fails_after_the_default_attempts(start_worker, settings):
    """Each death counts: past TASK_DEFAULT_ATTEMPTS runs, FAILED, and no worker dies more."""
    result = exit_process.enqueue()
    deaths = 0
    while deaths <= settings.TASK_DEFAULT_ATTEMPTS:
        worker = start_worker(dead_after=1)
        wait_for(
            lambda worker=worker: worker.process.poll() is not None or finished(result),
            what="the worker to die or the task to end",
        )
        if worker.process.poll() is None:
            break
        deaths += 1
    assert deaths == settings.TASK_DEFAULT_ATTEMPTS
    assert result.status == TaskResultStatus.FAILED
    assert len(result.worker_ids) == settings.TASK_DEFAULT_ATTEMPTS
    assert result.errors[0].exception_class is WorkerDied
    assert "Its worker died running it, on run 3 of 3" in result.errors[0].traceback
    assert worker.process.poll() is None, "the worker that failed the task lives on"


def test_a_worker_whose_clock_is_a_minute_behind_keeps_its_tasks(start_worker, tmp_path):
    """Life and death go by the database's clock: a worker's own clock is never compared."""
    log = tmp_path / "runs.txt"
    log.touch()
    workers = [start_worker(dead_after=2, skew=60), start_worker(dead_after=2)]
    results = [append_line_slowly.enqueue([str(log), n]) for n in range(12)]
    wait_for(
        lambda: not DBTaskResult.objects.exclude(status=TaskResultStatus.SUCCESSFUL).exists(),
        what="12 tasks",
    )
    assert sorted(map(int, log.read_text().split())) == list(range(12))
    for result in results:
        result.refresh()
        assert len(result.worker_ids) == 1, "a live worker's task was taken from it"
    assert tasks_put_back("".join(worker.output() for worker in workers)) == 0


def test_the_heartbeat_survives_an_error_no_database_raises(start_worker, tmp_path):
    runs = tmp_path / "runs.txt"
    # dead_after long enough that a loaded machine's stall is not taken for a death
    workers = [start_worker(dead_after=3), start_worker(dead_after=3)]
    result = heartbeat_break.enqueue(str(runs), 6)  # twice dead_after
    wait_for(lambda: result.refresh() or result.is_finished, what="the task")
    wait_for(lambda: runs.exists(), what="the end of its run")
    time.sleep(3)  # dead_after: time enough for a recovered copy to start and be seen
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert len(result.worker_ids) == 1
    assert runs.read_text() == "ran\n"
    logs = "".join(worker.output() for worker in workers)
    assert "ZeroDivisionError: not a database error" in logs
    assert tasks_put_back(logs) == 0
