"""Real workers run tasks once, survive restarts and give dead workers' tasks a new life."""

import random
import signal
import statistics
import time
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from {{ cookiecutter.project_slug }}.queue.fanout import fan_out
from {{ cookiecutter.project_slug }}.queue.models import Worker

from ..support import wait_for
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


def test_a_task_of_a_killed_worker_goes_back_within_the_stated_bounds(start_worker):
    """Back in the queue 5/6 to 7/6 of TASK_WORKER_DEAD_AFTER after its worker's death."""
    dead_after = 3
    start_worker(dead_after=dead_after, args=["--queue-name", "elsewhere"])  # recovers only
    doomed = start_worker(dead_after=dead_after)
    result = sleep_then_return.enqueue(30)
    wait_for(lambda: Worker.objects.filter(task_id=result.id).exists(), what="a beat naming it")
    doomed.kill()  # SIGKILL: no goodbye, the row stays RUNNING
    killed = time.monotonic()
    wait_for(lambda: result.refresh() or result.status == TaskResultStatus.READY, what="recovery")
    again = time.monotonic() - killed
    beat = dead_after / 6  # the last beat came at most this long before the kill
    # The README's bounds, and 1.5 s more for a loaded machine.
    assert dead_after - beat - 0.2 <= again <= dead_after + beat + 1.5, again
    assert len(result.worker_ids) == 1  # the rescuer runs no queue of this task's


def test_a_long_task_of_a_live_worker_is_never_run_twice(start_worker):
    # dead_after long enough that a loaded machine's stall is not taken for a death
    start_worker(dead_after=3)
    start_worker(dead_after=3)
    result = sleep_then_return.enqueue(6)  # twice as long as dead_after
    wait_for(lambda: finished(result), what="the long task")
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert len(result.worker_ids) == 1


def test_sigterm_lets_the_running_task_finish_then_exits(start_worker):
    worker = start_worker()
    result = sleep_then_return.enqueue(1)
    wait_for(lambda: started(result), what="the task to start")
    start = time.monotonic()
    assert worker.terminate() == 0, worker.output()
    assert time.monotonic() - start < 1 + 9  # the task's second, then well before a fallback look
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL


def test_a_second_sigterm_fails_the_running_task(start_worker):
    worker = start_worker()
    result = sleep_then_return.enqueue(30)
    wait_for(lambda: started(result), what="the task to start")
    worker.process.send_signal(signal.SIGTERM)
    wait_for(lambda: "shutting down gracefully" in worker.output(), what="the first SIGTERM")
    start = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)
    worker.process.wait(timeout=10)
    assert time.monotonic() - start < 10  # not the 30 s the task would sleep
    result.refresh()
    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class is SystemExit


def blocked_signals(pid, tid):
    """The signals a thread of process pid blocks, read from its SigBlk mask."""
    status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
    (mask,) = [int(line.split()[1], 16) for line in status.splitlines() if line[:7] == "SigBlk:"]
    return {number for number in signal.valid_signals() if mask >> (int(number) - 1) & 1}


def test_only_the_main_thread_takes_the_signals_that_stop_a_task(start_worker):
    """Else Linux may hand a SIGTERM to the heartbeat's thread, say, and a task asleep
    in C runs to its end before Python sees it (the second SIGTERM above then fails)."""
    worker = start_worker()
    result = sleep_then_return.enqueue(30)
    wait_for(lambda: started(result), what="the task to start")
    pid = worker.process.pid
    threads = Path(f"/proc/{pid}/task")
    # The main thread, the heartbeat's, and faulthandler's for the task's time limit.
    wait_for(lambda: len(list(threads.iterdir())) >= 3, what="the worker's threads")
    stopping = {signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGALRM}
    # glibc blocks every signal in a thread for the instant it starts another one.
    wait_for(lambda: not stopping & blocked_signals(pid, pid), what="the main thread to take them")
    for thread in threads.iterdir():
        if int(thread.name) != pid:
            name = (thread / "comm").read_text().strip()
            assert stopping <= blocked_signals(pid, thread.name), f"thread {thread.name} ({name})"


def test_an_idle_worker_stops_at_once_on_sigterm(start_worker):
    worker = start_worker()
    time.sleep(0.5)  # idle, waiting for a task
    start = time.monotonic()
    assert worker.terminate() == 0, worker.output()
    assert time.monotonic() - start < 10  # not at the next fallback look, 30 s away
    assert "stopped" in worker.output()


def test_an_idle_worker_wakes_for_each_new_task_at_once(start_worker):
    """Each pickup far sooner than the fallback look, or than any 1 s poll would give."""
    start_worker()
    time.sleep(1)
    delays = []
    for _ in range(25):
        time.sleep(random.uniform(0.05, 0.4))  # noqa: S311 (gaps, not secrets)
        result = add.enqueue(1, 1)
        wait_for(lambda result=result: finished(result), what="the task")
        delays.append((result.started_at - result.enqueued_at).total_seconds())
    # A 1 s poll puts a fifth of pickups under 0.2 s: 20 of 25 there is one run in 5 billion.
    # One stall of a loaded machine is forgiven; a poll is not.
    assert sum(delay < 0.2 for delay in delays) >= 20, delays
    assert statistics.median(delays) < 0.1, delays


def test_no_worker_sees_an_enqueue_before_commit(start_worker):
    start_worker()
    with transaction.atomic():
        result = add.enqueue(1, 1)
        time.sleep(1)  # ten times the pickup bound above
        committing = timezone.now()
    wait_for(lambda: finished(result), what="the task after commit")
    # A worker that saw the row before the commit would have started it a second
    # before this; one woken by the commit starts it after (a worker may well start it
    # before this process reads the clock again once the commit returns).
    assert result.started_at >= committing - timedelta(milliseconds=100)
