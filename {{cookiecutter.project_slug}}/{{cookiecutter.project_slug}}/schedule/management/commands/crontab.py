"""manage.py crontab: print the schedule as a crontab, the file cron installs."""

from django.conf import settings
from django.core.management.base import BaseCommand

from ...crontab import render_crontab
from ...jobs import SCHEDULE


class Command(BaseCommand):
    help = "Print the schedule as a crontab (uv run manage.py crontab > crontab)."

    def handle(self, *args, **options):
        self.stdout.write(
            render_crontab(schedule=SCHEDULE, time_zone=settings.TIME_ZONE), ending=""
        )
