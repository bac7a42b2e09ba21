"""manage.py clock: the clock process of the Procfile."""

import signal

from django.core.management.base import BaseCommand

from ...clock import STOP_SIGNALS, start_clock, stop_clock
from ...jobs import SCHEDULE


def run_clock(*, schedule):
    """Fire the jobs of schedule until SIGTERM or Ctrl-C, then let running jobs finish.

    The stop signals are blocked and waited for, not handled: a handler setting an
    Event deadlocks when a second signal lands inside it (a process manager and
    `uv run` often both send SIGTERM). Blocked before the scheduler starts its
    threads, which inherit the mask, so the signals wait for sigwait alone.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    scheduler = start_clock(schedule=schedule)
    signal.sigwait(STOP_SIGNALS)
    stop_clock(scheduler)


class Command(BaseCommand):
    help = "Fire each job of the schedule at its times, until SIGTERM."

    def handle(self, *args, **options):
        run_clock(schedule=SCHEDULE)
