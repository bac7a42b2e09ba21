"""manage.py runjob NAME: run one job of the schedule now, as cron or a person would."""

from django.core.management.base import BaseCommand, CommandError

from ...jobs import SCHEDULE
from ...runner import run_job


class Command(BaseCommand):
    help = (
        "Run one job of the schedule for its latest scheduled time, unless a clock, "
        "another cron host or an earlier call already has."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help=", ".join(job.name for job in SCHEDULE))
        parser.add_argument(
            "--force",
            action="store_true",
            help="run it even though its latest scheduled time has already run",
        )

    def handle(self, *args, name, force, **options):
        jobs = {job.name: job for job in SCHEDULE}
        if name not in jobs:
            raise CommandError(f"No job named {name!r}; the schedule has {', '.join(jobs)}.")
        run_job(job=jobs[name], force=force)  # logs whether it ran
