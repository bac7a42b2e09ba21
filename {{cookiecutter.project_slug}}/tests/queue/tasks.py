"""Tasks that the tests enqueue and real workers run."""

import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

from django.tasks import task

from {{ cookiecutter.project_slug }}.queue import heartbeat


@task
def add(a, b):
    return a + b


@task
def append_line(item):
    """Write one line per run, so that a test can count how often each item ran."""
    path, value = item
    with Path(path).open("a") as file:
        file.write(f"{value}\n")
    return value


@task
def sleep_then_return(seconds):
    time.sleep(seconds)
    return seconds


@task(attempts=3, backoff=0.2)
def always_fail():
    raise RuntimeError("the third party said no")


def nothing():
    """A plain function, for tests that decorate it themselves."""


def note_run(path):
    """Add a line to the file at path: a test counts the lines to count the runs."""
    with Path(path).open("a") as file:
        file.write("ran\n")


@task
def exit_process():
    """End the worker's process as an out-of-memory kill would: no exception, no cleanup."""
    os._exit(1)


@task(attempts=3, backoff=0.1)
def return_datetime(path):
    note_run(path)
    return datetime.now(tz=UTC)


@task(attempts=3, backoff=0.1)
def return_nul(path):
    note_run(path)
    return "a\x00b"


@task(attempts=2, backoff=0.1)
def fail_with_nul(path):
    note_run(path)
    raise ValueError("the third party sent a\x00b")


@task(attempts=2, backoff=0.1, time_limit=0.5)
def sleep_past_limit(path):
    note_run(path)
    time.sleep(30)


@task(time_limit=0.5, attempts=1)
def hang_out_of_reach():
    """Hang where the time limit's signal cannot reach, as C code that never returns."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(30)


@task
def append_line_slowly(item):
    time.sleep(0.25)
    return append_line.call(item)


@task
def heartbeat_break(path, seconds):
    """Make this worker's next heartbeat raise an error no database raises, then sleep."""
    original = heartbeat.worker_beat

    def broken(**kwargs):
        heartbeat.worker_beat = original
        raise ZeroDivisionError("not a database error")

    heartbeat.worker_beat = broken
    time.sleep(seconds)
    note_run(path)
