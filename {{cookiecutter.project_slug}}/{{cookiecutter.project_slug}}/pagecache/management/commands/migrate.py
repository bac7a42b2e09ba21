"""Django's migrate, which leaves no cached page from before it, however it ends."""

import contextlib

from django.core.management.commands import migrate
from django.db import DatabaseError

from ...invalidation import pause, wipe_after_schema_change


class Command(migrate.Command):
    def handle(self, *args, **options):
        pause(True)  # the token's table may be missing or changing until migrate ends
        try:
            result = super().handle(*args, **options)
        except BaseException:
            pause(False)
            with contextlib.suppress(DatabaseError):  # the error that stopped migrate says more
                wipe_after_schema_change()
            raise
        pause(False)
        wipe_after_schema_change()
        return result

    def migration_progress_callback(self, action, migration=None, fake=False):
        """After each migration commits: pages rendered before it must not outlive it."""
        super().migration_progress_callback(action, migration, fake)
        if action in {"apply_success", "unapply_success"} and not fake:
            wipe_after_schema_change()
