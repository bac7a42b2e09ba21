"""manage.py restore FILE: the live database becomes exactly the backup in FILE."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ...sqlite import BackupError, database_path, restore_database


class Command(BaseCommand):
    help = (
        "Replace the data with exactly a backup's, after checking that it is a sound "
        "database of this site. Stop the site's processes first."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="a file that manage.py backup wrote")

    def handle(self, *args, file, **options):
        try:
            missing = restore_database(file)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Restored {file} into {database_path()}.")
        if missing:
            self.stdout.write(
                f"The backup predates {len(missing)} migration(s) of this code: run migrate."
            )
