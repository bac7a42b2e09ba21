"""A task past its time limit is stopped, counts as a failed attempt, and the worker goes on."""

import time

from django.tasks import TaskResultStatus

from {{ cookiecutter.project_slug }}.queue.heartbeat import WorkerDied
from {{ cookiecutter.project_slug }}.queue.time_limit import TimeLimitExceeded

from ..support import wait_for
from .tasks import add, hang_out_of_reach, sleep_past_limit, sleep_then_return


def finished(result):
    result.refresh()
    return result.is_finished


def test_a_task_past_its_time_limit_is_stopped_and_retried(start_worker, tmp_path):
    runs = tmp_path / "runs.txt"
    worker = start_worker()
    result = sleep_past_limit.enqueue(str(runs))  # time_limit=0.5, attempts=2
    start = time.monotonic()
    wait_for(lambda: finished(result), what="both attempts")
    # Two runs of 0.5 s and a 0.1 s pause: far from the 30 s the task would sleep, with room
    # for a machine loaded by other test runs (5.5 s has been seen there).
    assert time.monotonic() - start < 15
    assert runs.read_text() == "ran\nran\n"
    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class is TimeLimitExceeded
    after = add.enqueue(1, 1)
    wait_for(lambda: finished(after), what="the next task")
    assert worker.process.poll() is None


def test_the_project_wide_time_limit_stops_a_task_without_its_own(start_worker):
    start_worker(env={"TASK_TIME_LIMIT": "1"})
    result = sleep_then_return.enqueue(30)
    wait_for(lambda: finished(result), timeout=10, what="the time limit")
    assert result.status == TaskResultStatus.FAILED
    assert "time limit of 1 s" in result.errors[0].traceback


def test_a_task_hung_out_of_the_signals_reach_ends_its_worker(start_worker):
    """The last resort: the process ends itself a tenth past the limit (at least 1 s)."""
    doomed = start_worker(dead_after=1)
    result = hang_out_of_reach.enqueue()  # time_limit=0.5: ended at 1.5 s
    wait_for(lambda: result.refresh() or result.status != TaskResultStatus.READY, what="a start")
    start = time.monotonic()
    doomed.process.wait(timeout=20)
    assert time.monotonic() - start < 10  # not the 30 s the task would hang
    assert "Timeout" in doomed.output()  # faulthandler's dump of every thread
    start_worker(dead_after=1)
    wait_for(lambda: finished(result), what="the recovery")
    assert result.status == TaskResultStatus.FAILED  # attempts=1: its one run is spent
    assert result.errors[0].exception_class is WorkerDied
