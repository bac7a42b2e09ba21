"""Delete expired cached pages, and pages stored under an old generation token."""

from django.conf import settings
from django.core.cache import caches
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.timezone import now

from ...middleware import KEY_PREFIX
from ...models import CacheEntry, Generation


class Command(BaseCommand):
    help = (
        "Delete expired rows of the page cache and pages that a change of content made "
        "unreachable. Writes never count or trim the table; this command keeps it small."
    )

    def handle(self, *args, **options):
        cache = caches[settings.PAGE_CACHE_ALIAS]
        entries = CacheEntry.objects.using(cache._connection().alias)
        with transaction.atomic(using=entries.db):
            expired, _ = entries.filter(expires__lte=now()).delete()
            token = Generation.objects.using(entries.db).filter(id=1).first()
            stale = entries.filter(cache_key__startswith=KEY_PREFIX)
            if token is not None:
                stale = stale.exclude(value__startswith=f"{token.token}\n")
            outdated, _ = stale.delete()
        self.stdout.write(f"Deleted {expired} expired and {outdated} outdated cached pages.")
