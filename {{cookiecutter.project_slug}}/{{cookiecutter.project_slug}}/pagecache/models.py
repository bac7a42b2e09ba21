"""The page cache's two tables, created by migrate like any other.

Machinery the template keeps up to date; tune it with the PAGE_CACHE_ settings in
config/settings.py.
"""

from django.db import models


class CacheEntry(models.Model):
    """One cached page: the table layout of Django's DatabaseCache (createcachetable)."""

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "page_cache"
        verbose_name_plural = "cache entries"

    def __str__(self):
        return self.cache_key


class Generation(models.Model):
    """One counter per database session; the generation token is their sum.

    Every transaction that changes content adds 1 to its own session's counter
    (a database server's session id; 0 on SQLite), so no two open transactions share a row.
    A cached page is served only while the sum it was stored with is the current one.
    """

    slot = models.BigIntegerField(primary_key=True)
    count = models.BigIntegerField()

    class Meta:
        db_table = "page_cache_generation"

    def __str__(self):
        return f"{self.slot}: {self.count}"
