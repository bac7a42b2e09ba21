"""The clock{{ "" if cookiecutter.task_queue == "database" else " process" }}: fires each job of the schedule at its times{{ ", in threads of the worker" if cookiecutter.task_queue == "database" else " until SIGTERM" }}."""

import logging
import signal
from datetime import UTC, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from .runner import run_job

logger = logging.getLogger(__name__)

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


class TimetableTrigger(BaseTrigger):
    """Fire at the times of a job's timetable, as runjob reads them (daylight saving too)."""

    def __init__(self, timetable):
        self.timetable = timetable

    def get_next_fire_time(self, previous_fire_time, now):
        # The first time after the previous one, or at or after now; cronsim drops
        # the fraction of a second, then looks from the next whole second on.
        after = previous_fire_time or now.astimezone(UTC) - timedelta(microseconds=1)
        return self.timetable.next(timezone.localtime(after))


def trigger_for(*, job):
    """APScheduler's trigger for a job's timetable."""
    return TimetableTrigger(job.timetable)


def fire(*, job):
    """Run a job on a database connection that works, as Django does for a request.

    A database restart kills the connection a thread kept open; without this the
    clock would fail every job from then on while looking alive.
    """
    close_old_connections()
    try:
        run_job(job=job)
    finally:
        close_old_connections()


# Blocked in the clock's threads: the stop signals (SIGQUIT too, which a worker handles)
# and a task's time limit must reach the main thread, which they interrupt wherever it
# waits; Linux hands a signal only to a thread that does not block it.
THREAD_BLOCKED = {*STOP_SIGNALS, signal.SIGQUIT, signal.SIGALRM}


def start_clock(*, schedule):
    """Start firing the jobs of schedule in the background; returns what stop_clock takes.

    The scheduler's thread starts with THREAD_BLOCKED blocked, and the threads that
    run the jobs, started from it, inherit that; the caller's own mask is restored.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, THREAD_BLOCKED)
    try:
        scheduler = BackgroundScheduler(
            timezone=settings.TIME_ZONE,
            # After a stall, run a job once, however late, and never once per time missed.
            job_defaults={"coalesce": True, "misfire_grace_time": None},
        )
        for job in schedule:
            trigger = trigger_for(job=job)
            scheduler.add_job(fire, trigger, kwargs={"job": job}, id=job.name, name=job.name)
        scheduler.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    logger.info("clock started: %s", ", ".join(f"{j.name} ({j.cron})" for j in schedule))
    return scheduler


def stop_clock(scheduler):
    """Fire nothing more, and return once the running jobs have finished."""
    logger.info("clock stopping: letting running jobs finish")
    scheduler.shutdown(wait=True)
    logger.info("clock stopped")
