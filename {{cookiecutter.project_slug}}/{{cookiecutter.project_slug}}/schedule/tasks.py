"""Scheduled jobs through the task queue: cron and the clock enqueue, a worker runs."""

from django.tasks import task

from ..queue.fanout import BULK_PRIORITY
from . import jobs


@task
def run_scheduled_job(name):
    """Run the job of the schedule called name, for the time that runjob claimed."""
    {job.name: job for job in jobs.SCHEDULE}[name].run()


def hand_to_worker(*, job):
    """Enqueue job below urgent tasks if a worker should run it; False if not.

    A worker runs the jobs of the schedule, except those marked in_place (the queue's
    own upkeep: a stuck queue would hold that too). A job from elsewhere, which a
    worker cannot look up, runs in place.
    """
    if job.in_place or job not in jobs.SCHEDULE:
        return False
    run_scheduled_job.using(priority=BULK_PRIORITY).enqueue(job.name)
    return True
