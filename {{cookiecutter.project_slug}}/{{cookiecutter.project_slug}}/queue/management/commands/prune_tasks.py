"""`manage.py prune_tasks`: delete finished task results older than an age, on every queue.

django-tasks-db's prune_db_task_results prunes the `default` queue unless told otherwise.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tasks_db.models import DBTaskResult


class Command(BaseCommand):
    help = "Delete SUCCESSFUL and FAILED task results older than --days, on every queue."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=14, help="Age in days past which results go (14)."
        )

    def handle(self, *, days, **options):
        cutoff = timezone.now() - timedelta(days=days)
        deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} finished task result(s) older than {days} days.")
