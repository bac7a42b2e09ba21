"""A task that cannot run, or whose outcome cannot be stored, ends FAILED saying why, once."""

import time

import pytest
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from {{ cookiecutter.project_slug }}.queue.outcome import ResultNotStored

from ..support import wait_for
from .tasks import add, fail_with_nul, return_datetime, return_nul


def finished(result):
    result.refresh()
    return result.is_finished


def unrunnable(**fields):
    """A READY row as an older release of the code could have left it."""
    row = {"task_path": add.module_path, "args_kwargs": {"args": [1, 2], "kwargs": {}}}
    row |= {"backend_name": "default", "queue_name": "default", **fields}
    return DBTaskResult.objects.create(**row)


def test_tasks_that_cannot_run_fail_with_the_reason_and_the_worker_goes_on(start_worker):
    gone_queue = unrunnable(queue_name="gone")
    gone_function = unrunnable(task_path="tests.queue.tasks.no_such_task")
    gone_module = unrunnable(task_path="tests.queue.no_such_module.task")
    wrong_arguments = unrunnable(args_kwargs={"args": [1, 2, 3], "kwargs": {}})
    worker = start_worker()
    after = add.enqueue(2, 2)
    wait_for(lambda: finished(after), what="the task queued after them")
    assert after.return_value == 4
    reasons = {
        gone_queue: "gone",
        gone_function: "no_such_task",
        gone_module: "no_such_module",
        wrong_arguments: "positional argument",
    }
    for row, reason in reasons.items():
        row.refresh_from_db()
        assert row.status == TaskResultStatus.FAILED, row.task_path
        assert reason in row.traceback
        assert len(row.worker_ids) == 1
    assert worker.process.poll() is None, worker.output()


@pytest.mark.parametrize(
    ("task", "runs", "error", "message"),
    [
        (return_datetime, 1, ResultNotStored, "not JSON serializable"),
        (return_nul, 1, None, ""),  # stored where the database takes it, else ResultNotStored
        (fail_with_nul, 2, ValueError, r"the third party sent a\x00b"),  # attempts=2
    ],
)
def test_a_task_whose_outcome_cannot_be_stored_as_is_runs_no_more_than_it_should(
    start_worker, tmp_path, task, runs, error, message
):
    """A return is final; an error, its attempts; attempts=3 tasks that returned run once."""
    log = tmp_path / "runs.txt"
    start_worker(dead_after=1)
    result = task.enqueue(str(log))
    wait_for(lambda: finished(result), timeout=15, what="the task's outcome to be stored")
    time.sleep(2)  # twice dead_after: time enough for a recovery or a retry to run it again
    assert log.read_text() == "ran\n" * runs
    result.refresh()
    assert len(result.worker_ids) == runs
    if error is None:
        if result.status == TaskResultStatus.SUCCESSFUL:
            assert result.return_value == "a\x00b"
            return
        error, message = ResultNotStored, "cannot be stored"
    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class is error
    assert message in result.errors[0].traceback
