"""A task's time limit: SIGALRM in the task's thread, and faulthandler past it.

Machinery the template keeps up to date; your tasks go in your apps' tasks.py, as
queue/tasks.py shows.
"""

import faulthandler
import signal
from contextlib import contextmanager

from django.conf import settings

from .threads import signals_left_to_the_main_thread


class TimeLimitExceeded(BaseException):
    """The task ran past its time limit; a BaseException, so that `except Exception` in the
    task cannot swallow it."""


@contextmanager
def time_limit(seconds):
    """Stop the task in the main thread after `seconds`, and end the process a tenth later.

    SIGALRM raises TimeLimitExceeded where the task's Python code runs. Code that never
    returns to Python (a hang inside a C extension) cannot be stopped there: then
    faulthandler's own thread, which needs no Python, prints every thread's stack and
    ends the process; the task counts as one whose worker died.
    """

    def stop(signum, frame):
        raise TimeLimitExceeded(f"The task ran past its time limit of {seconds:g} s.")

    previous = signal.signal(signal.SIGALRM, stop)
    with signals_left_to_the_main_thread():  # faulthandler's own thread starts here
        faulthandler.dump_traceback_later(seconds + max(seconds / 10, 1), exit=True)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)


def time_limit_of(task):
    if hasattr(task, "time_limit_seconds"):
        return task.time_limit_seconds()
    return settings.TASK_TIME_LIMIT  # a task of another backend class
