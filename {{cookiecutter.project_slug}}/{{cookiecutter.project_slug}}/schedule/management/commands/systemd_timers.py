"""manage.py systemd_timers DIR: write one systemd timer per job of the schedule into DIR."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from ...jobs import SCHEDULE
from ...systemd import render_timers


class Command(BaseCommand):
    help = (
        "Write a systemd timer for each job of the schedule into DIR (such as "
        "/etc/systemd/system) and print the timers' names."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="where the .timer files go")

    def handle(self, *args, directory, **options):
        for name, text in render_timers(schedule=SCHEDULE, time_zone=settings.TIME_ZONE).items():
            (directory / name).write_text(text)
            self.stdout.write(name)
