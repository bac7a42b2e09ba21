"""Run a job for its latest scheduled time, once across every clock and cron host.

Machinery the template keeps up to date; your jobs go in schedule/jobs.py.
"""

import logging
import time

from django.db import transaction
from django.utils import timezone

from .models import LastRun
{%- if cookiecutter.task_queue == "database" %}
from .tasks import hand_to_worker
{%- endif %}

logger = logging.getLogger(__name__)


def claim(*, job, scheduled_for):
    """Record that this process runs job for scheduled_for; False if one already has.

    One conditional UPDATE decides, so two clocks or cron hosts racing for the same
    time cannot both win, and a time earlier than one already run is refused: a
    clock back from downtime does not replay what it missed.
    """
    _, created = LastRun.objects.get_or_create(
        job=job.name, defaults={"scheduled_for": scheduled_for}
    )
    if created:
        return True
    moved = LastRun.objects.filter(job=job.name, scheduled_for__lt=scheduled_for).update(
        scheduled_for=scheduled_for, claimed_at=timezone.now()
    )
    return moved == 1


def run_job(*, job, now=None, force=False):
    """Run job now if nobody has run it for its latest scheduled time; True if it ran.

    force runs it for this very moment instead, for a person who wants it run again.
    """
    now = timezone.localtime(now)
    scheduled_for = now if force else job.timetable.latest(now)
    with transaction.atomic():
        if not claim(job=job, scheduled_for=scheduled_for):
            logger.info("%s already ran for %s", job.name, scheduled_for.isoformat())
            return False
{%- if cookiecutter.task_queue == "database" %}
        # Claimed and enqueued in one transaction, or neither.
        if hand_to_worker(job=job):
            logger.info("%s enqueued for %s", job.name, scheduled_for.isoformat())
            return True
{%- endif %}
    started = time.monotonic()
    job.run()
    logger.info(
        "%s ran for %s in %.2f s",
        job.name,
        scheduled_for.isoformat(),
        time.monotonic() - started,
    )
    return True
