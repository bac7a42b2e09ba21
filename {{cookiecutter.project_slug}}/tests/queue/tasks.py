"""Tasks that the tests enqueue and real workers run."""

import time
from pathlib import Path

from django.tasks import task


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
