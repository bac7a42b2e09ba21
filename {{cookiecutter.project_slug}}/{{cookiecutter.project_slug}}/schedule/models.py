"""The database guard: the latest scheduled time each job was claimed for.

Machinery the template keeps up to date; your jobs go in schedule/jobs.py.
"""

from django.db import models
from django.utils import timezone


class LastRun(models.Model):
    """One row per job; a clock or cron host runs a job only if it moves scheduled_for on."""

    job = models.CharField(max_length=100, unique=True)
    scheduled_for = models.DateTimeField()
    claimed_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.job} at {self.scheduled_for:%Y-%m-%d %H:%M:%S}"
