"""Real workers run tasks once, survive restarts and give dead workers' tasks a new life."""

from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from {{ cookiecutter.project_slug }}.queue.fanout import fan_out

from .conftest import wait_for
from .tasks import add, append_line, sleep_then_return


def finished(result):
    result.refresh()
    return result.is_finished


def started(result):
    result.refresh()
    return result.status == TaskResultStatus.RUNNING


def test_a_worker_runs_a_task_and_keeps_its_result(start_worker):
    start_worker()
    result = add.enqueue(2, 3)
    wait_for(lambda: finished(result), what="the task")
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 5


def test_two_workers_run_each_of_2000_tasks_exactly_once(start_worker, tmp_path):
    log = tmp_path / "runs.txt"
    log.touch()
    start_worker()
    start_worker()
    assert fan_out(append_line, ([str(log), n] for n in range(2000))) == 2000
    wait_for(
        lambda: not DBTaskResult.objects.exclude(status=TaskResultStatus.SUCCESSFUL).exists(),
        timeout=120,
        what="2000 tasks",
    )
    runs = log.read_text().split()
    assert sorted(map(int, runs)) == list(range(2000))
    ran_by = DBTaskResult.objects.values_list("worker_ids", flat=True)
    assert all(len(worker_ids) == 1 for worker_ids in ran_by)
    assert len({worker_ids[0] for worker_ids in ran_by}) == 2, "one worker did it all"


def test_a_task_of_a_killed_worker_completes_under_a_new_worker(start_worker):
    doomed = start_worker(dead_after=3)
    result = sleep_then_return.enqueue(1)
    wait_for(lambda: started(result), what="the task to start")
    doomed.kill()  # SIGKILL: no goodbye, the row stays RUNNING
    start_worker(dead_after=3)
    wait_for(lambda: finished(result), timeout=60, what="the recovered task")
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert len(result.worker_ids) == 2


def test_a_long_task_of_a_live_worker_is_never_run_twice(start_worker):
    start_worker(dead_after=1)
    start_worker(dead_after=1)
    result = sleep_then_return.enqueue(3)  # three times as long as dead_after
    wait_for(lambda: finished(result), what="the long task")
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert len(result.worker_ids) == 1


def test_sigterm_lets_the_running_task_finish(start_worker):
    worker = start_worker()
    result = sleep_then_return.enqueue(1)
    wait_for(lambda: started(result), what="the task to start")
    assert worker.terminate() == 0, worker.output()
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL


def test_an_idle_worker_stops_at_once_on_sigterm(start_worker):
    worker = start_worker()
    assert worker.terminate() == 0, worker.output()
    assert "stopped" in worker.output()


def test_an_idle_worker_wakes_for_a_new_task_at_once(start_worker):
    """Far sooner than the 5 s fallback poll: the database woke it."""
    start_worker()
    delays = []
    for _ in range(3):
        result = add.enqueue(1, 1)
        wait_for(lambda result=result: finished(result), what="the task")
        delays.append((result.started_at - result.enqueued_at).total_seconds())
    assert min(delays) < 1, delays
