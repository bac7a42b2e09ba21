"""manage.py clock: the clock process of the Procfile."""

from django.core.management.base import BaseCommand

from ...clock import run_clock
from ...jobs import SCHEDULE


class Command(BaseCommand):
    help = "Fire each job of the schedule at its times, until SIGTERM."

    def handle(self, *args, **options):
        run_clock(schedule=SCHEDULE)
