"""Forget every cached page, after a change the cache could not see."""

from django.core.management.base import BaseCommand

from ...invalidation import wipe_after_schema_change


class Command(BaseCommand):
    help = (
        "Forget every cached page. Run it after changing data outside Django (a database "
        "shell, another program): the cache sees only writes made through Django."
    )

    def handle(self, *args, **options):
        wipe_after_schema_change()
        self.stdout.write("Every cached page is gone.")
