"""App configuration: watch every database connection for writes that change content."""

from django.apps import AppConfig
from django.core.signals import setting_changed
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class PageCacheConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.pagecache"
    label = "pagecache"
    verbose_name = "page cache"
    # What this app writes is not content (AppConfig.bookkeeping, read by the cache).
    bookkeeping = ("pagecache",)

    def ready(self):
        from . import invalidation

        connection_created.connect(invalidation.watch_connection)
        post_migrate.connect(invalidation.wipe_after_flush, sender=self)
        setting_changed.connect(invalidation.forget_settings)
