"""The worker keeps the clock: the schedule's jobs fire in threads of the worker process.

Each job is on time while a long task runs, and a worker's SIGTERM lets a running job
finish as it does a task. queue/worker.py starts this module with the worker.
"""

from functools import partial

from .clock import start_clock, stop_clock
from .jobs import SCHEDULE


def start():
    """Start firing the schedule's jobs; returns what stops them once running jobs finish."""
    return partial(stop_clock, start_clock(schedule=SCHEDULE))
