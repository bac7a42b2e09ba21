"""The worker's own threads leave its signals to the main thread.

Machinery the template keeps up to date; your tasks go in your apps' tasks.py, as
queue/tasks.py shows.

The signals that stop a worker (SIGTERM, SIGINT, SIGQUIT: the stock worker handles
them) and a task's time limit (SIGALRM) must interrupt the task where it runs, in the
main thread. Linux may hand a signal sent to the process to any thread that does not
block it, and Python then runs the handler only when the main thread next runs Python
code: a task asleep in C (time.sleep, a socket read) would finish its whole wait first.
So every other thread blocks them from its start.
"""

import signal
from contextlib import contextmanager

MAIN_THREAD_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGALRM})


@contextmanager
def signals_left_to_the_main_thread():
    """Threads started inside block MAIN_THREAD_SIGNALS (a new thread inherits the mask)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, MAIN_THREAD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
