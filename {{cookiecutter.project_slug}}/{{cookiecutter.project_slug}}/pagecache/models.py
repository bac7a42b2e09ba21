"""The page cache's two tables, created by migrate like any other."""

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
    """The one row whose token changes in every transaction that changes content.

    A cached page is served only while the token it was stored with is the current one.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=32)

    class Meta:
        db_table = "page_cache_generation"

    def __str__(self):
        return self.token
