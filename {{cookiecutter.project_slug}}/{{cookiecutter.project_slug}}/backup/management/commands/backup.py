"""manage.py backup: a checked copy of the live database in BACKUP_DIR, the newest kept."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ...sqlite import BackupError, backup_database, backup_directory


class Command(BaseCommand):
    help = (
        "Copy the database, while the site runs, to a new timestamped file in BACKUP_DIR, "
        "check it, keep the newest BACKUP_KEEP and print the new file's path."
    )

    def handle(self, *args, **options):
        try:
            path = backup_database(directory=backup_directory(), keep=settings.BACKUP_KEEP)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(str(path))
